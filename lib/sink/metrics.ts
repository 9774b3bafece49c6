/**
 * The sink's Prometheus counters: `sink_post_total{status}` and
 * `sink_get_total{status}` like the real service, plus
 * `sink_dropped_total`, `sink_store_dropped_total` and `sink_replayed_total`
 * for the fault modes and `sink_timeouts_total{kind}` for the connections
 * the server timeouts closed.
 *
 * The hot path only bumps a slot in a typed array; the prom-client
 * counters are filled from those slots when `/metrics` is scraped (their
 * `collect` hook), so a request costs no label hashing. As in Go's client,
 * a status shows up once it has been counted at least once.
 *
 * @module
 */

import { Counter, Registry } from "./_deps.ts";

/**
 * The counts so far, by HTTP status (only statuses seen are present).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SinkCounts } from "./metrics.ts";
 * const counts: SinkCounts = {
 *   post: { "201": 8, "503": 2 }, get: {}, dropped: 0, storeDropped: 0,
 *   replayed: 0, timeouts: { idle: 3, read: 0, write: 0 },
 * };
 * assert.equal(counts.post["503"], 2);
 * ```
 */
export interface SinkCounts {
  /** POST answers by status, e.g. `{ "201": 8, "503": 2 }`. */
  post: Record<string, number>;
  /** GET `/{key}` answers by status, e.g. `{ "200": 1 }`. */
  get: Record<string, number>;
  /** POSTs whose connection was dropped without an answer. */
  dropped: number;
  /**
   * Accepted POSTs (stored, counted `201`) whose connection was then
   * dropped without an answer.
   */
  storeDropped: number;
  /** POSTs answered from a remembered `Idempotency-Key`, not stored again. */
  replayed: number;
  /**
   * Server timeouts: idle connections closed, requests cut by the read
   * timeout (headers: closed; body: answered 500), answers not sent
   * because the write timeout had passed.
   */
  timeouts: Record<TimeoutKind, number>;
}

/**
 * Which server timeout fired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TimeoutKind } from "./metrics.ts";
 * const kind: TimeoutKind = "idle";
 * assert.equal(kind, "idle");
 * ```
 */
export type TimeoutKind = "idle" | "read" | "write";

/**
 * The counters of one sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics, type SinkMetrics } from "./metrics.ts";
 * const metrics: SinkMetrics = createMetrics();
 * metrics.countGet(200);
 * assert.equal(metrics.snapshot().get["200"], 1);
 * ```
 */
export interface SinkMetrics {
  /** Counts one answered POST. */
  countPost(status: number): void;
  /** Counts one answered GET `/{key}`. */
  countGet(status: number): void;
  /** Counts one dropped POST. */
  countDropped(): void;
  /** Counts one POST stored, then dropped. */
  countStoreDropped(): void;
  /** Counts one connection closed (or request cut) by a server timeout. */
  countTimeout(kind: TimeoutKind): void;
  /** Counts one POST answered from a remembered idempotency key. */
  countReplayed(): void;
  /** The counts as plain numbers. */
  snapshot(): SinkCounts;
  /** The Prometheus text exposition of the counters. */
  text(): Promise<string>;
  /** The `Content-Type` of {@link SinkMetrics.text}. */
  readonly contentType: string;
  /** Zeroes every counter (like restarting the real service). */
  reset(): void;
}

/** The counts themselves: a slot per HTTP status, plain numbers. */
interface Tallies {
  post: Float64Array;
  get: Float64Array;
  dropped: number;
  storeDropped: number;
  replayed: number;
  timeouts: Record<TimeoutKind, number>;
}

function newTallies(): Tallies {
  return {
    post: new Float64Array(600),
    get: new Float64Array(600),
    dropped: 0,
    storeDropped: 0,
    replayed: 0,
    timeouts: { idle: 0, read: 0, write: 0 },
  };
}

function zeroTallies(t: Tallies): void {
  t.post.fill(0);
  t.get.fill(0);
  t.dropped = 0;
  t.storeDropped = 0;
  t.replayed = 0;
  t.timeouts.idle = t.timeouts.read = t.timeouts.write = 0;
}

/** The statuses counted at least once, with their counts. */
function byStatus(slots: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let status = 0; status < slots.length; status++) {
    if (slots[status] > 0) out[status] = slots[status];
  }
  return out;
}

function snapshotOf(t: Tallies): SinkCounts {
  return {
    post: byStatus(t.post),
    get: byStatus(t.get),
    dropped: t.dropped,
    storeDropped: t.storeDropped,
    replayed: t.replayed,
    timeouts: { ...t.timeouts },
  };
}

/**
 * A counter whose values are read from `read` at each scrape, one series
 * per key of what it returns (under label `label`), or one plain number.
 */
function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  label: string | null,
  read: () => number | Record<string, number>,
): void {
  new Counter({
    name,
    help,
    labelNames: label === null ? [] : [label],
    registers: [registry],
    collect() {
      this.reset();
      const value = read();
      if (typeof value === "number") return this.inc(value);
      for (const [key, count] of Object.entries(value)) {
        if (count > 0) this.inc({ [label!]: key }, count);
      }
    },
  });
}

/** The sink's counters, in their order on `/metrics`. */
function registerCounters(registry: Registry, t: Tallies): void {
  scrapedCounter(
    registry,
    "sink_post_total",
    "POST requests answered, by HTTP status.",
    "status",
    () => byStatus(t.post),
  );
  scrapedCounter(
    registry,
    "sink_get_total",
    "GET requests answered, by HTTP status.",
    "status",
    () => byStatus(t.get),
  );
  scrapedCounter(
    registry,
    "sink_dropped_total",
    "POST requests whose connection was closed without an answer.",
    null,
    () => t.dropped,
  );
  scrapedCounter(
    registry,
    "sink_store_dropped_total",
    "POST requests stored and counted 201, then closed without an answer.",
    null,
    () => t.storeDropped,
  );
  scrapedCounter(
    registry,
    "sink_timeouts_total",
    "Connections closed or requests cut by a server timeout, by kind.",
    "kind",
    () => t.timeouts,
  );
  scrapedCounter(
    registry,
    "sink_replayed_total",
    "POST requests answered 201 from a repeated Idempotency-Key.",
    null,
    () => t.replayed,
  );
}

/**
 * Creates the counters in a registry of their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * const m = createMetrics();
 * m.countPost(201);
 * m.countPost(503);
 * m.countPost(201);
 * m.countTimeout("idle");
 * assert.equal(m.snapshot().post["201"], 2);
 * assert.equal(m.snapshot().timeouts.idle, 1);
 * const text = await m.text();
 * assert.ok(text.includes('sink_post_total{status="201"} 2'));
 * assert.ok(text.includes('sink_timeouts_total{kind="idle"} 1'));
 * ```
 */
export function createMetrics(): SinkMetrics {
  const t = newTallies();
  const registry = new Registry();
  registerCounters(registry, t);
  return {
    countPost(status) {
      t.post[status]++;
    },
    countGet(status) {
      t.get[status]++;
    },
    countDropped() {
      t.dropped++;
    },
    countStoreDropped() {
      t.storeDropped++;
    },
    countTimeout(kind) {
      t.timeouts[kind]++;
    },
    countReplayed() {
      t.replayed++;
    },
    snapshot: () => snapshotOf(t),
    text: () => registry.metrics(),
    contentType: registry.contentType,
    reset: () => zeroTallies(t),
  };
}
