/**
 * Runs a benchmark client as a subprocess under GNU time and measures it
 * from the outside: user + system CPU of the whole process (every thread)
 * and its peak RSS as the OS counts them (`/usr/bin/time -f '%U %S %M'`),
 * its wall time, and the garbage collections V8 printed (`--trace-gc` lines
 * on its stdout, counted as they stream by).
 *
 * @module
 */

const TIME = "/usr/bin/time";

/** What GNU time reported. */
export interface TimeFigures {
  /** User CPU, s. */
  userS: number;
  /** System CPU, s. */
  sysS: number;
  /** Peak resident set size, KiB. */
  maxRssKb: number;
  /** The exit status time saw, when it was not 0. */
  exitStatus: number | null;
  /** The signal that ended the command, if one did. */
  signal: number | null;
}

/**
 * Reads the output of `/usr/bin/time -f '%U %S %M'`: its last line holds the
 * figures; a line before it may say `Command exited with non-zero status N`
 * or `Command terminated by signal N`. Null when no figures are there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeOutput } from "./_process.ts";
 * const t = parseTimeOutput("Command exited with non-zero status 1\n1.52 0.31 104256\n");
 * assert.deepEqual(t, { userS: 1.52, sysS: 0.31, maxRssKb: 104256, exitStatus: 1, signal: null });
 * assert.equal(parseTimeOutput("garbage"), null);
 * ```
 */
export function parseTimeOutput(text: string): TimeFigures | null {
  const lines = text.trim().split("\n").map((l) => l.trim());
  const last = lines[lines.length - 1].split(/\s+/);
  if (last.length !== 3) return null;
  const [userS, sysS, maxRssKb] = last.map(Number);
  if (![userS, sysS, maxRssKb].every((n) => Number.isFinite(n) && n >= 0)) {
    return null;
  }
  const exit = /exited with non-zero status (\d+)/.exec(text);
  const signal = /terminated by signal (\d+)/.exec(text);
  return {
    userS,
    sysS,
    maxRssKb,
    exitStatus: exit ? Number(exit[1]) : null,
    signal: signal ? Number(signal[1]) : null,
  };
}

/** Garbage collections counted from `--trace-gc` lines. */
export interface GcCounts {
  /** Young-generation collections (Scavenge, Minor Mark-Sweep). */
  scavenges: number;
  /** Full collections (Mark-Compact, incremental or not, Mark-Sweep). */
  fullGcs: number;
  /** Trace lines of another kind. */
  other: number;
}

/** One trace line: `[pid:isolate]  123 ms: <kind> 3.3 (4.4) -> 3.2 (5.4) MB, …`. */
const GC_LINE =
  /\[\d+:0x[0-9a-f]+\]\s+\d+(?:\.\d+)? ms: ([A-Za-z][^\d\n]*?) \d/g;

/**
 * The kind of collection a `--trace-gc` event names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gcKind } from "./_process.ts";
 * assert.equal(gcKind("Scavenge (during sweeping)"), "scavenges");
 * assert.equal(gcKind("Incremental Mark-Compact (reduce)"), "fullGcs");
 * assert.equal(gcKind("Memory reducer"), "other");
 * ```
 */
export function gcKind(kind: string): keyof GcCounts {
  if (/Scavenge|Minor Mark-Sweep/i.test(kind)) return "scavenges";
  if (/Mark-Compact|Mark-Sweep/i.test(kind)) return "fullGcs";
  return "other";
}

/**
 * Counts the collections in a piece of `--trace-gc` output (other output
 * mixed in, even on the same line, is ignored). Feed it whole lines:
 * {@link GcCounter} does that for a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countGc } from "./_process.ts";
 * const text = [
 *   "[81:0x55b7]       35 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, pooled: 0.0 MB, 2.21 / 0.00 ms allocation failure;",
 *   "summary: 12 rows",
 *   "[81:0x55b7]      218 ms: Incremental Mark-Compact 38.4 (43.5) -> 11.1 (19.1) MB, pooled: 22.8 MB",
 * ].join("\n");
 * assert.deepEqual(countGc(text), { scavenges: 1, fullGcs: 1, other: 0 });
 * ```
 */
export function countGc(text: string, into?: GcCounts): GcCounts {
  const counts = into ?? { scavenges: 0, fullGcs: 0, other: 0 };
  for (const match of text.matchAll(GC_LINE)) counts[gcKind(match[1])]++;
  return counts;
}

/**
 * Counts collections in a stream of text chunks that may split lines
 * anywhere: only whole lines are counted, the rest waits for the next chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GcCounter } from "./_process.ts";
 * const c = new GcCounter();
 * c.push("[1:0xab]  5 ms: Scav");
 * c.push("enge 1.0 (2.0) -> 0.5 (2.0) MB\n[1:0xab]  9 ms: Mark-Compact 2.0 (3.0) -> 1.0 (2.0) MB");
 * assert.deepEqual(c.end(), { scavenges: 1, fullGcs: 1, other: 0 });
 * ```
 */
export class GcCounter {
  readonly counts: GcCounts = { scavenges: 0, fullGcs: 0, other: 0 };
  #rest = "";

  /** Counts the whole lines of `chunk` (with what was left before it). */
  push(chunk: string): void {
    const text = this.#rest + chunk;
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.#rest = text.length > 1_000_000 ? "" : text;
      return;
    }
    countGc(text.slice(0, end), this.counts);
    this.#rest = text.slice(end + 1);
  }

  /** Counts what is left and returns the totals. */
  end(): GcCounts {
    countGc(this.#rest, this.counts);
    this.#rest = "";
    return this.counts;
  }
}

/** What {@link runMeasured} saw. */
export interface Measured {
  /** Exit code of the command. */
  code: number;
  /** Spawn to exit, ms. */
  wallMs: number;
  /** User CPU, s (all threads). */
  userS: number;
  /** System CPU, s (all threads). */
  sysS: number;
  /** Peak RSS, KiB. */
  peakRssKb: number;
  /** Collections V8 printed on stdout. */
  gc: GcCounts;
  /** The last 8,000 characters of standard error. */
  stderrTail: string;
}

/** Whether GNU time is there; it is required. */
export function hasGnuTime(): boolean {
  try {
    return Deno.statSync(TIME).isFile;
  } catch {
    return false;
  }
}

async function tail(stream: ReadableStream<Uint8Array>, keep: number) {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.length > 4 * keep) text = text.slice(-keep);
  }
  return text.slice(-keep);
}

async function countStream(stream: ReadableStream<Uint8Array>) {
  const counter = new GcCounter();
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    counter.push(chunk);
  }
  return counter.end();
}

/**
 * Runs `command args…` under `/usr/bin/time` in `cwd` to its end.
 *
 * @example
 * ```ts ignore
 * import { runMeasured } from "./_process.ts";
 * const m = await runMeasured(Deno.execPath(), ["--version"], ".");
 * console.log(m.userS + m.sysS, m.peakRssKb);
 * ```
 */
export async function runMeasured(
  command: string,
  args: string[],
  cwd: string,
): Promise<Measured> {
  const timeFile = await Deno.makeTempFile({ prefix: "bench-time-" });
  try {
    const started = performance.now();
    const child = new Deno.Command(TIME, {
      args: ["-o", timeFile, "-f", "%U %S %M", command, ...args],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [gc, stderrTail, status] = await Promise.all([
      countStream(child.stdout),
      tail(child.stderr, 8000),
      child.status,
    ]);
    const wallMs = performance.now() - started;
    const time = parseTimeOutput(await Deno.readTextFile(timeFile));
    if (time === null) {
      throw new Error(`no figures from ${TIME} (exit ${status.code})`);
    }
    const code = time.signal !== null ? 128 + time.signal : status.code;
    return {
      code,
      wallMs,
      userS: time.userS,
      sysS: time.sysS,
      peakRssKb: time.maxRssKb,
      gc,
      stderrTail,
    };
  } finally {
    await Deno.remove(timeFile).catch(() => {});
  }
}

/**
 * Runs a command to its end, unmeasured, and returns its code and output.
 *
 * @example
 * ```ts ignore
 * import { runPlain } from "./_process.ts";
 * const { code, stdout } = await runPlain("deno", ["--version"], ".");
 * ```
 */
export async function runPlain(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}
