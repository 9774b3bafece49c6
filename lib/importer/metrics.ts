/**
 * The importer's Prometheus metrics, for a batch job: rows by outcome,
 * requests by status with a duration histogram, retries, requests in flight,
 * and the run's start, end and last success as timestamps. Served on
 * `GET /metrics` during the run ({@link serveMetrics}) and/or pushed to a
 * Pushgateway at the end ({@link pushMetrics}).
 *
 * prom-client is loaded by {@link createImportMetrics} with a dynamic
 * `import()`, so a run without metrics never loads it (nothing in the
 * importer's static import graph reaches it).
 *
 * The hot path only bumps numbers in typed arrays (a few ns a call); the
 * prom-client metrics read them when the registry is collected (a scrape or
 * a push), as in `lib/sink/metrics.ts`.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * Loads prom-client, only when metrics are asked for. A dynamic import cannot
 * go through `_deps.ts` (its static exports load with the importer), so the
 * pinned specifier is written here; `deno.lock` pins it as for the sink.
 */
function loadPromClient() {
  // deno-lint-ignore no-import-prefix
  return import("npm:prom-client@15.1.3");
}

type Prom = Awaited<ReturnType<typeof loadPromClient>>;
type Registry = InstanceType<Prom["Registry"]>;
type PromMetric = Parameters<Registry["registerMetric"]>[0];

/**
 * How a row ended, as {@link ImportMetrics.row} counts it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ROW_OUTCOMES } from "./metrics.ts";
 * assert.ok(ROW_OUTCOMES.includes("already_delivered"));
 * ```
 */
export const ROW_OUTCOMES = [
  "delivered",
  "already_delivered",
  "invalid",
  "refused",
  "pending",
  "duplicate",
  "ambiguous",
] as const;

/** One of {@link ROW_OUTCOMES}. */
export type RowOutcome = typeof ROW_OUTCOMES[number];

/**
 * The upper bounds of the request-duration buckets, in seconds: dense from
 * 0.5 ms to 100 ms (the service's range), sparse up to the 10 s default
 * request timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DURATION_BUCKETS } from "./metrics.ts";
 * assert.ok(DURATION_BUCKETS.includes(0.001) && DURATION_BUCKETS.includes(0.1));
 * ```
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
];

/** Options of {@link createImportMetrics}. */
export interface ImportMetricsOptions {
  /**
   * The time, in ms since the epoch (the run's start is read at creation).
   * @default Date.now
   */
  now?: () => number;
  /**
   * The request-duration buckets' upper bounds, in seconds, ascending.
   * @default DURATION_BUCKETS
   */
  buckets?: readonly number[];
}

/** Where a run stands, for the push (see {@link pushMetrics}). */
export type RunState = "running" | "succeeded" | "failed";

/**
 * The metrics of one run. The counting methods are for the hot path: each
 * is a plain increment or assignment.
 */
export interface ImportMetrics {
  /** Counts one row's outcome. */
  row(outcome: RowOutcome): void;
  /**
   * Counts one HTTP request (every attempt, retries included) by its status,
   * or `"network"` when no answer came, and records its duration.
   */
  request(status: number | "network", seconds: number): void;
  /** Counts one scheduled retry. */
  retry(): void;
  /** Sets the number of requests in flight. */
  inFlight(n: number): void;
  /**
   * Ends the run: sets its end time and duration, and, if it succeeded, the
   * last success time. A second call changes nothing.
   */
  finish(success: boolean): void;
  /** Where the run stands. */
  state(): RunState;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  /** The `Content-Type` of {@link ImportMetrics.text}. */
  readonly contentType: string;
}

/** A metric's value as prom-client formats it. */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * Registers a metric whose samples are computed when collected, in
 * prom-client's own metric shape (`get()`), so prom-client still writes the
 * exposition: used for the histogram (bucket counts kept in a typed array)
 * and for gauges that have no value until set (no misleading 0).
 */
function registerComputed(
  registry: Registry,
  name: string,
  help: string,
  type: "gauge" | "histogram",
  samples: () => Sample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: () =>
      Promise.resolve({
        name,
        help,
        type,
        aggregator: "sum",
        values: samples(),
      }),
  };
  registry.registerMetric(metric as unknown as PromMetric);
}

/** The histogram's samples: cumulative buckets, `+Inf`, sum and count. */
function histogramSamples(
  name: string,
  bounds: readonly number[],
  counts: Float64Array,
  sum: number,
): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i <= bounds.length; i++) {
    cumulative += counts[i];
    const le = i < bounds.length ? bounds[i] : "+Inf";
    out.push({
      metricName: `${name}_bucket`,
      labels: { le },
      value: cumulative,
    });
  }
  out.push({ metricName: `${name}_sum`, labels: {}, value: sum });
  out.push({ metricName: `${name}_count`, labels: {}, value: cumulative });
  return out;
}

/** A gauge's samples: one value, or none for `null`. */
const maybe = (value: number | null): Sample[] =>
  value === null ? [] : [{ labels: {}, value }];

/** Counts kept by the hot path, read when collected. */
interface Counts {
  rows: Float64Array;
  statuses: Float64Array;
  network: number;
  retries: number;
  inFlight: number;
  buckets: Float64Array;
  sum: number;
  startMs: number;
  endMs: number | null;
  successMs: number | null;
}

/** The counters and the in-flight gauge (prom-client's own). */
function registerCounters(prom: Prom, registry: Registry, c: Counts): void {
  new prom.Counter({
    name: "parse_and_post_rows_total",
    help: "Data rows finished, by outcome.",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      this.reset();
      ROW_OUTCOMES.forEach((o, i) => this.inc({ outcome: o }, c.rows[i]));
    },
  });
  new prom.Counter({
    name: "parse_and_post_requests_total",
    help:
      "HTTP requests sent (retries included), by status; status=network when no answer came.",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      this.reset();
      c.statuses.forEach((n, s) => n > 0 && this.inc({ status: s }, n));
      if (c.network > 0) this.inc({ status: "network" }, c.network);
    },
  });
  new prom.Counter({
    name: "parse_and_post_retries_total",
    help: "Retries scheduled.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(c.retries);
    },
  });
  new prom.Gauge({
    name: "parse_and_post_requests_in_flight",
    help: "HTTP requests sent and not yet answered.",
    registers: [registry],
    collect() {
      this.set(c.inFlight);
    },
  });
}

/** The request-duration histogram and the run's timestamps. */
function registerComputedMetrics(
  registry: Registry,
  c: Counts,
  bounds: readonly number[],
): void {
  const duration = "parse_and_post_request_duration_seconds";
  registerComputed(
    registry,
    duration,
    "Time from sending a request to its answer (or its failure).",
    "histogram",
    () => histogramSamples(duration, bounds, c.buckets, c.sum),
  );
  const seconds = (ms: number | null) => ms === null ? null : ms / 1000;
  const gauges: [string, string, () => number | null][] = [
    [
      "parse_and_post_run_start_timestamp_seconds",
      "When the run started, in Unix seconds.",
      () => seconds(c.startMs),
    ],
    [
      "parse_and_post_run_end_timestamp_seconds",
      "When the run ended, in Unix seconds (absent while it runs).",
      () => seconds(c.endMs),
    ],
    [
      "parse_and_post_run_duration_seconds",
      "How long the run took (absent while it runs).",
      () => c.endMs === null ? null : seconds(c.endMs - c.startMs),
    ],
    [
      "parse_and_post_last_success_timestamp_seconds",
      "When a run last succeeded, in Unix seconds (absent unless this one did).",
      () => seconds(c.successMs),
    ],
  ];
  for (const [name, help, read] of gauges) {
    registerComputed(registry, name, help, "gauge", () => maybe(read()));
  }
}

/**
 * Loads prom-client and creates the metrics of one run, in a registry of
 * their own. The run's start time is now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createImportMetrics } from "./metrics.ts";
 * const m = await createImportMetrics({ now: () => 1_700_000_000_000 });
 * m.row("delivered");
 * m.request(201, 0.004);
 * m.finish(true);
 * const text = await m.text();
 * assert.ok(text.includes('parse_and_post_rows_total{outcome="delivered"} 1'));
 * assert.ok(text.includes('parse_and_post_request_duration_seconds_bucket{le="0.005"} 1'));
 * assert.ok(text.includes("parse_and_post_last_success_timestamp_seconds 1700000000"));
 * ```
 */
export async function createImportMetrics(
  options: ImportMetricsOptions = {},
): Promise<ImportMetrics> {
  const prom = await loadPromClient();
  const now = options.now ?? Date.now;
  const bounds = [...(options.buckets ?? DURATION_BUCKETS)];
  const nb = bounds.length;
  const upper = Float64Array.from(bounds);
  const c: Counts = {
    rows: new Float64Array(ROW_OUTCOMES.length),
    statuses: new Float64Array(600),
    network: 0,
    retries: 0,
    inFlight: 0,
    buckets: new Float64Array(nb + 1),
    sum: 0,
    startMs: now(),
    endMs: null,
    successMs: null,
  };
  const registry = new prom.Registry();
  registerCounters(prom, registry, c);
  registerComputedMetrics(registry, c, bounds);
  const slot = Object.fromEntries(ROW_OUTCOMES.map((o, i) => [o, i])) as Record<
    RowOutcome,
    number
  >;
  return {
    row(outcome) {
      c.rows[slot[outcome]]++;
    },
    request(status, seconds) {
      if (status === "network") c.network++;
      else c.statuses[status]++;
      let i = 0;
      while (i < nb && seconds > upper[i]) i++;
      c.buckets[i]++;
      c.sum += seconds;
    },
    retry() {
      c.retries++;
    },
    inFlight(n) {
      c.inFlight = n;
    },
    finish(success) {
      if (c.endMs !== null) return;
      c.endMs = now();
      if (success) c.successMs = c.endMs;
    },
    state: () =>
      c.endMs === null
        ? "running"
        : c.successMs === null
        ? "failed"
        : "succeeded",
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /**
   * The port to listen on; 0 picks a free one (see {@link MetricsServer.port}).
   * @default 0
   */
  port?: number;
  /**
   * The address to listen on: loopback unless asked otherwise.
   * @default "127.0.0.1"
   */
  hostname?: string;
}

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** The port it listens on. */
  port: number;
  /** The URL to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  /** Stops listening (waits for a scrape in progress). */
  close(): Promise<void>;
}

/** One line for an error. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** A host as written in a URL (IPv6 in brackets). */
const urlHost = (host: string) => host.includes(":") ? `[${host}]` : host;

/**
 * Serves `GET /metrics` (Prometheus text format) until closed. Any other
 * path is 404, any other method 405. Throws an `Error` with a one-line
 * message when it cannot listen (port in use, no permission).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createImportMetrics, serveMetrics } from "./metrics.ts";
 * const metrics = await createImportMetrics();
 * metrics.retry();
 * const server = serveMetrics(metrics, { port: 0 });
 * const res = await fetch(server.url);
 * assert.ok((await res.text()).includes("parse_and_post_retries_total 1"));
 * await server.close();
 * ```
 */
export function serveMetrics(
  metrics: ImportMetrics,
  options: ServeMetricsOptions = {},
): MetricsServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const handler = async (req: Request): Promise<Response> => {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("not found: try /metrics\n", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    const body = await metrics.text();
    const headers = { "content-type": metrics.contentType };
    return new Response(req.method === "HEAD" ? null : body, { headers });
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen() {},
      onError: (e) => new Response(`${oneLine(e)}\n`, { status: 500 }),
    }, handler);
  } catch (error) {
    throw new Error(
      `cannot serve metrics on ${urlHost(hostname)}:${port}: ${oneLine(error)}`,
    );
  }
  const bound = server.addr.port;
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${urlHost(hostname)}:${bound}/metrics`,
    close: () => closed ??= server.shutdown(),
  };
}

/** Options of {@link pushMetrics}. */
export interface PushMetricsOptions {
  /** The Pushgateway's base URL, e.g. `http://pushgateway:9091`. */
  url: string;
  /**
   * The `job` of the grouping key.
   * @default "parse_and_post"
   */
  job?: string;
  /**
   * More labels of the grouping key, e.g. `{ instance: "host-1" }` (only
   * needed when several copies of the job push at the same time).
   * @default {}
   */
  grouping?: Record<string, string>;
  /**
   * Give up on the push after this many ms (one attempt, no retry).
   * @default 5000
   */
  timeoutMs?: number;
}

/** How a push went: never an exception. */
export type PushResult =
  | { ok: true; status: number; url: string }
  | { ok: false; message: string };

/** An `Authorization` header from the URL's `user:password@`, if any. */
function basicAuth(base: string): string | null {
  const { username, password } = new URL(base);
  if (username === "" && password === "") return null;
  const pair = `${decodeURIComponent(username)}:${
    decodeURIComponent(password)
  }`;
  return `Basic ${Buffer.from(pair).toString("base64")}`;
}

/** Why a fetch failed, in a few words (Deno puts the details in `cause`). */
function fetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs} ms`;
  }
  let deepest = error;
  while (deepest instanceof Error && deepest.cause !== undefined) {
    deepest = deepest.cause;
  }
  const message = oneLine(deepest);
  const m = message.toLowerCase();
  if (m.includes("connection refused")) return "connection refused";
  if (m.includes("dns error") || m.includes("failed to lookup")) {
    return "host name not found";
  }
  return message;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One `/<name>/<value>` of the path, base64url when `/` or empty needs it. */
function segment(name: string, value: string): string {
  if (value === "") return `/${name}@base64/=`;
  if (value.includes("/")) {
    return `/${name}@base64/${Buffer.from(value).toString("base64url")}`;
  }
  return `/${name}/${encodeURIComponent(value)}`;
}

/**
 * The Pushgateway URL of a grouping key: `<url>/metrics/job/<job>` and one
 * `/<label>/<value>` per grouping label, in the Pushgateway's encoding (a
 * value with a `/`, or an empty one, is written base64url with
 * `<label>@base64`). A `user:password@` in `base` is left out (pushMetrics
 * sends it as basic auth). Throws on a URL that is not http(s) or a bad
 * label name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushUrl } from "./metrics.ts";
 * assert.equal(
 *   pushUrl("http://gw:9091/", "parse_and_post", { instance: "a b", path: "/data" }),
 *   "http://gw:9091/metrics/job/parse_and_post/instance/a%20b/path@base64/L2RhdGE",
 * );
 * ```
 */
export function pushUrl(
  base: string,
  job: string,
  grouping: Record<string, string> = {},
): string {
  const url = new URL(base);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`not an http:// or https:// URL: ${base}`);
  }
  let path = url.pathname.replace(/\/+$/, "") + "/metrics" +
    segment("job", job);
  for (const [name, value] of Object.entries(grouping)) {
    if (!LABEL_NAME.test(name) || name === "job" || name.startsWith("__")) {
      throw new Error(`not a grouping label name: ${JSON.stringify(name)}`);
    }
    path += segment(name, value);
  }
  return `${url.origin}${path}`;
}

/**
 * Pushes the metrics to a Pushgateway, once, within `timeoutMs`. A run
 * that succeeded is pushed with `PUT` (its figures replace the group's); one
 * that failed or did not finish with `POST`, which replaces only the metrics
 * it sends, so the group keeps the last success time of an earlier run.
 * Any failure is a returned one-line message, never an exception.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createImportMetrics, pushMetrics } from "./metrics.ts";
 * const metrics = await createImportMetrics();
 * const result = await pushMetrics(metrics, { url: "ftp://gw" });
 * assert.ok(!result.ok && result.message.includes("not an http"));
 * ```
 */
export async function pushMetrics(
  metrics: ImportMetrics,
  options: PushMetricsOptions,
): Promise<PushResult> {
  let url: string;
  try {
    url = pushUrl(
      options.url,
      options.job ?? "parse_and_post",
      options.grouping,
    );
  } catch (error) {
    return { ok: false, message: `metrics push: ${oneLine(error)}` };
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const method = metrics.state() === "succeeded" ? "PUT" : "POST";
  const headers: Record<string, string> = {
    "content-type": metrics.contentType,
  };
  const auth = basicAuth(options.url);
  if (auth !== null) headers.authorization = auth;
  try {
    const res = await fetch(url, {
      method,
      headers,
      body: await metrics.text(),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    if (res.ok) return { ok: true, status: res.status, url };
    const said = body.trim().split("\n")[0].slice(0, 200);
    return {
      ok: false,
      message: `metrics push to ${url} failed: HTTP ${res.status}` +
        (said === "" ? "" : `: ${said}`),
    };
  } catch (error) {
    return {
      ok: false,
      message: `metrics push to ${url} failed: ${
        fetchFailure(error, timeoutMs)
      }`,
    };
  }
}
