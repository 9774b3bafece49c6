/**
 * The local service for the benchmark, as its own process (`deno run -A
 * sink.ts --port 0 --fail-rate R --log false --seed S …`), so it never
 * shares an event loop or a CPU count with what is measured: start it,
 * reset its counters between runs, read its counters (the requests it
 * counted, by status) and its CPU time, stop it.
 *
 * @module
 */

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

/** A running sink process. */
export interface SinkProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Its port. */
  port: number;
  /** The sink process's id. */
  pid: number;
  /** The share of POSTs answered 503. */
  failRate: number;
  /** Zeroes the counters and re-seeds the faults (`POST /_sink/reset`). */
  reset(): Promise<void>;
  /** POST answers by status so far, from `GET /metrics`. */
  postCounts(): Promise<Record<string, number>>;
  /** CPU seconds the sink has used so far. */
  cpuSeconds(): number;
  /** Stops it (SIGTERM) and waits for it to exit. */
  close(): Promise<void>;
}

/** Options of {@link startSinkProcess}. */
export interface SinkProcessOptions {
  /** The repository root (where sink.ts is). */
  root: string;
  /** Share of POSTs answered 503, 0..1. */
  failRate: number;
  /** Seed of the faults. */
  seed: number;
  /** More flags for sink.ts (e.g. its server timeouts). @default [] */
  extraArgs?: string[];
  /** Give up waiting for it to listen after this many ms. @default 30000 */
  startTimeoutMs?: number;
}

/** CPU seconds (user + system) a live process has used; 0 when unknown. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * Reads `sink_post_total{status="…"} N` lines of a Prometheus text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePostCounts } from "./_sink.ts";
 * const text = '# TYPE sink_post_total counter\nsink_post_total{status="201"} 7\nsink_post_total{status="503"} 2\n';
 * assert.deepEqual(parsePostCounts(text), { "201": 7, "503": 2 });
 * ```
 */
export function parsePostCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const pattern = /^sink_post_total\{status="(\d+)"\}\s+(\S+)/gm;
  for (const match of text.matchAll(pattern)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/**
 * Starts `sink.ts` on a free port with its request log off and a fixed
 * seed, and waits until it listens.
 *
 * @example
 * ```ts ignore
 * import { startSinkProcess } from "./_sink.ts";
 * const sink = await startSinkProcess({ root: ".", failRate: 0.2, seed: 1 });
 * await sink.reset();
 * console.log(await sink.postCounts());
 * await sink.close();
 * ```
 */
export async function startSinkProcess(
  options: SinkProcessOptions,
): Promise<SinkProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "sink.ts",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--fail-rate",
      String(options.failRate),
      "--seed",
      String(options.seed),
      "--log",
      "false",
      ...(options.extraArgs ?? []),
    ],
    cwd: options.root,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream())
    .getReader();
  let seen = "";
  let url: string | null = null;
  const timeout = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, options.startTimeoutMs ?? 30_000);
  try {
    while (url === null) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      const match = /listening on (http:\/\/[^\s]+)/.exec(seen);
      if (match) url = match[1];
    }
  } finally {
    clearTimeout(timeout);
  }
  if (url === null) {
    await child.status;
    throw new Error(`the sink did not start:\n${seen.slice(-2000)}`);
  }
  // Keep draining stderr so the sink never blocks on a full pipe.
  const drained = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  const base = url;
  const port = Number(new URL(base).port);
  let closed: Promise<void> | undefined;
  return {
    url: base,
    port,
    pid: child.pid,
    failRate: options.failRate,
    async reset() {
      const res = await fetch(`${base}/_sink/reset`, { method: "POST" });
      await res.body?.cancel();
      if (res.status !== 204) throw new Error(`sink reset: HTTP ${res.status}`);
    },
    async postCounts() {
      const res = await fetch(`${base}/metrics`);
      return parsePostCounts(await res.text());
    },
    cpuSeconds: () => cpuSecondsOf(child.pid),
    close() {
      closed ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
        await child.status;
        await drained;
      })();
      return closed;
    },
  };
}
