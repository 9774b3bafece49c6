/**
 * Leveled logging to standard error, so standard output stays free for data.
 * Per-row warnings are rate-limited: a file with 100,000 bad rows prints a
 * few lines a second and a count of what it left out.
 *
 * @module
 */

/** The levels, from most to least verbose (the exercise's names). */
export const LEVELS = [
  "DEBUG",
  "INFO",
  "WARNING",
  "ERROR",
  "CRITICAL",
] as const;

/** One of {@link LEVELS}. */
export type LogLevel = typeof LEVELS[number];

/** Structured details of an event, for JSON logs (stable keys). */
export interface LogData {
  /** The input line the event is about. */
  line?: number;
  /** The field at fault. */
  field?: string;
  /** A short, stable reason (the report's reason key). */
  reason?: string;
  /** The HTTP status. */
  status?: number;
  /** The attempt's number for the row, from 1. */
  attempt?: number;
}

/** How a log line is written. */
export type LogFormat = "text" | "json";

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level printed. @default "INFO" */
  level?: LogLevel;
  /** `text`: `time LEVEL message`; `json`: one object per line with `time`, `level`, `msg` and the {@link LogData} keys. @default "text" */
  format?: LogFormat;
  /** Where a finished line goes. @default a synchronous write to stderr */
  write?: (line: string) => void;
  /** The clock, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Row messages printed per second at most; the rest are counted. @default 10 */
  rowWarningsPerSecond?: number;
}

/** A leveled logger; see {@link createLogger}. */
export interface Logger {
  /** The configured level. */
  readonly level: LogLevel;
  /** Whether a message at this level would be printed. */
  enabled(level: LogLevel): boolean;
  debug(message: string, data?: LogData): void;
  info(message: string, data?: LogData): void;
  warn(message: string, data?: LogData): void;
  error(message: string, data?: LogData): void;
  critical(message: string, data?: LogData): void;
  /** A message about one row (WARNING unless said), rate-limited. */
  row(message: string, level?: LogLevel, data?: LogData): void;
  /** Prints how many row warnings were left out, if any. */
  flush(): void;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

/**
 * A logger printing `time LEVEL message` lines, or one JSON object per
 * event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ level: "WARNING", write: (l) => lines.push(l) });
 * log.info("hidden");
 * log.warn("shown");
 * assert.ok(lines.length === 1 && lines[0].includes("WARNING shown"));
 *
 * const json: string[] = [];
 * const machine = createLogger({ format: "json", write: (l) => json.push(l) });
 * machine.row("line 7: title is empty", "WARNING", { line: 7, field: "title" });
 * assert.deepEqual(
 *   Object.keys(JSON.parse(json[0])),
 *   ["time", "level", "msg", "line", "field"],
 * );
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "INFO";
  const write = options.write ?? writeStderr;
  const now = options.now ?? Date.now;
  const perSecond = options.rowWarningsPerSecond ?? 10;
  const threshold = LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LEVELS.indexOf(l) >= threshold;
  const json = options.format === "json";
  const emit = (l: LogLevel, message: string, data?: LogData) => {
    if (!enabled(l)) return;
    const time = new Date(now()).toISOString();
    write(
      json
        ? JSON.stringify({ time, level: l, msg: message, ...data })
        : `${time} ${l} ${message}`,
    );
  };
  let windowStart = -Infinity;
  let shownInWindow = 0;
  let suppressed = 0;
  const flush = () => {
    if (suppressed > 0) {
      emit(
        "WARNING",
        `${suppressed} more row message${
          suppressed === 1 ? "" : "s"
        } not shown (every rejected row is in the rejects file)`,
      );
      suppressed = 0;
    }
  };
  return {
    level,
    enabled,
    debug: (m, d) => emit("DEBUG", m, d),
    info: (m, d) => emit("INFO", m, d),
    warn: (m, d) => emit("WARNING", m, d),
    error: (m, d) => emit("ERROR", m, d),
    critical: (m, d) => emit("CRITICAL", m, d),
    row(message, l = "WARNING", data) {
      if (!enabled(l)) return;
      const t = now();
      if (t - windowStart >= 1000) {
        flush();
        windowStart = t;
        shownInWindow = 0;
      }
      if (shownInWindow < perSecond) {
        shownInWindow++;
        emit(l, message, data);
      } else {
        suppressed++;
      }
    },
    flush,
  };
}
