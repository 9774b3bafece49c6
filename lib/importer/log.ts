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

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level printed. @default "INFO" */
  level?: LogLevel;
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
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  critical(message: string): void;
  /** A message about one row (WARNING unless said), rate-limited. */
  row(message: string, level?: LogLevel): void;
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
 * A logger printing `time LEVEL message` lines.
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
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "INFO";
  const write = options.write ?? writeStderr;
  const now = options.now ?? Date.now;
  const perSecond = options.rowWarningsPerSecond ?? 10;
  const threshold = LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LEVELS.indexOf(l) >= threshold;
  const emit = (l: LogLevel, message: string) => {
    if (enabled(l)) {
      write(`${new Date(now()).toISOString()} ${l} ${message}`);
    }
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
    debug: (m) => emit("DEBUG", m),
    info: (m) => emit("INFO", m),
    warn: (m) => emit("WARNING", m),
    error: (m) => emit("ERROR", m),
    critical: (m) => emit("CRITICAL", m),
    row(message, l = "WARNING") {
      if (!enabled(l)) return;
      const t = now();
      if (t - windowStart >= 1000) {
        flush();
        windowStart = t;
        shownInWindow = 0;
      }
      if (shownInWindow < perSecond) {
        shownInWindow++;
        emit(l, message);
      } else {
        suppressed++;
      }
    },
    flush,
  };
}
