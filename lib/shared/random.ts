/**
 * Seedable pseudo-random numbers, so that anything random (the sink's 503s,
 * the generator's rows, retry jitter) can be replayed in tests.
 *
 * @module
 */

/** A source of uniform numbers in `[0, 1)`, like `Math.random`. */
export type Random = () => number;

/**
 * A fast 32-bit generator (mulberry32) for a given seed; the same seed gives
 * the same sequence on every machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seededRandom } from "./random.ts";
 * const a = seededRandom(42), b = seededRandom(42);
 * assert.ok(a() === b());
 * ```
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `seededRandom(seed)` when a seed is given, otherwise `Math.random`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomSource } from "./random.ts";
 * const r = randomSource(undefined);
 * assert.ok(r() < 1);
 * ```
 */
export function randomSource(seed: number | undefined): Random {
  return seed === undefined ? Math.random : seededRandom(seed);
}
