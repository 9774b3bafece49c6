/**
 * Private helpers of the sink modules.
 *
 * @module
 */

/**
 * The timer functions {@link sleep} uses (injected by tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Timers } from "./_shared.ts";
 * const timers: Timers = {
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (id) => clearTimeout(id as number),
 * };
 * assert.equal(typeof timers.setTimeout, "function");
 * ```
 */
export interface Timers {
  /** Calls `fn` after `ms`; returns what `clearTimeout` takes. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of `setTimeout`. */
  clearTimeout(id: unknown): void;
}

const GLOBAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/**
 * Resolves after `ms`, or at once when `signal` is (or becomes) aborted,
 * so that closing the sink never waits for a pending delay and leaves no
 * timer behind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./_shared.ts";
 * // Aborted: it resolves before even a 0 ms timer fires.
 * let timerFired = false;
 * const timer = setTimeout(() => timerFired = true, 0);
 * await sleep(10_000, AbortSignal.abort());
 * clearTimeout(timer);
 * assert.equal(timerFired, false);
 * ```
 */
export function sleep(
  ms: number,
  signal: AbortSignal,
  timers: Timers = GLOBAL_TIMERS,
): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timers.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = timers.setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
