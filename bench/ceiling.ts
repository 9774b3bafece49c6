/**
 * The ceiling: how fast the importer's own HTTP client ({@link Poster}) can
 * push pre-built JSON bodies to the service at a given concurrency, with no
 * CSV, no validation and no bookkeeping in the timed part. Transient answers
 * (503, 429, network errors, as `classify` decides) are retried at once, so
 * every body gets through; every attempt's latency goes into a
 * {@link Histogram}, as the importer's delivery pool does.
 *
 * Run as its own process (so it has its own core, like the importer):
 *
 * ```sh
 * deno run -A bench/ceiling.ts --url http://127.0.0.1:9009/movies \
 *   --bodies out/bench/movies-100000-s42.bodies.jsonl --concurrency 16
 * ```
 *
 * `--bodies` is a file of one JSON body per line (the importer's
 * `--dry-run` output for the same CSV). `--count N` sends N bodies, cycling
 * through the file (default: each line once); `--max-seconds S` stops
 * taking new bodies after S seconds. The result is one JSON object on
 * stdout ({@link CeilingResult}).
 *
 * @module
 */

import { Histogram } from "../lib/importer/histogram.ts";
import { Poster } from "../lib/importer/post.ts";
import { classify } from "../lib/importer/retry.ts";

/** What one ceiling run measured. */
export interface CeilingResult {
  /** Requests in flight at most. */
  concurrency: number;
  /** Bodies delivered (2xx). */
  rows: number;
  /** Bodies refused for good (a final status such as 400); expected 0. */
  refused: number;
  /** Bodies that still failed after `maxAttempts`; expected 0. */
  failed: number;
  /** Requests sent, retries included. */
  requests: number;
  /** Retries (requests − first attempts). */
  retries: number;
  /** Answers by HTTP status, plus `network` for failures below HTTP. */
  statuses: Record<string, number>;
  /** The timed part, ms. */
  elapsedMs: number;
  /** Bodies delivered per second. */
  rowsPerSecond: number;
  /** Requests per second. */
  requestsPerSecond: number;
  /** Request latency, ms (every attempt, as the importer's report). */
  latencyMs: { p50: number; p99: number; max: number };
  /** Whether `maxMs` ended the run before every body was sent. */
  capped: boolean;
  /** Time to load the bodies before timing, ms. */
  loadMs: number;
}

/** Options of {@link runCeiling}. */
export interface CeilingOptions {
  /** Where each body is POSTed. */
  url: string;
  /** The bodies (JSON texts). */
  bodies: readonly string[];
  /** Requests in flight at most. */
  concurrency: number;
  /** Bodies to send, cycling through `bodies`. @default bodies.length */
  count?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  /** Attempts per body at most. @default 100 */
  maxAttempts?: number;
  /** Prefix of the `Idempotency-Key` header (sent like the importer does). @default "ceiling" */
  keyPrefix?: string;
  /** Stop taking new bodies after this many ms (bodies taken still finish). @default no limit */
  maxMs?: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * POSTs every body once with `concurrency` workers sharing one
 * {@link Poster}; a transient answer is retried at once by the same worker.
 *
 * @example
 * ```ts ignore
 * import { runCeiling } from "./ceiling.ts";
 * const result = await runCeiling({
 *   url: "http://127.0.0.1:9009/movies",
 *   bodies: ['{"title":"Heat","year":1995}'],
 *   concurrency: 1,
 * });
 * console.log(result.rowsPerSecond);
 * ```
 */
export async function runCeiling(
  options: CeilingOptions,
): Promise<Omit<CeilingResult, "loadMs">> {
  const { url, bodies, concurrency } = options;
  const count = options.count ?? bodies.length;
  const maxAttempts = options.maxAttempts ?? 100;
  const keyPrefix = options.keyPrefix ?? "ceiling";
  if (bodies.length === 0 && count > 0) throw new Error("no bodies to send");
  const poster = new Poster({ timeoutMs: options.timeoutMs ?? 10_000 });
  const latency = new Histogram();
  const statuses = new Map<string, number>();
  let next = 0;
  let rows = 0;
  let refused = 0;
  let failed = 0;
  let requests = 0;
  let capped = false;
  const deadline = performance.now() + (options.maxMs ?? Infinity);

  const worker = async () => {
    while (next < count) {
      if (performance.now() >= deadline) {
        capped = true;
        break;
      }
      const i = next++;
      const body = bodies[i % bodies.length];
      const key = `${keyPrefix}-${i}`;
      for (let attempt = 1;; attempt++) {
        requests++;
        const sent = performance.now();
        const answer = await poster.post(url, body, key);
        latency.add(performance.now() - sent);
        const status = answer.kind === "response"
          ? String(answer.status)
          : "network";
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const verdict = classify(answer);
        if (verdict === "delivered") {
          rows++;
          break;
        }
        if (verdict === "final") {
          refused++;
          break;
        }
        if (attempt >= maxAttempts) {
          failed++;
          break;
        }
        if (answer.kind === "network") {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }
  };

  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, worker),
  );
  const elapsedMs = performance.now() - started;
  poster.close();
  const seconds = elapsedMs / 1000;
  return {
    concurrency,
    rows,
    refused,
    failed,
    requests,
    retries: requests - (rows + refused + failed),
    capped,
    statuses: Object.fromEntries(statuses),
    elapsedMs: round(elapsedMs),
    rowsPerSecond: seconds > 0 ? Math.round(rows / seconds) : 0,
    requestsPerSecond: seconds > 0 ? Math.round(requests / seconds) : 0,
    latencyMs: {
      p50: round(latency.quantile(0.5)),
      p99: round(latency.quantile(0.99)),
      max: round(latency.max),
    },
  };
}

/**
 * Reads a file of one JSON body per line (blank lines skipped).
 *
 * @example
 * ```ts ignore
 * import { loadBodies } from "./ceiling.ts";
 * const bodies = await loadBodies("out/bench/movies-100000-s42.bodies.jsonl");
 * ```
 */
export async function loadBodies(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.length > 0);
}

function usage(message: string): never {
  console.error(`ceiling: ${message}`);
  console.error(
    "usage: deno run -A bench/ceiling.ts --url URL --bodies FILE --concurrency N [--count N] [--max-seconds S] [--timeout-ms MS] [--max-attempts N]",
  );
  Deno.exit(2);
}

/** Reads `--name value` pairs. */
function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) usage(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < args.length) flags.set(arg.slice(2), args[++i]);
    else usage(`${arg} needs a value`);
  }
  return flags;
}

function positiveInt(flags: Map<string, string>, name: string): number | null {
  const raw = flags.get(name);
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    usage(`--${name} must be a whole number ≥ 1`);
  }
  return n;
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const url = flags.get("url") ?? usage("--url is required");
  const path = flags.get("bodies") ?? usage("--bodies is required");
  const concurrency = positiveInt(flags, "concurrency") ?? 16;
  const loadStart = performance.now();
  const bodies = await loadBodies(path);
  const loadMs = round(performance.now() - loadStart);
  const result = await runCeiling({
    url,
    bodies,
    concurrency,
    count: positiveInt(flags, "count") ?? bodies.length,
    timeoutMs: positiveInt(flags, "timeout-ms") ?? 10_000,
    maxAttempts: positiveInt(flags, "max-attempts") ?? 100,
    maxMs: (positiveInt(flags, "max-seconds") ?? Infinity) * 1000,
  });
  const out: CeilingResult = { ...result, loadMs };
  console.log(JSON.stringify(out));
}
