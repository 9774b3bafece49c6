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
  const handler = new SinkHandler(deps);
  return (request) => handler.handle(request);
}

type Reply = Answer | typeof NO_ANSWER;

/** `429 Too Many Requests` with its `Retry-After`, headers in Go's order. */
function tooManyAnswer(retryAfterSeconds: number): Answer {
  return {
    status: 429,
    headers: {
      "Content-Type": TEXT_HEADERS["Content-Type"],
      "Retry-After": String(retryAfterSeconds),
      "X-Content-Type-Options": TEXT_HEADERS["X-Content-Type-Options"],
    },
    body: "too many requests\n",
  };
}

/** The routes and the POST steps of one sink, over its {@link HandlerDeps}. */
class SinkHandler {
  readonly #tooMany: Answer;

  constructor(readonly deps: HandlerDeps) {
    this.#tooMany = tooManyAnswer(deps.retryAfterSeconds);
  }

  handle(request: SinkRequest): Reply | Promise<Reply> {
    const method = request.method;
    const path = pathOf(request.target);
    if (path === "/metrics") return this.#metrics();
    if (isKeyPath(path)) return this.#key(request, method, path);
    if (path.startsWith("/_sink/")) return this.#control(method, path);
    return this.#notFound(method, path);
  }

  /** One JSON log line, when logging. */
  #log(
    level: "info" | "error",
    method: string,
    msg: string,
    path: string,
    body?: Uint8Array,
    error?: string,
  ): void {
    const { log, time } = this.deps;
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
  }

  /** `http.Error`: the message and a newline, as text. */
  #refuse(
    status: number,
    method: string,
    path: string,
    error: string,
    body?: Uint8Array,
  ): Answer {
    this.#log("error", method, `return ${status}`, path, body, error);
    return { status, headers: TEXT_HEADERS, body: error + "\n" };
  }

  #notFound(method: string, path: string): Answer {
    this.#log("error", method, "return 404", path);
    return NOT_FOUND;
  }

  #unsupported(method: string, path: string): Answer {
    return this.#refuse(405, method, path, `unsupported method: ${method}`);
  }

  async #metrics(): Promise<Answer> {
    const { metrics } = this.deps;
    return {
      status: 200,
      headers: { "Content-Type": metrics.contentType },
      body: await metrics.text(),
    };
  }

  /** `/{key}`: GET lists, POST stores, any other method is refused. */
  #key(request: SinkRequest, method: string, path: string) {
    if (method === "POST") return this.#post(request, path);
    if (method === "GET") return this.#get(path);
    return this.#unsupported(method, path);
  }

  #get(path: string): Answer | Promise<Answer> {
    const delay = this.deps.faults.delayMs();
    if (delay > 0) {
      return sleep(delay, this.deps.signal).then(() => this.#list(path));
    }
    return this.#list(path);
  }

  #list(path: string): Answer {
    this.deps.metrics.countGet(200);
    this.#log("info", "GET", "GET request", path);
    return EMPTY_LIST;
  }

  /** The real service's POST steps, in its order. */
  async #post(request: SinkRequest, path: string): Promise<Reply> {
    const { faults, metrics, signal, store } = this.deps;
    const delay = faults.delayMs();
    if (delay > 0) await sleep(delay, signal);
    const date = this.deps.now();
    // 1. outages, before the body is read
    const outage = this.#outage(date, path);
    if (outage !== null) return outage;
    // 2. read the body (a read timeout fails it too: the server then
    // closes the connection after this answer)
    let body: Uint8Array;
    try {
      body = await request.body();
    } catch (error) {
      metrics.countPost(500);
      return this.#refuse(500, "POST", path, String((error as Error)?.message));
    }
    const key = this.deps.idempotency
      ? request.header("idempotency-key")
      : null;
    if (key !== null && store.seen(key)) {
      metrics.countReplayed();
      return this.#created(path, body);
    }
    return await this.#decode(body, key, date, path);
  }

  /** The fault answers drawn before the body is read, in their order. */
  #outage(date: Date, path: string): Reply | null {
    const { faults, metrics } = this.deps;
    if (faults.down(date.getTime()) || faults.outage()) {
      metrics.countPost(503);
      this.#log("error", "POST", "return 503", path);
      return UNAVAILABLE;
    }
    if (faults.tooMany()) {
      metrics.countPost(429);
      this.#log("error", "POST", "return 429", path);
      return this.#tooMany;
    }
    if (faults.drop()) {
      metrics.countDropped();
      this.#log("error", "POST", "drop connection", path);
      return NO_ANSWER;
    }
    return null;
  }

  /** 3. decode, 4. validate, 5. store. */
  #decode(
    body: Uint8Array,
    key: string | null,
    date: Date,
    path: string,
  ): Reply | Promise<Reply> {
    const decoded = decodeFilm(body);
    const problem = decoded.ok
      ? validateFilm(decoded.film, date.getUTCFullYear())
      : decoded.error;
    if (problem !== null || !decoded.ok) {
      this.deps.metrics.countPost(400);
      return this.#refuse(400, "POST", path, problem!, body);
    }
    this.deps.store.add(decoded.film, key);
    return this.#accepted(path, body);
  }

  /** Counted and logged as created. */
  #created(path: string, body: Uint8Array): Answer {
    this.deps.metrics.countPost(201);
    this.#log("info", "POST", "POST request", path, body);
    return CREATED;
  }

  /** A stored movie's answer (each fault draws, whatever the other decides). */
  async #accepted(path: string, body: Uint8Array): Promise<Reply> {
    const { faults, metrics } = this.deps;
    this.#created(path, body);
    const storeDrop = faults.storeDrop();
    const slow = faults.slow();
    if (storeDrop) {
      metrics.countStoreDropped();
      return NO_ANSWER;
    }
    if (slow) await sleep(this.deps.slowMs, this.deps.signal);
    return CREATED;
  }

  #control(method: string, path: string): Answer {
    if (path === "/_sink/reset") return this.#reset(method, path);
    if (path === "/_sink/movies") return this.#movies(method, path);
    return this.#notFound(method, path);
  }

  #reset(method: string, path: string): Answer {
    if (method !== "POST") return this.#unsupported(method, path);
    this.deps.reset();
    this.#log("info", method, "reset", path);
    return { status: 204 };
  }

  #movies(method: string, path: string): Answer {
    const store = this.deps.store;
    if (method !== "GET") return this.#unsupported(method, path);
    if (!store.keeping) {
      const why = "the sink keeps no movies: start it with --store";
      return this.#refuse(404, method, path, why);
    }
    this.#log("info", method, "GET request", path);
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: JSON.stringify(store.list()),
    };
  }
}
