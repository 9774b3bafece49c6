/**
 * Runs a benchmark subprocess and measures it from the outside: wall time,
 * CPU time and peak RSS as the OS counts them (`/usr/bin/time -f %M` when
 * it exists, else `VmHWM` polled from `/proc/<pid>/status`), with an
 * optional time cap that sends the process a signal (SIGINT lets the
 * importer finish its requests in flight and write its report).
 *
 * @module
 */

const decoder = new TextDecoder();
const TIME = "/usr/bin/time";
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

/** What {@link runMeasured} saw. */
export interface Measured {
  /** Exit code. */
  code: number;
  /** Wall time from spawn to exit, ms. */
  wallMs: number;
  /** Peak resident set size, KiB (0 when unknown). */
  peakRssKb: number;
  /** Where `peakRssKb` came from. */
  rssSource: "time" | "proc" | "none";
  /** User CPU, s. */
  userS: number;
  /** System CPU, s. */
  sysS: number;
  /** Whether the time cap was reached and the process was signalled. */
  capped: boolean;
  /** Standard output (empty unless `stdout: "piped"`). */
  stdout: string;
  /** The last 4,000 characters of standard error. */
  stderrTail: string;
}

/** Options of {@link runMeasured}. */
export interface MeasureOptions {
  /** Working folder. */
  cwd: string;
  /** Signal the process after this many ms. @default no cap */
  capMs?: number;
  /** The signal sent at the cap. @default "SIGINT" */
  capSignal?: Deno.Signal;
  /** Collect standard output. @default "null" */
  stdout?: "piped" | "null";
  /** Wrap with `/usr/bin/time` when it exists. @default true */
  useTime?: boolean;
}

let timeAvailable: boolean | undefined;

/** Whether `/usr/bin/time` exists. */
function hasTime(): boolean {
  if (timeAvailable === undefined) {
    try {
      timeAvailable = Deno.statSync(TIME).isFile;
    } catch {
      timeAvailable = false;
    }
  }
  return timeAvailable;
}

/** The first child of a process (`/proc/<pid>/task/<pid>/children`). */
function firstChild(pid: number): number | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`);
    const first = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : null;
  } catch {
    return null;
  }
}

/**
 * `VmHWM` of a live process in KiB, or null when it is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakRssOf } from "./_process.ts";
 * assert.ok((peakRssOf(Deno.pid) ?? 1) > 0);
 * ```
 */
export function peakRssOf(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a live process has used, or null when gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuSecondsOf } from "./_process.ts";
 * assert.ok((cpuSecondsOf(Deno.pid) ?? 0) >= 0);
 * ```
 */
export function cpuSecondsOf(pid: number): number | null {
  const times = cpuTimesOf(pid);
  return times === null ? null : times.user + times.sys;
}

function cpuTimesOf(pid: number): { user: number; sys: number } | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return {
      user: Number(fields[11]) / CLOCK_TICKS,
      sys: Number(fields[12]) / CLOCK_TICKS,
    };
  } catch {
    return null;
  }
}

async function readAll(
  stream: ReadableStream<Uint8Array> | null,
  keepTail: number,
): Promise<string> {
  if (stream === null) return "";
  let text = "";
  const textStream = stream.pipeThrough(new TextDecoderStream());
  for await (const chunk of textStream) {
    text += chunk;
    if (keepTail > 0 && text.length > 4 * keepTail) {
      text = text.slice(-keepTail);
    }
  }
  return keepTail > 0 ? text.slice(-keepTail) : text;
}

/**
 * Runs `command args…` to its end and measures it.
 *
 * @example
 * ```ts ignore
 * import { runMeasured } from "./_process.ts";
 * const m = await runMeasured("deno", ["--version"], { cwd: ".", stdout: "piped" });
 * console.log(m.peakRssKb, m.stdout);
 * ```
 */
export async function runMeasured(
  command: string,
  args: string[],
  options: MeasureOptions,
): Promise<Measured> {
  const useTime = (options.useTime ?? true) && hasTime();
  let timeFile: string | null = null;
  let argv = [command, ...args];
  if (useTime) {
    timeFile = await Deno.makeTempFile({ prefix: "bench-time-" });
    argv = [TIME, "-o", timeFile, "-f", "%M %e %U %S", ...argv];
  }
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: options.stdout ?? "null",
    stderr: "piped",
  }).spawn();
  const stdoutText = options.stdout === "piped"
    ? readAll(child.stdout, 0)
    : Promise.resolve("");
  const stderrText = readAll(child.stderr, 4000);

  // The measured process: the child, or time's child.
  let target: number | null = useTime ? null : child.pid;
  let polledPeak = 0;
  let polledCpu: { user: number; sys: number } | null = null;
  let capped = false;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const poll = () => {
    if (target === null) target = firstChild(child.pid);
    if (target === null) return;
    const peak = peakRssOf(target);
    if (peak !== null && peak > polledPeak) polledPeak = peak;
    polledCpu = cpuTimesOf(target) ?? polledCpu;
  };
  const timer = setInterval(poll, 50);
  let capTimer: ReturnType<typeof setTimeout> | undefined;
  if (options.capMs !== undefined) {
    capTimer = setTimeout(() => {
      if (exited) return;
      poll();
      if (target === null) return;
      capped = true;
      try {
        Deno.kill(target, options.capSignal ?? "SIGINT");
      } catch { /* already gone */ }
    }, options.capMs);
  }
  const { code: wrapperCode } = await status;
  const wallMs = performance.now() - started;
  clearInterval(timer);
  clearTimeout(capTimer);
  const [stdout, stderrTail] = await Promise.all([stdoutText, stderrText]);

  let code = wrapperCode;
  let peakRssKb = polledPeak;
  let rssSource: Measured["rssSource"] = polledPeak > 0 ? "proc" : "none";
  let userS = (polledCpu as { user: number } | null)?.user ?? 0;
  let sysS = (polledCpu as { sys: number } | null)?.sys ?? 0;
  if (timeFile !== null) {
    const text = await Deno.readTextFile(timeFile).catch(() => "");
    await Deno.remove(timeFile).catch(() => {});
    const lines = text.trim().split("\n");
    const last = lines[lines.length - 1]?.trim().split(/\s+/) ?? [];
    if (last.length === 4 && last.every((x) => Number.isFinite(Number(x)))) {
      peakRssKb = Number(last[0]);
      rssSource = "time";
      userS = Number(last[2]);
      sysS = Number(last[3]);
    }
    // GNU time exits with the command's status (128 + n for a signal).
    const exitLine = /exited with non-zero status (\d+)/.exec(text);
    code = exitLine ? Number(exitLine[1]) : wrapperCode;
  }
  return {
    code,
    wallMs,
    peakRssKb,
    rssSource,
    userS,
    sysS,
    capped,
    stdout,
    stderrTail,
  };
}

/**
 * Runs a command to its end and returns its exit code and output, unmeasured.
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
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}
