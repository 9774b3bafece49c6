/**
 * Private helpers of the sink modules.
 *
 * @module
 */

/**
 * Resolves after `ms`, or at once when `signal` is (or becomes) aborted,
 * so that closing the sink never waits for a pending delay and leaves no
 * timer behind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./_shared.ts";
 * const started = Date.now();
 * await sleep(10_000, AbortSignal.abort());
 * assert.ok(Date.now() - started < 1000);
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
