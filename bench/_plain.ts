/**
 * The plain loops' common part (`bench/plain_fetch.ts`, `bench/plain_undici.ts`):
 * read the pre-built bodies, keep `concurrency` requests in flight, retry a
 * transient answer (408, 429, 500, 502, 503, 504 or no answer) after a
 * full-jitter exponential backoff (`random() × min(cap, base × 2^retry)`,
 * the importer's policy) without holding a request slot while waiting, and
 * print one result line on stderr. Nothing here comes from the importer's
 * code: it is the yardstick.
 *
 * @module
 */

/** Sends body `i` and calls `done` once with the HTTP status (0: no answer). */
export type PlainSend = (i: number, done: (status: number) => void) => void;

/** Options of {@link runPlainLoop}. */
export interface PlainLoopOptions {
  /** Bodies to send (indices 0 … count − 1). */
  count: number;
  /** Requests in flight at most. @default 16 */
  concurrency?: number;
  /** Retries per body after the first attempt. @default 15 */
  maxRetries?: number;
  /** The first backoff's upper bound, ms (doubles per retry). @default 10 */
  baseMs?: number;
  /** The longest single backoff, ms. @default 10000 */
  capMs?: number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** What a plain loop did. */
export interface PlainLoopResult {
  /** Bodies answered 2xx. */
  delivered: number;
  /** Bodies answered a final status (e.g. 400). */
  refused: number;
  /** Bodies still failing after every retry. */
  failed: number;
  /** Requests sent, retries included. */
  requests: number;
  /** Retries (backoff waits). */
  retries: number;
  /** Answers by status ("0": no answer). */
  statuses: Record<string, number>;
  /** From the first request to the last answer, ms. */
  elapsedMs: number;
}

let errorSeen = false;

/**
 * Says on stderr, once per process, why a request got no answer (the
 * rest are only counted, as status 0).
 *
 * @example
 * ```ts ignore
 * import { noteError } from "./_plain.ts";
 * fetch("http://127.0.0.1:1/").catch(noteError);
 * ```
 */
export function noteError(error: unknown): void {
  if (errorSeen) return;
  errorSeen = true;
  console.error(`plain loop: no answer: ${error}`);
}

/** The marker of the result line on stderr. */
export const RESULT_MARK = "bench-result ";

const TRANSIENT = new Set([0, 408, 429, 500, 502, 503, 504]);

/**
 * Sends every body once (retrying transient answers) and resolves when each
 * has ended delivered, refused or failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPlainLoop } from "./_plain.ts";
 * let calls = 0;
 * const result = await runPlainLoop(
 *   (_i, done) => queueMicrotask(() => done(++calls % 3 === 0 ? 503 : 201)),
 *   { count: 10, concurrency: 2, baseMs: 0 },
 * );
 * assert.equal(result.delivered, 10);
 * assert.equal(result.requests, 10 + result.retries);
 * ```
 */
export function runPlainLoop(
  send: PlainSend,
  options: PlainLoopOptions,
): Promise<PlainLoopResult> {
  const { count } = options;
  const concurrency = options.concurrency ?? 16;
  const maxRetries = options.maxRetries ?? 15;
  const base = options.baseMs ?? 10;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  const retriesOf = new Uint8Array(count);
  const ready: number[] = [];
  const statuses: Record<string, number> = {};
  const r = { delivered: 0, refused: 0, failed: 0, requests: 0, retries: 0 };
  let next = 0;
  let inFlight = 0;
  let waiting = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const pump = () => {
      while (inFlight < concurrency) {
        const i = ready.length > 0
          ? ready.shift()!
          : next < count
          ? next++
          : -1;
        if (i < 0) break;
        inFlight++;
        r.requests++;
        send(i, (status) => settle(i, status));
      }
      if (inFlight === 0 && waiting === 0 && next >= count) {
        resolve({ ...r, statuses, elapsedMs: performance.now() - started });
      }
    };
    const settle = (i: number, status: number) => {
      inFlight--;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) r.delivered++;
      else if (!TRANSIENT.has(status)) r.refused++;
      else if (retriesOf[i] >= maxRetries) r.failed++;
      else {
        const delay = random() * Math.min(cap, base * 2 ** retriesOf[i]++);
        r.retries++;
        waiting++;
        setTimeout(() => {
          waiting--;
          ready.push(i);
          pump();
        }, delay);
      }
      pump();
    };
    pump();
  });
}

/** The command line of a plain loop. */
export interface PlainArgs {
  /** Where each body is POSTed. */
  url: string;
  /** A file of one JSON body per line. */
  bodies: string;
  /** Requests in flight at most. */
  concurrency: number;
  /** Retries per body. */
  maxRetries: number;
  /** Backoff base, ms. */
  baseMs: number;
  /** Backoff cap, ms. */
  capMs: number;
  /** Send only the first N bodies (a warm-up). @default every body */
  count: number | null;
}

/**
 * Reads `--url U --bodies F [--concurrency N] [--max-retries N]
 * [--retry-base-ms MS] [--retry-cap-ms MS] [--count N]`; a bad one is one
 * line and exit 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePlainArgs } from "./_plain.ts";
 * const a = parsePlainArgs(["--url", "http://127.0.0.1:1/movies", "--bodies", "b.jsonl"]);
 * assert.equal(a.concurrency, 16);
 * assert.equal(a.capMs, 10000);
 * ```
 */
export function parsePlainArgs(args: string[]): PlainArgs {
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    if (!args[i].startsWith("--") || i + 1 >= args.length) {
      usage(`unexpected argument ${args[i]}`);
    }
    given.set(args[i].slice(2), args[i + 1]);
  }
  const num = (name: string, fallback: number) => {
    const raw = given.get(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < 0) usage(`--${name} must be a number ≥ 0`);
    return n;
  };
  const url = given.get("url") ?? usage("--url is required");
  const bodies = given.get("bodies") ?? usage("--bodies is required");
  return {
    url,
    bodies,
    concurrency: Math.max(1, num("concurrency", 16)),
    maxRetries: num("max-retries", 15),
    baseMs: num("retry-base-ms", 10),
    capMs: num("retry-cap-ms", 10_000),
    count: given.has("count") ? num("count", 0) : null,
  };
}

function usage(message: string): never {
  console.error(`plain loop: ${message}`);
  console.error(
    "usage: plain_fetch.ts|plain_undici.ts --url URL --bodies FILE [--concurrency N] [--max-retries N] [--retry-base-ms MS] [--retry-cap-ms MS] [--count N]",
  );
  Deno.exit(2);
}

/** Reads a file of one body per line (blank lines skipped). */
export async function loadBodies(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.length > 0);
}

/**
 * A plain loop's whole run: parse the arguments, load the bodies, run
 * {@link runPlainLoop} with `makeSend`'s sender, print the result line on
 * stderr (stdout carries V8's `--trace-gc` lines) and exit (open
 * connections need no goodbye): 0 when every body was delivered, else 1.
 *
 * @example
 * ```ts ignore
 * import { plainMain } from "./_plain.ts";
 * await plainMain((args, bodies) => (i, done) => done(201));
 * ```
 */
export async function plainMain(
  makeSend: (args: PlainArgs, bodies: string[]) => PlainSend,
): Promise<void> {
  const args = parsePlainArgs(Deno.args);
  const bodies = await loadBodies(args.bodies);
  const count = Math.min(args.count ?? bodies.length, bodies.length);
  const result = await runPlainLoop(makeSend(args, bodies), {
    ...args,
    count,
  });
  console.error(RESULT_MARK + JSON.stringify(result));
  Deno.exit(result.delivered === count ? 0 : 1);
}
