/**
 * One attempt to POST one JSON body: the answer, or what went wrong below
 * HTTP, as a value — never an exception (except a missing permission, which
 * is the operator's to fix).
 *
 * @module
 */

import type { Attempt, NetworkError } from "./retry.ts";

/** Options for {@link Poster}. */
export interface PostOptions {
  /** Give up on an answer after this many ms. @default 10000 */
  timeoutMs?: number;
  /** The client to send with (connection pool). @default Deno's shared client */
  client?: Deno.HttpClient;
}

/** Sends one body to a URL with an `Idempotency-Key`; {@link Poster.post} is one. */
export type Send = (
  url: string,
  body: string,
  idempotencyKey: string,
) => Promise<Attempt>;

/**
 * Names a failed fetch by the runtime's message: refused, reset, timeout,
 * dns or other.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkError } from "./post.ts";
 * assert.ok(networkError("tcp connect error: Connection refused (os error 111)") === "refused");
 * ```
 */
export function networkError(message: string): NetworkError {
  const m = message.toLowerCase();
  if (m.includes("connection refused")) return "refused";
  if (m.includes("dns error") || m.includes("failed to lookup")) return "dns";
  if (m.includes("timed out") || m.includes("timeout")) return "timeout";
  if (
    m.includes("reset") || m.includes("connection closed") ||
    m.includes("broken pipe") || m.includes("incomplete") ||
    m.includes("unexpected eof") || m.includes("aborted")
  ) return "reset";
  return "other";
}

/**
 * POSTs JSON bodies and reads the answers. Keep-alive comes from the
 * client's connection pool. Redirects are not followed (a POST redirected to
 * GET would lose the movie): a 3xx is reported as it is.
 *
 * Timeouts share one sweeping timer instead of a timer per request (a timer
 * per request costs about a tenth of the throughput); the sweep runs only
 * while requests are in flight, every quarter of the timeout (at most 250 ms),
 * so a request is aborted within 1.25 × its timeout at the latest.
 *
 * @example
 * ```ts ignore
 * import { Poster } from "./post.ts";
 * const poster = new Poster({ timeoutMs: 5000 });
 * const attempt = await poster.post("http://localhost:9009/movies", '{"title":"x"}');
 * console.log(attempt.kind === "response" ? attempt.status : attempt.error);
 * ```
 */
export class Poster {
  readonly #timeoutMs: number;
  readonly #client: Deno.HttpClient | undefined;
  readonly #deadlines = new Map<AbortController, number>();
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: PostOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#client = options.client;
  }

  /** POSTs one body; the `Idempotency-Key` header is sent when given. */
  async post(
    url: string,
    body: string,
    idempotencyKey?: string,
  ): Promise<Attempt> {
    const controller = new AbortController();
    this.#deadlines.set(controller, Date.now() + this.#timeoutMs);
    this.#startSweep();
    const headers: [string, string][] = [["content-type", "application/json"]];
    if (idempotencyKey) headers.push(["idempotency-key", idempotencyKey]);
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        headers,
        redirect: "manual",
        signal: controller.signal,
        client: this.#client,
      });
      const text = await response.text();
      return {
        kind: "response",
        status: response.status,
        body: text,
        retryAfter: response.headers.get("retry-after"),
      };
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      if (controller.signal.aborted) {
        return { kind: "network", error: "timeout", message: "timed out" };
      }
      const e = error as Error & { cause?: Error };
      const message = e.cause?.message ?? e.message;
      return { kind: "network", error: networkError(message), message };
    } finally {
      this.#deadlines.delete(controller);
      if (this.#deadlines.size === 0) this.close();
    }
  }

  /** Stops the timeout sweep (it restarts with the next request). */
  close(): void {
    if (this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    const every = Math.max(1, Math.min(250, this.#timeoutMs / 4));
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [controller, deadline] of this.#deadlines) {
        if (now >= deadline) controller.abort();
      }
    }, every);
  }
}
