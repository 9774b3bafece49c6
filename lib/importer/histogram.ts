/**
 * A small latency histogram: fixed log-spaced buckets (about 2 % wide, from
 * 1 µs to over an hour), constant memory however many values are added.
 *
 * @module
 */

const PER_DOUBLING = 32;
const MIN_MS = 0.001;
const BUCKETS = PER_DOUBLING * 32;

/**
 * Latencies in milliseconds, with quantiles accurate to about 2 %.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram();
 * for (let ms = 1; ms <= 100; ms++) h.add(ms);
 * assert.ok(Math.abs(h.quantile(0.5) - 50) <= 1.5);
 * assert.equal(h.count, 100);
 * ```
 */
export class Histogram {
  #counts = new Uint32Array(BUCKETS);
  /** Values added. */
  count = 0;
  /** The largest value added. */
  max = 0;

  /** Adds one value, in ms. */
  add(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(
      BUCKETS - 1,
      Math.floor(Math.log2(ms / MIN_MS) * PER_DOUBLING),
    );
    this.#counts[i]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The value below which a share `q` (0..1) of the values lie; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        const mid = MIN_MS * 2 ** ((i + 0.5) / PER_DOUBLING);
        return Math.min(mid, this.max);
      }
    }
    return this.max;
  }
}
