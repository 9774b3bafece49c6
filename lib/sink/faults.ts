/**
 * The sink's fault decisions: the real service's random 503s and the
 * optional extra faults (latency, 429, dropped connections, connections
 * dropped after storing, slow answers after storing, a down window). Pure decisions: randomness comes from
 * `lib/random.ts` and time is passed in, so a seeded sink replays exactly.
 *
 * Each fault draws from its own stream, derived from the seed, so turning
 * one fault on does not change the sequence of another (with a seed, the
 * 503s are the same whatever else is set). Nothing is drawn for a fault
 * whose rate is 0.
 *
 * @module
 */

import { type Random, randomSource } from "../shared/random.ts";

/**
 * The fault settings, all resolved (see `SinkOptions` for their meaning).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FaultPlan } from "./faults.ts";
 * const realService: FaultPlan = {
 *   failRate: 0.2, latencyMs: 0, jitterMs: 0, rate429: 0, dropRate: 0,
 *   storeDropRate: 0, slowRate: 0, downAfter: 0, downSeconds: 0,
 * };
 * assert.equal(realService.failRate, 0.2);
 * ```
 */
export interface FaultPlan {
  /** Share of POSTs answered 503 before the body is read, 0..1. */
  failRate: number;
  /** Fixed delay before answering a `/{key}` request, ms. */
  latencyMs: number;
  /** Extra random delay, uniform in [0, jitterMs), ms. */
  jitterMs: number;
  /** Share of POSTs answered 429 with `Retry-After`, 0..1. */
  rate429: number;
  /** Share of POSTs whose connection is closed without an answer, 0..1. */
  dropRate: number;
  /** Share of accepted POSTs stored, then closed without an answer, 0..1. */
  storeDropRate: number;
  /** Share of accepted POSTs stored at once but answered after `slowMs`. */
  slowRate: number;
  /** The POSTs served normally before the down window opens. */
  downAfter: number;
  /** Length of the down window in seconds; 0 = never down. */
  downSeconds: number;
}

/**
 * The per-request decisions of one sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFaults, type Faults } from "./faults.ts";
 * const faults: Faults = createFaults({
 *   failRate: 0, latencyMs: 0, jitterMs: 0, rate429: 1, dropRate: 0,
 *   storeDropRate: 0, slowRate: 0, downAfter: 0, downSeconds: 0,
 * }, 1);
 * assert.ok(!faults.outage() && faults.tooMany());
 * ```
 */
export interface Faults {
  /** The delay before answering this request, ms (0 when off). */
  delayMs(): number;
  /**
   * Counts one POST and tells whether it falls in the down window, which
   * opens at `nowMs` on the first POST after `downAfter` POSTs and lasts
   * `downSeconds` (once; `reset` re-arms it).
   */
  down(nowMs: number): boolean;
  /** Whether this POST gets the random 503. */
  outage(): boolean;
  /** Whether this POST gets a 429. */
  tooMany(): boolean;
  /** Whether this POST's connection is dropped. */
  drop(): boolean;
  /** Whether this accepted POST's connection is dropped after storing. */
  storeDrop(): boolean;
  /** Whether this accepted POST is answered slowly. */
  slow(): boolean;
  /** Back to the start: streams re-seeded, down window re-armed. */
  reset(): void;
}

const GOLDEN = 0x9e3779b9;

/**
 * The random stream number `index` for a seed (stream 0 is the seed's own
 * stream), or `Math.random` without a seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultStream } from "./faults.ts";
 * import { seededRandom } from "../shared/random.ts";
 * assert.equal(faultStream(7, 0)(), seededRandom(7)());
 * assert.notEqual(faultStream(7, 1)(), seededRandom(7)());
 * ```
 */
export function faultStream(seed: number | undefined, index: number): Random {
  return randomSource(
    seed === undefined ? undefined : (seed + Math.imul(index, GOLDEN)) >>> 0,
  );
}

/**
 * Creates the decisions for a plan and an optional seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFaults } from "./faults.ts";
 * const faults = createFaults({
 *   failRate: 1, latencyMs: 5, jitterMs: 0, rate429: 0, dropRate: 0,
 *   storeDropRate: 0, slowRate: 0, downAfter: 1, downSeconds: 2,
 * }, 42);
 * assert.ok(faults.outage() && !faults.tooMany() && !faults.storeDrop());
 * assert.equal(faults.delayMs(), 5);
 * assert.ok(!faults.down(0)); // the first POST is served
 * assert.ok(faults.down(1000) && faults.down(2999) && !faults.down(3000));
 * ```
 */
export function createFaults(plan: FaultPlan, seed?: number): Faults {
  let outageRandom: Random, tooManyRandom: Random, dropRandom: Random;
  let slowRandom: Random, jitterRandom: Random, storeDropRandom: Random;
  let posts = 0;
  let downSince: number | undefined;
  const init = () => {
    outageRandom = faultStream(seed, 0);
    tooManyRandom = faultStream(seed, 1);
    dropRandom = faultStream(seed, 2);
    slowRandom = faultStream(seed, 3);
    jitterRandom = faultStream(seed, 4);
    storeDropRandom = faultStream(seed, 5);
    posts = 0;
    downSince = undefined;
  };
  init();
  const { failRate, latencyMs, jitterMs, rate429, dropRate, slowRate } = plan;
  const { storeDropRate } = plan;
  const downMs = plan.downSeconds * 1000;
  return {
    delayMs: () =>
      jitterMs > 0 ? latencyMs + jitterRandom() * jitterMs : latencyMs,
    down(nowMs) {
      if (downMs <= 0) return false;
      if (downSince === undefined) {
        if (++posts <= plan.downAfter) return false;
        downSince = nowMs;
      }
      return nowMs < downSince + downMs;
    },
    outage: () => failRate > 0 && outageRandom() < failRate,
    tooMany: () => rate429 > 0 && tooManyRandom() < rate429,
    drop: () => dropRate > 0 && dropRandom() < dropRate,
    storeDrop: () => storeDropRate > 0 && storeDropRandom() < storeDropRate,
    slow: () => slowRate > 0 && slowRandom() < slowRate,
    reset: init,
  };
}
