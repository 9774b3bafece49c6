/**
 * The plain fetch loop: Deno's `fetch` POSTing pre-built bodies (the
 * importer's `--dry-run` output) at a fixed concurrency, with the importer's
 * retry policy and headers and nothing else — the yardstick the importer is
 * measured against. `bench/run.ts` runs it with the importer's V8 flags.
 *
 * ```sh
 * deno run -A bench/plain_fetch.ts --url http://127.0.0.1:9009/movies \
 *   --bodies out/bench/movies-100000-s42.bodies.jsonl --concurrency 16
 * ```
 *
 * @module
 */

import { noteError, plainMain, type PlainSend } from "./_plain.ts";

/**
 * A sender: one `fetch` per attempt, the answer's body read to the end so
 * the connection goes back to the pool.
 *
 * @example
 * ```ts ignore
 * import { fetchSender } from "./plain_fetch.ts";
 * const send = fetchSender("http://127.0.0.1:9009/movies", ['{"title":"x"}']);
 * send(0, (status) => console.log(status));
 * ```
 */
export function fetchSender(url: string, bodies: string[]): PlainSend {
  return (i, done) => {
    const fail = (error: unknown) => {
      noteError(error);
      done(0);
    };
    fetch(url, {
      method: "POST",
      body: bodies[i],
      headers: {
        "content-type": "application/json",
        "idempotency-key": `plain-${i}`,
      },
    }).then(
      (res) => res.arrayBuffer().then(() => done(res.status), fail),
      fail,
    );
  };
}

if (import.meta.main) {
  await plainMain((args, bodies) => fetchSender(args.url, bodies));
}
