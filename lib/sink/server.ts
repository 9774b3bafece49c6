/**
 * The local stand-in for the movie service (`shared/SINK.md`): start it,
 * post to it, read its counters, close it. It serves HTTP/1.1 itself
 * (`http_server.ts`) so that, like the real service, it applies Go's
 * 2-second read and write timeouts and closes idle kept-alive connections
 * after 2 s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startSink } from "./server.ts";
 * const sink = startSink({ port: 0, failRate: 0, log: false, store: true });
 * const res = await fetch(`${sink.url}/movies`, {
 *   method: "POST",
 *   body: JSON.stringify({ title: "Heat", year: 1995 }),
 * });
 * await res.body?.cancel();
 * assert.equal(res.status, 201);
 * assert.equal(sink.counters().post["201"], 1);
 * await sink.close();
 * ```
 *
 * @module
 */

import { createMetrics, type SinkCounts, type SinkMetrics } from "./metrics.ts";
import { createFaults, type Faults } from "./faults.ts";
import { createStore, type MovieStore } from "./store.ts";
import { createLineWriter, type LineWriter } from "./line_writer.ts";
import { rfc3339Clock } from "./log.ts";
import { createHandler } from "./handler.ts";
import {
  type Handler,
  type HttpServer,
  startHttpServer,
} from "./http_server.ts";
import { type ResolvedSinkOptions, resolveOptions } from "./options.ts";

/**
 * How to run the sink. Every extra behaviour beyond the real service is off
 * by default; the defaults behave like the real service.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SinkOptions } from "./server.ts";
 * const flaky: SinkOptions = { port: 0, log: false, seed: 1, dropRate: 0.05, rate429: 0.05 };
 * assert.equal(flaky.failRate, undefined); // 0.2 by default
 * ```
 */
export interface SinkOptions {
  /**
   * Port to listen on; 0 picks a free port (read it from `Sink.port`).
   * @default 9009
   */
  port?: number;
  /**
   * Address to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Share of POSTs answered `503` with an empty body before the body is
   * read (uniform, independent), 0..1.
   * @default 0.2
   */
  failRate?: number;
  /**
   * Seed of every random decision (each fault has its own stream derived
   * from it); unseeded when undefined.
   * @default undefined
   */
  seed?: number;
  /**
   * One JSON log line per request: `true` writes them to stdout (buffered),
   * a function receives each line (without newline), `false` is silent.
   * @default true
   */
  log?: boolean | ((line: string) => void);
  /**
   * Keep accepted movies: `Sink.accepted()` and `GET /_sink/movies`.
   * @default false
   */
  store?: boolean;
  /**
   * Also append each accepted movie as a JSON line to this file (created
   * if missing, appended to otherwise); implies `store`.
   * @default undefined
   */
  storeFile?: string;
  /**
   * Fixed delay before answering any `/{key}` request, ms.
   * @default 0
   */
  latencyMs?: number;
  /**
   * Extra random delay, uniform in [0, jitterMs), ms.
   * @default 0
   */
  jitterMs?: number;
  /**
   * Share of POSTs answered `429` with `Retry-After`, 0..1 (drawn after
   * the 503 and before the body is read).
   * @default 0
   */
  rate429?: number;
  /**
   * The `Retry-After` of the 429 answers, seconds.
   * @default 1
   */
  retryAfterSeconds?: number;
  /**
   * Share of POSTs whose connection is closed without any answer, before
   * the body is read (nothing stored), 0..1. The client sees a network
   * error. Note that Deno's `fetch` (hyper) silently retries,
   * once, a request whose *reused* keep-alive connection closes before any
   * answer byte, so a pooled client may see fewer errors than
   * `counters().dropped`.
   * @default 0
   */
  dropRate?: number;
  /**
   * Share of accepted POSTs that are fully handled (decoded, validated,
   * stored when `store` is on, counted `201`, logged) and whose connection
   * is then closed without any answer byte, 0..1: the client cannot tell
   * whether the movie is in. Counted in `counters().storeDropped` too. A
   * repeated `Idempotency-Key` (with `idempotency`) is answered 201 as
   * before. Beware: Deno's `fetch` silently re-sends, once, a POST whose
   * reused keep-alive connection closes before an answer when its body is
   * a string or bytes (denoland/deno#35610; a stream body is not re-sent),
   * so through it such a movie is stored twice and seen once.
   * @default 0
   */
  storeDropRate?: number;
  /**
   * Share of accepted POSTs that are stored at once but answered only
   * after `slowMs` (a client with a shorter timeout gives up, yet the
   * movie is in), 0..1. With the write timeout on (the default) and
   * `slowMs` beyond it, the late answer is never sent, as with the real
   * service: the connection is closed, without an answer, after `slowMs`.
   * @default 0
   */
  slowRate?: number;
  /**
   * Delay of the slow answers, ms.
   * @default 5000
   */
  slowMs?: number;
  /**
   * POSTs served normally before the down window opens.
   * @default 0
   */
  downAfter?: number;
  /**
   * Length of the down window in seconds: from the first POST after
   * `downAfter` POSTs, every POST is answered `503` (empty body, like the
   * random outage) until the window ends; once, re-armed by `reset()`. 0 is
   * never down. A 503 rather than refused connections: closing and
   * re-binding the port races with other processes, and a service behind
   * a proxy or load balancer answers 503 when it is down. Timed by `now`,
   * so tests need no sleeps.
   * @default 0
   */
  downSeconds?: number;
  /**
   * Honour an `Idempotency-Key` request header: a key already accepted is
   * answered `201` again without being decoded, stored or written twice.
   * @default false
   */
  idempotency?: boolean;
  /**
   * Go's `ReadTimeout`, ms: a request's headers and body must all arrive
   * within it, from its first byte (from the accept, for a connection's
   * first request). Headers not complete in time: the connection is closed
   * without an answer. Body not complete: the body read fails, so the POST
   * is answered `500` (counted `status="500"`), with `Connection: close`,
   * and the connection is closed. 0: no limit.
   * @default 2000
   */
  readTimeoutMs?: number;
  /**
   * Go's `WriteTimeout`, ms: an answer not ready within it of the request's
   * headers is never sent; the connection is closed without an answer when
   * it would have been written (the request is counted as answered, like
   * the real service's handler counts it). Matters for `latencyMs` and
   * `slowMs`. 0: no limit.
   * @default 2000
   */
  writeTimeoutMs?: number;
  /**
   * Go's `IdleTimeout`, ms: a kept-alive connection with no new request for
   * this long after its last answer is closed. Not set: the read timeout
   * (Go's rule when `IdleTimeout` is 0, as in the real service). 0: never.
   * @default readTimeoutMs
   */
  idleTimeoutMs?: number;
  /**
   * The clock: its UTC year bounds the year rule; it times the down window
   * and stamps the log lines. (The server timeouts use the real monotonic
   * clock.)
   * @default () => new Date()
   */
  now?: () => Date;
}

/**
 * A running sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Sink, startSink } from "./server.ts";
 * const sink: Sink = startSink({ port: 0, log: false });
 * assert.ok(sink.url.endsWith(`:${sink.port}`));
 * await sink.close();
 * ```
 */
export interface Sink {
  /** The base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** The counts so far, like the `/metrics` counters. */
  counters(): SinkCounts;
  /** The accepted movies kept so far (empty unless `store`). */
  accepted(): unknown[];
  /** The Prometheus text of `GET /metrics`. */
  metricsText(): Promise<string>;
  /**
   * As after a restart (`bin/reset`): counters zeroed, stored movies and
   * idempotency keys forgotten, random streams re-seeded, down window
   * re-armed. The store file is kept.
   */
  reset(): void;
  /** Stops listening, ends pending delays, flushes logs and the store file. */
  close(): Promise<void>;
  /** The options in force, defaults filled in. */
  settings: Readonly<ResolvedSinkOptions>;
}

function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

type LogLine = (line: string) => void;

/** Where log lines go: stdout through a buffered writer, a function, or nowhere. */
function openLog(
  setting: ResolvedSinkOptions["log"],
): { log: LogLine | null; writer?: LineWriter } {
  if (setting === true) {
    const writer = createLineWriter(Deno.stdout);
    return { log: (line) => writer.write(line), writer };
  }
  return { log: typeof setting === "function" ? setting : null };
}

/** The answer (and log line) when the handler throws. */
function internalError(log: LogLine | null) {
  return (error: unknown) => {
    log?.(JSON.stringify({
      level: "error",
      msg: "return 500",
      error: String(error),
      time: new Date().toISOString(),
    }));
    return { status: 500, body: "internal error\n" };
  };
}

/** What one sink is made of. */
interface Parts {
  settings: ResolvedSinkOptions;
  metrics: SinkMetrics;
  faults: Faults;
  store: MovieStore;
  log: LogLine | null;
  writer?: LineWriter;
  closing: AbortController;
  reset: () => void;
}

function makeParts(settings: ResolvedSinkOptions): Parts {
  const metrics = createMetrics();
  const faults = createFaults(settings, settings.seed);
  const store = createStore({ keep: settings.store, file: settings.storeFile });
  const reset = () => {
    metrics.reset();
    faults.reset();
    store.reset();
  };
  return {
    settings,
    metrics,
    faults,
    store,
    ...openLog(settings.log),
    closing: new AbortController(),
    reset,
  };
}

function handlerOf(parts: Parts): Handler {
  const { settings } = parts;
  return createHandler({
    metrics: parts.metrics,
    faults: parts.faults,
    store: parts.store,
    idempotency: settings.idempotency,
    retryAfterSeconds: settings.retryAfterSeconds,
    slowMs: settings.slowMs,
    now: settings.now,
    time: rfc3339Clock(settings.now),
    log: parts.log,
    signal: parts.closing.signal,
    reset: parts.reset,
  });
}

/** Listens with Go's timeouts; a failure (a busy port) releases the files. */
function listen(parts: Parts): HttpServer {
  const { settings, metrics } = parts;
  try {
    return startHttpServer({
      hostname: settings.host,
      port: settings.port,
      readTimeoutMs: settings.readTimeoutMs,
      writeTimeoutMs: settings.writeTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      onTimeout: (kind) => metrics.countTimeout(kind),
      onError: internalError(parts.log),
    }, handlerOf(parts));
  } catch (error) {
    parts.store.close();
    parts.writer?.close();
    throw error;
  }
}

/**
 * Starts a sink; it listens before this returns (a busy port throws here).
 * Invalid options throw a `RangeError` naming the option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startSink } from "./server.ts";
 * const sink = startSink({ port: 0, log: false });
 * const res = await fetch(`${sink.url}/movies`);
 * assert.equal(await res.text(), "[]\n");
 * await sink.close();
 * ```
 */
export function startSink(options: SinkOptions = {}): Sink {
  const parts = makeParts(resolveOptions(options));
  const { settings, metrics, store } = parts;
  const server = listen(parts);
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost(settings.host)}:${server.port}`,
    port: server.port,
    counters: () => metrics.snapshot(),
    accepted: () => store.list(),
    metricsText: () => metrics.text(),
    reset: parts.reset,
    close() {
      closed ??= (async () => {
        parts.closing.abort();
        await server.close();
        store.close();
        parts.writer?.close();
      })();
      return closed;
    },
    settings,
  };
}
