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
 * | `POST /{key}` | `201` / `400` / `500` / `503` (+ `429` and closed connections when set) |
 * | other method on `/{key}` | `405`, `unsupported method: PUT\n` |
 * | `POST /_sink/reset` | `204`: counters, store, keys, faults as after a restart |
 * | `GET /_sink/movies` | `200`, the stored movies as a JSON array (`404` when not storing) |
 * | anything else | `404`, `404 page not found\n` |
 *
 * @module
 */

import { sleep } from "./_shared.ts";
import type { Faults } from "./faults.ts";
import {
  type Answer,
  type Handler,
  NO_ANSWER,
  type SinkRequest,
} from "./http_server.ts";
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
  /** Resets the whole sink (`POST /_sink/reset`). */
  reset: () => void;
}

/** `http.Error`'s headers, in Go's (sorted) order. */
const TEXT_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  "X-Content-Type-Options": "nosniff",
};
/** What Go's content sniffing says about `[]\n`. */
const SNIFFED_TEXT = { "Content-Type": "text/plain; charset=utf-8" };
const JSON_HEADERS = { "Content-Type": "application/json" };
const NOT_FOUND: Answer = {
  status: 404,
  headers: TEXT_HEADERS,
  body: "404 page not found\n",
};
const CREATED: Answer = { status: 201 };
const UNAVAILABLE: Answer = { status: 503 };
const EMPTY_LIST: Answer = { status: 200, headers: SNIFFED_TEXT, body: "[]\n" };

const lossy = new TextDecoder();

/** The path of a request target (`/a?b`, or absolute `http://h/a?b`). */
function pathOf(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf("//");
    start = scheme < 0 ? -1 : target.indexOf("/", scheme + 2);
    if (start < 0) return "/";
  }
  const query = target.indexOf("?", start);
  return query < 0 ? target.slice(start) : target.slice(start, query);
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
 * import { sinkRequest } from "./http_server.ts";
 * const handle = createHandler({
 *   metrics: createMetrics(),
 *   faults: createFaults({
 *     failRate: 0, latencyMs: 0, jitterMs: 0, rate429: 0, dropRate: 0,
 *     storeDropRate: 0, slowRate: 0, downAfter: 0, downSeconds: 0,
 *   }),
 *   store: createStore({ keep: false }),
 *   idempotency: false, retryAfterSeconds: 1, slowMs: 0,
 *   now: () => new Date(), time: () => "", log: null,
 *   signal: new AbortController().signal, reset: () => {},
 * });
 * const answer = await handle(sinkRequest("POST", "/movies", '{"title":""}'));
 * assert.deepEqual(answer, {
 *   status: 400,
 *   headers: {
 *     "Content-Type": "text/plain; charset=utf-8",
 *     "X-Content-Type-Options": "nosniff",
 *   },
 *   body: "title is required\n",
 * });
 * ```
 */
export function createHandler(deps: HandlerDeps): Handler {
  const { metrics, faults, store, log, signal, now, time } = deps;
  const { idempotency, slowMs } = deps;
  const tooMany: Answer = {
    status: 429,
    headers: {
      "Content-Type": TEXT_HEADERS["Content-Type"],
      "Retry-After": String(deps.retryAfterSeconds),
      "X-Content-Type-Options": TEXT_HEADERS["X-Content-Type-Options"],
    },
    body: "too many requests\n",
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
  ): Answer => {
    logLine("error", method, `return ${status}`, path, body, error);
    return { status, headers: TEXT_HEADERS, body: error + "\n" };
  };

  const post = async (
    request: SinkRequest,
    path: string,
  ): Promise<Answer | typeof NO_ANSWER> => {
    const delay = faults.delayMs();
    if (delay > 0) await sleep(delay, signal);
    const date = now();
    // 1. outages, before the body is read
    if (faults.down(date.getTime()) || faults.outage()) {
      metrics.countPost(503);
      logLine("error", "POST", "return 503", path);
      return UNAVAILABLE;
    }
    if (faults.tooMany()) {
      metrics.countPost(429);
      logLine("error", "POST", "return 429", path);
      return tooMany;
    }
    if (faults.drop()) {
      metrics.countDropped();
      logLine("error", "POST", "drop connection", path);
      return NO_ANSWER;
    }
    // 2. read the body (a read timeout fails it too: the server then
    // closes the connection after this answer)
    let body: Uint8Array;
    try {
      body = await request.body();
    } catch (error) {
      metrics.countPost(500);
      return refuse(500, "POST", path, String((error as Error)?.message));
    }
    const key = idempotency ? request.header("idempotency-key") : null;
    if (key !== null && store.seen(key)) {
      metrics.countReplayed();
      metrics.countPost(201);
      logLine("info", "POST", "POST request", path, body);
      return CREATED;
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
    if (storeDrop) {
      metrics.countStoreDropped();
      return NO_ANSWER;
    }
    if (slow) await sleep(slowMs, signal);
    return CREATED;
  };

  const get = (path: string): Answer => {
    metrics.countGet(200);
    logLine("info", "GET", "GET request", path);
    return EMPTY_LIST;
  };

  const control = (method: string, path: string): Answer => {
    if (path === "/_sink/reset") {
      if (method !== "POST") {
        return refuse(405, method, path, `unsupported method: ${method}`);
      }
      deps.reset();
      logLine("info", method, "reset", path);
      return { status: 204 };
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
      return {
        status: 200,
        headers: JSON_HEADERS,
        body: JSON.stringify(store.list()),
      };
    }
    logLine("error", method, "return 404", path);
    return NOT_FOUND;
  };

  return (request) => {
    const method = request.method;
    const path = pathOf(request.target);
    if (isKeyPath(path)) {
      if (path === "/metrics") {
        return metrics.text().then((text) => ({
          status: 200,
          headers: { "Content-Type": metrics.contentType },
          body: text,
        }));
      }
      if (method === "POST") return post(request, path);
      if (method === "GET") {
        const delay = faults.delayMs();
        if (delay > 0) return sleep(delay, signal).then(() => get(path));
        return get(path);
      }
      return refuse(405, method, path, `unsupported method: ${method}`);
    }
    if (path.startsWith("/_sink/")) return control(method, path);
    logLine("error", method, "return 404", path);
    return NOT_FOUND;
  };
}
