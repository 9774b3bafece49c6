/**
 * Live progress for the operator. On a terminal: one status line redrawn in
 * place (at most 10 times a second) with log lines printed above it. Not on a
 * terminal: a plain `progress …` INFO line every 5 s. The text of the line is
 * a pure function ({@link progressLine}); time, width and output are injected.
 *
 * The redraw is `\r` + erase line (`ESC [2K`) + the line, never more than one
 * line and never in the terminal's last column, so nothing wraps. (log-update
 * was tried and left out: its ansi-escapes dependency reads TERM_PROGRAM,
 * TERM and TMUX when imported, which throws or prompts under the importer's
 * narrow `--allow-env` list.)
 *
 * @module
 */

import { styleText } from "node:util";

/** Where the run is, as the pipeline counts it. */
export interface ProgressSnapshot {
  /** Bytes of the input read so far. */
  bytesRead: number;
  /** The input's size in bytes; 0 if unknown. */
  totalBytes: number;
  /** Rows delivered in this run. */
  delivered: number;
  /** Rows rejected in this run (invalid, refused, failed). */
  rejected: number;
  /** Rows skipped because an earlier run delivered them. */
  alreadyDelivered: number;
  /** Rows waiting for a retry. */
  retrying: number;
  /** Requests in flight. */
  inFlight: number;
}

/** How progress is shown: `auto` is `bar` on a terminal and `lines` otherwise. */
export type ProgressMode = "auto" | "bar" | "lines" | "off";

/** The modes a {@link Progress} actually runs in. */
export type ResolvedMode = Exclude<ProgressMode, "auto">;

/** The values {@link parseProgressMode} accepts. */
export const PROGRESS_MODES: readonly ProgressMode[] = [
  "auto",
  "bar",
  "lines",
  "off",
];

/**
 * A setting's text as a mode, or `null` if it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProgressMode } from "./progress.ts";
 * assert.equal(parseProgressMode("Bar"), "bar");
 * assert.equal(parseProgressMode("fancy"), null);
 * ```
 */
export function parseProgressMode(text: string): ProgressMode | null {
  const mode = text.trim().toLowerCase();
  return (PROGRESS_MODES as readonly string[]).includes(mode)
    ? mode as ProgressMode
    : null;
}

/**
 * The mode to run in: `auto` becomes `bar` on a terminal, `lines` elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveMode } from "./progress.ts";
 * assert.equal(resolveMode("auto", true), "bar");
 * assert.equal(resolveMode("auto", false), "lines");
 * assert.equal(resolveMode("bar", false), "bar");
 * ```
 */
export function resolveMode(mode: ProgressMode, isTty: boolean): ResolvedMode {
  return mode === "auto" ? (isTty ? "bar" : "lines") : mode;
}

/**
 * Smoothed recent rates: an exponentially weighted moving average over time
 * (time constant `smoothingMs`), corrected for its start so the first seconds
 * read as the average so far instead of climbing up from zero.
 */
export interface RateState {
  /** When the first snapshot came, ms. */
  readonly startedAt: number;
  /** When the last snapshot that moved time came, ms. */
  readonly at: number;
  /** `bytesRead` then. */
  readonly bytesRead: number;
  /** `delivered` then. */
  readonly delivered: number;
  /** The uncorrected averages (internal). */
  readonly bytesAverage: number;
  readonly rowsAverage: number;
  /** Bytes read per second, recent; `null` before any time has passed. */
  readonly bytesPerSecond: number | null;
  /** Rows delivered per second, recent; `null` before any time has passed. */
  readonly rowsPerSecond: number | null;
}

/** Time constant of the rate average, ms. */
export const DEFAULT_SMOOTHING_MS = 5000;

/**
 * The rates after one more snapshot at time `now` (ms). Snapshots may come at
 * any intervals; several at the same time count as one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextRate, type ProgressSnapshot } from "./progress.ts";
 * const at = (delivered: number): ProgressSnapshot => ({
 *   bytesRead: delivered * 100, totalBytes: 0, delivered, rejected: 0,
 *   alreadyDelivered: 0, retrying: 0, inFlight: 0,
 * });
 * let rate = nextRate(undefined, at(0), 0);
 * assert.equal(rate.rowsPerSecond, null);
 * for (let s = 1; s <= 10; s++) rate = nextRate(rate, at(s * 500), s * 1000);
 * assert.ok(Math.abs(rate.rowsPerSecond! - 500) < 1e-6);
 * assert.ok(Math.abs(rate.bytesPerSecond! - 50_000) < 1e-6);
 * ```
 */
export function nextRate(
  previous: RateState | undefined,
  snapshot: ProgressSnapshot,
  now: number,
  smoothingMs: number = DEFAULT_SMOOTHING_MS,
): RateState {
  if (previous === undefined) {
    return {
      startedAt: now,
      at: now,
      bytesRead: snapshot.bytesRead,
      delivered: snapshot.delivered,
      bytesAverage: 0,
      rowsAverage: 0,
      bytesPerSecond: null,
      rowsPerSecond: null,
    };
  }
  const ms = now - previous.at;
  if (ms <= 0) return previous;
  const alpha = 1 - Math.exp(-ms / smoothingMs);
  const perSecond = (delta: number) => Math.max(0, delta) / (ms / 1000);
  const bytesAverage = previous.bytesAverage +
    alpha * (perSecond(snapshot.bytesRead - previous.bytesRead) -
        previous.bytesAverage);
  const rowsAverage = previous.rowsAverage +
    alpha * (perSecond(snapshot.delivered - previous.delivered) -
        previous.rowsAverage);
  const weight = 1 - Math.exp(-(now - previous.startedAt) / smoothingMs);
  return {
    startedAt: previous.startedAt,
    at: now,
    bytesRead: snapshot.bytesRead,
    delivered: snapshot.delivered,
    bytesAverage,
    rowsAverage,
    bytesPerSecond: bytesAverage / weight,
    rowsPerSecond: rowsAverage / weight,
  };
}

/**
 * Milliseconds until the whole file is read at `bytesPerSecond`; `null` if
 * unknown (no size, no rate yet, or a rate of zero).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { etaMs } from "./progress.ts";
 * const s = { bytesRead: 400, totalBytes: 1000, delivered: 0, rejected: 0,
 *   alreadyDelivered: 0, retrying: 0, inFlight: 0 };
 * assert.equal(etaMs(s, 100), 6000);
 * assert.equal(etaMs(s, 0), null);
 * assert.equal(etaMs({ ...s, totalBytes: 0 }, 100), null);
 * ```
 */
export function etaMs(
  snapshot: ProgressSnapshot,
  bytesPerSecond: number | null,
): number | null {
  if (snapshot.totalBytes <= 0) return null;
  const left = Math.max(0, snapshot.totalBytes - snapshot.bytesRead);
  if (left === 0) return 0;
  if (bytesPerSecond === null || !(bytesPerSecond > 0)) return null;
  return (left / bytesPerSecond) * 1000;
}

/**
 * A duration as `m:ss` or `h:mm:ss` (rounded up to the second).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress.ts";
 * assert.equal(formatDuration(59_001), "1:00");
 * assert.equal(formatDuration(3_723_000), "1:02:03");
 * ```
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Longest ETA shown as a time; beyond it `ETA >99h`. */
const MAX_ETA_MS = 99 * 3600 * 1000;

/** What {@link progressLine} needs of the rates. */
export type Rates = Pick<RateState, "bytesPerSecond" | "rowsPerSecond">;

/** Options for {@link progressLine}. */
export interface LineOptions {
  /** Columns the line may take; parts are dropped to fit. @default Infinity */
  width?: number;
  /** ANSI colours (bold percentage, red rejects, yellow retries). @default false */
  color?: boolean;
  /** A `[####----]` bar, when there is room. @default false */
  bar?: boolean;
}

type Style = Parameters<typeof styleText>[0];

/** One item of the line: its text, its rank (0 = kept longest), its colour. */
interface Part {
  text: string;
  rank: number;
  style?: Style;
}

const BAR_WIDTH = 22;
const SEPARATOR = "  ";

function percentText(s: ProgressSnapshot): string {
  if (s.totalBytes <= 0) {
    return `${(s.bytesRead / 1e6).toFixed(1)} MB read`;
  }
  const permille = Math.floor((s.bytesRead / s.totalBytes) * 1000);
  return `${(Math.min(1000, permille) / 10).toFixed(1)}%`.padStart(6);
}

function etaText(s: ProgressSnapshot, rates: Rates | null): string {
  if (s.bytesRead >= s.totalBytes && s.retrying + s.inFlight > 0) {
    return "finishing";
  }
  const ms = etaMs(s, rates?.bytesPerSecond ?? null);
  if (ms === null) return "ETA --:--";
  return ms > MAX_ETA_MS ? "ETA >99h" : `ETA ${formatDuration(ms)}`;
}

function barText(s: ProgressSnapshot): string {
  const inner = BAR_WIDTH - 2;
  const filled = Math.floor(Math.min(1, s.bytesRead / s.totalBytes) * inner);
  return `[${"#".repeat(filled)}${"-".repeat(inner - filled)}]`;
}

/** The parts in display order; `rank` says which survive a narrow width. */
function parts(s: ProgressSnapshot, rates: Rates | null, bar: boolean): Part[] {
  const n = (x: number) => integer.format(x);
  const rate = rates?.rowsPerSecond ?? null;
  const list: (Part | false)[] = [
    bar && s.totalBytes > 0 && { text: barText(s), rank: 8, style: "cyan" },
    { text: percentText(s), rank: 0, style: "bold" },
    { text: `${n(s.delivered)} delivered`, rank: 2 },
    s.alreadyDelivered > 0 &&
    { text: `${n(s.alreadyDelivered)} earlier`, rank: 7 },
    {
      text: `${n(s.rejected)} rejected`,
      rank: 3,
      style: s.rejected > 0 ? "red" : undefined,
    },
    {
      text: `${n(s.retrying)} retrying`,
      rank: 5,
      style: s.retrying > 0 ? "yellow" : undefined,
    },
    { text: `${n(s.inFlight)} in flight`, rank: 6 },
    { text: rate === null ? "--/s" : `${n(rate)}/s`, rank: 4 },
    s.totalBytes > 0 && { text: etaText(s, rates), rank: 1 },
  ];
  return list.filter((p): p is Part => p !== false);
}

/**
 * The text of one status line: percentage of the file, delivered, earlier
 * runs' rows, rejected, retrying, in flight, rows/s and ETA. When `width` is
 * too small, the least important parts go first (the bar, earlier, in flight,
 * retrying, rows/s, rejected, delivered, ETA); the percentage goes last. The
 * width counts visible characters: colour codes are not counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress.ts";
 * const s = { bytesRead: 423, totalBytes: 1000, delivered: 418_233,
 *   rejected: 1_021, alreadyDelivered: 0, retrying: 12, inFlight: 16 };
 * const rates = { bytesPerSecond: 9.78, rowsPerSecond: 9_812 };
 * assert.equal(
 *   progressLine(s, rates),
 *   " 42.3%  418,233 delivered  1,021 rejected  12 retrying  16 in flight  9,812/s  ETA 0:59",
 * );
 * assert.equal(progressLine(s, rates, { width: 40 }), " 42.3%  418,233 delivered  ETA 0:59");
 * ```
 */
export function progressLine(
  snapshot: ProgressSnapshot,
  rates: Rates | null,
  options: LineOptions = {},
): string {
  const width = Math.max(0, Math.floor(options.width ?? Infinity));
  const all = parts(snapshot, rates, options.bar ?? false);
  const kept = new Set<Part>();
  let used = 0;
  for (const part of [...all].sort((a, b) => a.rank - b.rank)) {
    const cost = part.text.length + (kept.size > 0 ? SEPARATOR.length : 0);
    if (used + cost > width) break;
    kept.add(part);
    used += cost;
  }
  if (kept.size === 0) {
    return all.find((p) => p.rank === 0)!.text.trim().slice(0, width);
  }
  return all.filter((p) => kept.has(p)).map((p) =>
    options.color && p.style
      ? styleText(p.style, p.text, { validateStream: false })
      : p.text
  ).join(SEPARATOR);
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** How to show progress. @default "auto" */
  mode?: ProgressMode;
  /** Whether standard error is a terminal (decides `auto`). @default Deno.stderr.isTerminal() */
  isTty?: boolean;
  /** Where text goes, as is (no newline added). @default a synchronous write to stderr */
  write?: (text: string) => void;
  /** The clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** The terminal's width. @default Deno.consoleSize().columns, or 80 if unknown */
  columns?: () => number;
  /** ANSI colours in the bar (never in lines). @default !Deno.noColor (NO_COLOR unset) */
  color?: boolean;
  /** Shortest time between two redraws of the bar, ms. @default 100 */
  redrawMs?: number;
  /** Lines mode: time between two lines, ms. @default 5000 */
  intervalMs?: number;
  /** Time constant of the rows/s and ETA averages, ms. @default 5000 */
  smoothingMs?: number;
  /** Lines mode: where each `progress …` message goes. @default a `time INFO message` line through `write` */
  info?: (message: string) => void;
}

/** Live progress; see {@link createProgress}. */
export interface Progress {
  /** The mode in use (`auto` resolved). */
  readonly mode: ResolvedMode;
  /** The latest counts; call as often as you like (per batch, and from a timer). */
  update(snapshot: ProgressSnapshot): void;
  /** Prints one log line (the logger's sink): above the bar, never through it. */
  log(line: string): void;
  /** Stops: the bar is erased (the summary comes next); later updates are ignored. */
  done(): void;
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** Back to column 0, then erase the whole line. */
const CLEAR_LINE = "\r\x1b[2K";

type Settings =
  & Required<Omit<ProgressOptions, "mode" | "isTty" | "info">>
  & Pick<ProgressOptions, "info">;

/** The bar: one line, redrawn at most every `redrawMs`, log lines above it. */
function barProgress(o: Settings): Progress {
  let rates: RateState | undefined;
  let drawnAt = -Infinity;
  let shown = "";
  let finished = false;
  return {
    mode: "bar",
    update(snapshot) {
      if (finished) return;
      const now = o.now();
      rates = nextRate(rates, snapshot, now, o.smoothingMs);
      if (now - drawnAt < o.redrawMs) return;
      drawnAt = now;
      const width = Math.max(0, o.columns() - 1); // the last column would wrap
      const text = progressLine(snapshot, rates, {
        width,
        color: o.color,
        bar: true,
      });
      if (text === shown) return;
      o.write(CLEAR_LINE + text);
      shown = text;
    },
    log(line) {
      o.write(shown === "" ? `${line}\n` : `${CLEAR_LINE}${line}\n${shown}`);
    },
    done() {
      finished = true;
      if (shown !== "") o.write(CLEAR_LINE);
      shown = "";
    },
  };
}

/** Lines: a `progress …` message every `intervalMs`, counted from the first update. */
function linesProgress(o: Settings): Progress {
  const info = o.info ??
    ((m: string) => o.write(`${new Date(o.now()).toISOString()} INFO ${m}\n`));
  let rates: RateState | undefined;
  let lineAt: number | undefined;
  let finished = false;
  return {
    mode: "lines",
    update(snapshot) {
      if (finished) return;
      const now = o.now();
      rates = nextRate(rates, snapshot, now, o.smoothingMs);
      lineAt ??= now;
      if (now - lineAt < o.intervalMs) return;
      lineAt = now;
      info(`progress ${progressLine(snapshot, rates).trimStart()}`);
    },
    log: (line) => o.write(`${line}\n`),
    done() {
      finished = true;
    },
  };
}

/**
 * Live progress on standard error. `bar` (a terminal): one status line
 * redrawn in place, at most every `redrawMs`, fitted to the width; `log`
 * prints above it. `lines`: a `progress …` INFO message every `intervalMs`.
 * `off`: nothing but the log lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgress } from "./progress.ts";
 * let out = "";
 * let now = 0;
 * const progress = createProgress({
 *   mode: "bar", write: (t) => out += t, now: () => now, columns: () => 80,
 *   color: false,
 * });
 * const s = { bytesRead: 0, totalBytes: 1000, delivered: 0, rejected: 0,
 *   alreadyDelivered: 0, retrying: 0, inFlight: 0 };
 * progress.update(s);
 * now = 1000;
 * progress.update({ ...s, bytesRead: 500, delivered: 50 });
 * progress.log("2026-01-01T00:00:00.000Z WARNING line 7: bad year");
 * progress.done();
 * const screen = out.split("\r\x1b[2K");
 * assert.match(screen.at(-2)!, /^2026.* WARNING line 7: bad year\n.*50\.0%.*50 delivered.*ETA 0:01$/);
 * assert.equal(screen.at(-1), "");
 * ```
 */
export function createProgress(options: ProgressOptions = {}): Progress {
  const settings: Settings = {
    write: options.write ?? writeStderr,
    now: options.now ?? Date.now,
    columns: options.columns ?? terminalColumns,
    color: options.color ?? !Deno.noColor,
    redrawMs: options.redrawMs ?? 100,
    intervalMs: options.intervalMs ?? 5000,
    smoothingMs: options.smoothingMs ?? DEFAULT_SMOOTHING_MS,
    info: options.info,
  };
  const isTty = options.isTty ?? Deno.stderr.isTerminal();
  const mode = resolveMode(options.mode ?? "auto", isTty);
  if (mode === "bar") return barProgress(settings);
  if (mode === "lines") return linesProgress(settings);
  return {
    mode: "off",
    update() {},
    log: (line) => settings.write(`${line}\n`),
    done() {},
  };
}
