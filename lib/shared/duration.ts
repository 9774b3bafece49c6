/**
 * Durations as people write them in flags and `.env` files (`500ms`, `10s`,
 * `2m`, `1h`, or a bare number of seconds), stored as whole milliseconds.
 *
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;

/**
 * Parses a duration into whole milliseconds (rounded), or `null` when the
 * text is not one: a non-negative number with an optional unit `ms`, `s`,
 * `m` or `h` (any case); a bare number means seconds. Surrounding spaces are
 * ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("500ms"), 500);
 * assert.equal(parseDuration("10s"), 10_000);
 * assert.equal(parseDuration("2m"), 120_000);
 * assert.equal(parseDuration("1.5"), 1_500);
 * assert.equal(parseDuration("-1s"), null);
 * assert.equal(parseDuration("soon"), null);
 * ```
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (match === null) return null;
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? "s").toLowerCase()];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/**
 * Writes milliseconds the short way {@link parseDuration} reads back: whole
 * hours, minutes or seconds get their unit, anything else is in `ms`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./duration.ts";
 * assert.equal(formatDuration(10_000), "10s");
 * assert.equal(formatDuration(120_000), "2m");
 * assert.equal(formatDuration(1_500), "1500ms");
 * assert.equal(formatDuration(0), "0ms");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms > 0 && Number.isInteger(ms)) {
    for (const unit of ["h", "m", "s"]) {
      if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
    }
  }
  return `${ms}ms`;
}
