/**
 * One attempt to POST one JSON body: the answer, or what went wrong below
 * HTTP, as a value given to a callback — never an exception.
 *
 * The client is undici's connection pool, driven through its dispatcher
 * (no promise, stream or `AbortController` per request), because:
 * - Deno's `fetch` silently sends a POST again when the connection closes
 *   before an answer and the body is a string (denoland/deno#35610): a row
 *   stored by the service would be stored twice, unseen. undici never
 *   re-sends a POST; the failure comes back here, marked as sent.
 * - it says when the request was written (`onRequestSent`), so a failure
 *   after that is *ambiguous* (the service may have stored the row) and a
 *   failure before it is not;
 * - its per-request header and body timeouts replace a timer or an
 *   `AbortController` per request;
 * - a 2xx answer's body is not read into a string.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Pool } from "./_client_deps.ts";
import type { Attempt, NetworkError } from "./retry.ts";

/** Options for {@link createPoster}. */
export interface PosterOptions {
  /** Where every body is POSTed. */
  url: string;
  /** Give up on an answer this long after sending, ms. @default 10000 */
  timeoutMs?: number;
  /** Connections at most (the pool's size). @default 16 */
  connections?: number;
  /**
   * Close a kept-alive connection idle this long, ms: below the service's
   * own idle timeout (Go closes after 2 s), so a connection it is closing
   * is never reused. @default 1000
   */
  idleMs?: number;
  /** Give up connecting after this long, ms. @default 10000 */
  connectTimeoutMs?: number;
}

/** What to call with an attempt's outcome. */
export type AttemptCallback = (attempt: Attempt) => void;

/** Sends bodies; see {@link createPoster}. */
export interface Poster {
  /**
   * POSTs one body with its `Idempotency-Key`; `done` is called exactly
   * once. Returns a function that aborts the request.
   */
  post(body: string, key: string, done: AttemptCallback): () => void;
  /** Closes the connections (requests in flight are aborted). */
  close(): Promise<void>;
}

/** The most of an error answer's body kept (the service's message). */
const MAX_BODY = 4096;

/** undici error codes → what went wrong. */
const CODES: Record<string, NetworkError> = {
  ECONNREFUSED: "refused",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  UND_ERR_SOCKET: "reset",
  ECONNRESET: "reset",
  EPIPE: "reset",
  UND_ERR_CLOSED: "reset",
  UND_ERR_ABORTED: "aborted",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
};

/**
 * Names a failed request: refused, reset, timeout, dns, aborted or other,
 * from an error's `code` (or its cause's) and, failing that, its message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkError } from "./post.ts";
 * assert.equal(networkError({ code: "ECONNREFUSED", message: "" }), "refused");
 * assert.equal(networkError({ code: "UND_ERR_SOCKET", message: "other side closed" }), "reset");
 * assert.equal(networkError({ message: "connect ETIMEDOUT" }), "timeout");
 * ```
 */
export function networkError(
  error: { code?: string; message?: string; cause?: unknown },
): NetworkError {
  const cause = error.cause as { code?: string; name?: string } | undefined;
  if (
    (error as { name?: string }).name === "NotCapable" ||
    cause?.name === "NotCapable"
  ) {
    return "permission";
  }
  const code = error.code ?? cause?.code ?? "";
  if (code in CODES) return CODES[code];
  const m = (error.message ?? "").toLowerCase();
  if (m.includes("refused")) return "refused";
  if (m.includes("timed out") || m.includes("timeout")) return "timeout";
  if (m.includes("etimedout")) return "timeout";
  if (m.includes("reset") || m.includes("closed")) return "reset";
  return "other";
}

/** The headers undici gives as raw [name, value, …] buffers: one value by name. */
function header(raw: unknown[] | null, name: string): string | null {
  if (raw === null) return null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (String(raw[i]).toLowerCase() === name) return String(raw[i + 1]);
  }
  return null;
}

/** One request's handler (undici's dispatcher interface). */
class Exchange {
  status = 0;
  sent = false;
  retryAfter: string | null = null;
  chunks: Uint8Array[] | null = null;
  size = 0;
  abort: ((reason?: Error) => void) | null = null;
  finished = false;

  constructor(readonly done: AttemptCallback) {}

  onConnect(abort: (reason?: Error) => void): void {
    this.abort = abort;
    if (this.finished) abort(); // cancelled while it waited for a connection
  }

  /** Aborts the request: at once if it is not written yet (then it never is). */
  cancel(): void {
    if (this.abort !== null) return this.abort();
    if (this.finished) return;
    this.finished = true;
    this.done({
      kind: "network",
      error: "aborted",
      message: "aborted before it was sent",
      sent: false,
    });
  }

  onRequestSent(): void {
    this.sent = true;
  }

  onHeaders(status: number, raw: unknown[] | null): boolean {
    this.status = status;
    this.sent = true;
    if (status < 200 || status >= 300) {
      this.chunks = [];
      this.retryAfter = header(raw, "retry-after");
    }
    return true;
  }

  onData(chunk: Uint8Array): boolean {
    if (this.chunks !== null && this.size < MAX_BODY) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    return true;
  }

  onComplete(): void {
    if (this.finished) return;
    this.finished = true;
    const body = this.chunks === null ? "" : new TextDecoder().decode(
      Buffer.concat(this.chunks).subarray(0, MAX_BODY),
    );
    const retryAfter = this.retryAfter;
    this.done({ kind: "response", status: this.status, body, retryAfter });
  }

  onError(error: Error & { code?: string }): void {
    if (this.finished) return;
    this.finished = true;
    const kind = networkError(error);
    const sent = kind === "refused" || kind === "dns" ? false : this.sent;
    const message = (error.cause as Error | undefined)?.message ??
      error.message;
    this.done({ kind: "network", error: kind, message, sent });
  }

  onUpgrade(): void {}
}

/**
 * A poster for one URL over a pool of kept-alive connections. Redirects
 * are not followed (a POST redirected to a GET would lose the movie): a 3xx
 * is reported as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPoster } from "./post.ts";
 * import type { Attempt } from "./retry.ts";
 * const server = Deno.serve({ port: 0, onListen() {} }, () => new Response(null, { status: 201 }));
 * const poster = createPoster({ url: `http://127.0.0.1:${server.addr.port}/movies` });
 * const attempt = await new Promise<Attempt>((done) => poster.post('{"title":"x"}', "k-1", done));
 * assert.ok(attempt.kind === "response" && attempt.status === 201);
 * await poster.close();
 * await server.shutdown();
 * ```
 */
export function createPoster(options: PosterOptions): Poster {
  const url = new URL(options.url);
  const timeout = options.timeoutMs ?? 10_000;
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 16,
    pipelining: 1,
    keepAliveTimeout: options.idleMs ?? 1000,
    keepAliveMaxTimeout: options.idleMs ?? 1000,
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
  });
  const path = url.pathname + url.search;
  return {
    post(body, key, done) {
      const exchange = new Exchange(done);
      pool.dispatch({
        path,
        method: "POST",
        body,
        headers: [
          "content-type",
          "application/json",
          "idempotency-key",
          key,
        ],
        headersTimeout: timeout,
        bodyTimeout: timeout,
        // deno-lint-ignore no-explicit-any
      }, exchange as any);
      return () => exchange.cancel();
    },
    async close() {
      await pool.destroy().catch(() => {});
    },
  };
}
