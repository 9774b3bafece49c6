/**
 * The sink's request handling: routes, the POST steps of the real service
 * in their order, the optional faults, and one log line per request.
 *
 * Routes (as the real service, plus the `/_sink/` control routes, which
 * have two segments and so can never be a `/{key}` of the original):
 *
 * | request | answer |
 * | --- | --- |
 * | any method `/metrics` | Prometheus text |
 * | `GET /{key}` | `200`, `[]\n` |
 * | `POST /{key}` | `201` / `400` / `500` / `503` (+ `429` and drops when set) |
 * | other method on `/{key}` | `405`, `unsupported method: PUT\n` |
 * | `POST /_sink/reset` | `204`: counters, store, keys, faults as after a restart |
 * | `GET /_sink/movies` | `200`, the stored movies as a JSON array (`404` when not storing) |
 * | anything else | `404`, `404 page not found\n` |
 *
 * @module
 */

import { sleep } from "./_shared.ts";
import type { Faults } from "./faults.ts";
import { BodyTimeoutError, type Exchange } from "./relay.ts";
import { decodeFilm } from "./go_json.ts";
import { formatLogLine } from "./log.ts";
import type { SinkMetrics } from "./metrics.ts";
import { validateFilm } from "./rules.ts";
import type { MovieStore } from "./store.ts";

/**
 * What the handler works with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HandlerDeps } from "./handler.ts";
 * const log: HandlerDeps["log"] = (line) => console.log(line);
 * assert.equal(typeof log, "function");
 * ```
 */
export interface HandlerDeps {
  /** The counters. */
  metrics: SinkMetrics;
  /** The fault decisions. */
  faults: Faults;
  /** The accepted movies and idempotency keys. */
  store: MovieStore;
  /** Honour `Idempotency-Key`. */
  idempotency: boolean;
  /** `Retry-After` of 429 answers, seconds. */
  retryAfterSeconds: number;
  /** Delay of the slow answers, ms. */
  slowMs: number;
  /** The clock (year rule, down window). */
  now: () => Date;
  /** The log time of the clock, RFC 3339. */
  time: () => string;
  /** Where log lines go; null for no logging. */
  log: ((line: string) => void) | null;
  /** Aborted when the sink closes: pending delays end at once. */
  signal: AbortSignal;
  /**
   * The connection of a request, by the handler's remote port, when the
   * sink runs behind its relay (timeouts or connection faults); null
   * otherwise.
   */
  exchange: ((remotePort: number) => Exchange | undefined) | null;
  /** Resets the whole sink (`POST /_sink/reset`). */
  reset: () => void;
}

/**
 * A `Deno.serve` handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SinkHandler } from "./handler.ts";
 * const teapot: SinkHandler = () => new Response(null, { status: 418 });
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, teapot);
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * await res.body?.cancel();
 * assert.equal(res.status, 418);
 * await server.shutdown();
 * ```
 */
export type SinkHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** `http.Error`'s headers. */
const TEXT_HEADERS = {
  "content-type": "text/plain; charset=utf-8",
  "x-content-type-options": "nosniff",
};
/** What Go's content sniffing says about `[]\n`. */
const SNIFFED_TEXT = { "content-type": "text/plain; charset=utf-8" };
const JSON_HEADERS = { "content-type": "application/json" };
const NOT_FOUND = "404 page not found\n";

const lossy = new TextDecoder();

/** The path of an absolute request URL, without its query. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** Whether the path is one non-empty segment, like Go's `/{key}`. */
function isKeyPath(path: string): boolean {
  return path.length > 1 && path.indexOf("/", 1) < 0;
}

/**
 * Creates the handler of one sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHandler } from "./handler.ts";
 * import { createMetrics } from "./metrics.ts";
 * import { createFaults } from "./faults.ts";
 * import { createStore } from "./store.ts";
 * const handle = createHandler({
 *   metrics: createMetrics(),
 *   faults: createFaults({
 *     failRate: 0, latencyMs: 0, jitterMs: 0, rate429: 0, dropRate: 0,
 *     storeDropRate: 0, slowRate: 0, downAfter: 0, downSeconds: 0,
 *   }),
 *   store: createStore({ keep: false }),
 *   idempotency: false, retryAfterSeconds: 1, slowMs: 0,
 *   now: () => new Date(), time: () => "", log: null,
 *   signal: new AbortController().signal, exchange: null, reset: () => {},
 * });
 * const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as Deno.ServeHandlerInfo<Deno.NetAddr>;
 * const res = await handle(new Request("http://sink/movies", { method: "POST", body: '{"title":""}' }), info);
 * assert.equal(res.status, 400);
 * assert.equal(await res.text(), "title is required\n");
 * ```
 */
export function createHandler(deps: HandlerDeps): SinkHandler {
  const { metrics, faults, store, log, signal, now, time } = deps;
  const { idempotency, slowMs } = deps;
  const retryHeaders = {
    ...TEXT_HEADERS,
    "retry-after": String(deps.retryAfterSeconds),
  };

  const logLine = (
    level: "info" | "error",
    method: string,
    msg: string,
    path: string,
    body?: Uint8Array,
    error?: string,
  ) => {
    if (log === null) return;
    log(formatLogLine({
      level,
      method,
      msg,
      path,
      body: body === undefined ? undefined : lossy.decode(body),
      error,
      time: time(),
    }));
  };

  /** `http.Error`: the message and a newline, as text. */
  const refuse = (
    status: number,
    method: string,
    path: string,
    error: string,
    body?: Uint8Array,
  ): Response => {
    logLine("error", method, `return ${status}`, path, body, error);
    return new Response(error + "\n", { status, headers: TEXT_HEADERS });
  };

  /** Step 2: the body, or the answer when reading it failed. */
  const readBody = async (
    request: Request,
    exchange: Exchange | undefined,
    path: string,
  ): Promise<Uint8Array | Response> => {
    try {
      return await (exchange?.readBody(request) ?? request.bytes());
    } catch (error) {
      metrics.countPost(500);
      const message = String((error as Error)?.message);
      const answer = refuse(500, "POST", path, message);
      if (!(error instanceof BodyTimeoutError) || exchange === undefined) {
        return answer;
      }
      // Go answers, then closes: the rest of the body is not read. Unless
      // the write timeout passed too (when it is the shorter one).
      if (exchange.late()) {
        metrics.countTimeout("write");
        exchange.drop();
      } else {
        exchange.answerAndClose(goErrorAnswer(500, message, now()));
      }
      return NO_ANSWER();
    }
  };

  const post = async (
    request: Request,
    exchange: Exchange | undefined,
    path: string,
  ): Promise<Response> => {
    const delay = faults.delayMs();
    if (delay > 0) await sleep(delay, signal);
    const date = now();
    // 1. outages, before the body is read
    if (faults.down(date.getTime()) || faults.outage()) {
      metrics.countPost(503);
      logLine("error", "POST", "return 503", path);
      return new Response(null, { status: 503 });
    }
    if (faults.tooMany()) {
      metrics.countPost(429);
      logLine("error", "POST", "return 429", path);
      return new Response("too many requests\n", {
        status: 429,
        headers: retryHeaders,
      });
    }
    if (exchange !== undefined && faults.drop()) {
      exchange.drop();
      metrics.countDropped();
      logLine("error", "POST", "drop connection", path);
      return NO_ANSWER();
    }
    // 2. read the body
    const body = await readBody(request, exchange, path);
    if (body instanceof Response) return body;
    const key = idempotency ? request.headers.get("idempotency-key") : null;
    if (key !== null && store.seen(key)) {
      metrics.countReplayed();
      metrics.countPost(201);
      logLine("info", "POST", "POST request", path, body);
      return new Response(null, { status: 201 });
    }
    // 3. decode, 4. validate
    const decoded = decodeFilm(body);
    const problem = decoded.ok
      ? validateFilm(decoded.film, date.getUTCFullYear())
      : decoded.error;
    if (problem !== null || !decoded.ok) {
      metrics.countPost(400);
      return refuse(400, "POST", path, problem!, body);
    }
    // 5. accepted (each fault draws, whatever the other decides)
    store.add(decoded.film, key);
    metrics.countPost(201);
    logLine("info", "POST", "POST request", path, body);
    const storeDrop = faults.storeDrop();
    const slow = faults.slow();
    if (storeDrop && exchange !== undefined) {
      exchange.drop();
      metrics.countStoreDropped();
      return NO_ANSWER();
    }
    if (slow) await sleep(slowMs, signal);
    return new Response(null, { status: 201 });
  };

  const get = (path: string): Response => {
    metrics.countGet(200);
    logLine("info", "GET", "GET request", path);
    return new Response("[]\n", { headers: SNIFFED_TEXT });
  };

  const control = (method: string, path: string): Response => {
    if (path === "/_sink/reset") {
      if (method !== "POST") {
        return refuse(405, method, path, `unsupported method: ${method}`);
      }
      deps.reset();
      logLine("info", method, "reset", path);
      return new Response(null, { status: 204 });
    }
    if (path === "/_sink/movies") {
      if (method !== "GET") {
        return refuse(405, method, path, `unsupported method: ${method}`);
      }
      if (!store.keeping) {
        return refuse(
          404,
          method,
          path,
          "the sink keeps no movies: start it with --store",
        );
      }
      logLine("info", method, "GET request", path);
      return new Response(JSON.stringify(store.list()), {
        headers: JSON_HEADERS,
      });
    }
    logLine("error", method, "return 404", path);
    return new Response(NOT_FOUND, { status: 404, headers: TEXT_HEADERS });
  };

  const route = (
    request: Request,
    exchange: Exchange | undefined,
  ): Response | Promise<Response> => {
    const method = request.method;
    const path = pathOf(request.url);
    if (isKeyPath(path)) {
      if (path === "/metrics") {
        return metrics.text().then((text) =>
          new Response(text, {
            headers: { "content-type": metrics.contentType },
          })
        );
      }
      if (method === "POST") return post(request, exchange, path);
      if (method === "GET") {
        const delay = faults.delayMs();
        if (delay > 0) return sleep(delay, signal).then(() => get(path));
        return get(path);
      }
      return refuse(405, method, path, `unsupported method: ${method}`);
    }
    if (path.startsWith("/_sink/")) return control(method, path);
    logLine("error", method, "return 404", path);
    return new Response(NOT_FOUND, { status: 404, headers: TEXT_HEADERS });
  };

  /** Go's write timeout: an answer ready too late is never sent. */
  const settle = (response: Response, exchange: Exchange): Response => {
    if (exchange.late()) {
      metrics.countTimeout("write");
      exchange.drop();
    } else {
      exchange.end();
    }
    return response;
  };

  return (request, info) => {
    const exchange = deps.exchange?.(info.remoteAddr.port);
    const answer = route(request, exchange);
    if (exchange === undefined) return answer;
    return answer instanceof Response
      ? settle(answer, exchange)
      : answer.then((response) => settle(response, exchange));
  };
}

/** What a handler returns for a connection already closed: goes nowhere. */
const NO_ANSWER = () => new Response(null, { status: 503 });

/**
 * The bytes Go's `http.Error` sends on a connection it closes next:
 * headers in Go's order, `Connection: close`.
 */
function goErrorAnswer(
  status: number,
  message: string,
  date: Date,
): Uint8Array {
  const body = new TextEncoder().encode(message + "\n");
  const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    "Connection: close\r\n" +
    `Date: ${date.toUTCString()}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  const head8 = new TextEncoder().encode(head);
  const bytes = new Uint8Array(head8.length + body.length);
  bytes.set(head8);
  bytes.set(body, head8.length);
  return bytes;
}

const STATUS_TEXT: Record<number, string> = { 500: "Internal Server Error" };
