/**
 * The plain undici loop: `Pool.dispatch` of undici with a minimal handler
 * (status kept, body chunks dropped), POSTing pre-built bodies at a fixed
 * concurrency with the importer's retry policy and headers — the second
 * yardstick (the client the importer is moving to).
 *
 * ```sh
 * deno run -A bench/plain_undici.ts --url http://127.0.0.1:9009/movies \
 *   --bodies out/bench/movies-100000-s42.bodies.jsonl --concurrency 16
 * ```
 *
 * @module
 */

import { Pool } from "./_deps.ts";
import { noteError, plainMain, type PlainSend } from "./_plain.ts";

/** The least a dispatch handler can be: remember the status, report it once. */
class StatusHandler {
  status = 0;
  constructor(readonly done: (status: number) => void) {}
  onRequestStart(): void {}
  onResponseStart(_controller: unknown, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(): void {}
  onResponseEnd(): void {
    this.done(this.status);
  }
  onResponseError(_controller: unknown, error: Error): void {
    noteError(error);
    this.done(0);
  }
}

/**
 * A sender over one undici `Pool` of `connections` keep-alive connections
 * to the URL's origin.
 *
 * @example
 * ```ts ignore
 * import { undiciSender } from "./plain_undici.ts";
 * const send = undiciSender("http://127.0.0.1:9009/movies", ['{"title":"x"}'], 16);
 * send(0, (status) => console.log(status));
 * ```
 */
export function undiciSender(
  url: string,
  bodies: string[],
  connections: number,
): PlainSend {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections });
  return (i, done) => {
    pool.dispatch({
      method: "POST",
      path: pathname,
      body: bodies[i],
      headers: [
        "content-type",
        "application/json",
        "idempotency-key",
        `plain-${i}`,
      ],
    }, new StatusHandler(done));
  };
}

if (import.meta.main) {
  await plainMain((args, bodies) =>
    undiciSender(args.url, bodies, args.concurrency)
  );
}
