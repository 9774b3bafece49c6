/**
 * The benchmark's arithmetic and its table: per client, 503 rate and
 * concurrency, the min and median over the rounds of the CPU per request,
 * requests/s, collections per 1,000 requests and peak RSS, and each
 * client's median CPU per request over the plain loops'.
 *
 * @module
 */

import type { GcCounts } from "./_process.ts";

/** The clients, in the order they run in every round. */
export const CLIENTS = ["importer", "plain fetch", "plain undici"] as const;

/** One of {@link CLIENTS}. */
export type ClientName = typeof CLIENTS[number];

/** One measured run of one client (one round). */
export interface RoundFigures {
  client: ClientName;
  /** The service's share of 503s. */
  rate: number;
  concurrency: number;
  /** 1-based. */
  round: number;
  exitCode: number;
  /** Spawn to exit, ms. */
  wallMs: number;
  /** CPU of the whole client process, s. */
  userS: number;
  sysS: number;
  /** POSTs the service counted, every status. */
  requests: number;
  /** The service's POST counts by status. */
  post: Record<string, number>;
  /** The service's own CPU during the run, s. */
  serviceCpuS: number;
  /** (user + sys) ÷ requests, µs. */
  cpuUsPerRequest: number;
  /** requests ÷ wall time. */
  requestsPerSecond: number;
  /** Peak RSS, KiB. */
  peakRssKb: number;
  gc: GcCounts;
  /** Collections per 1,000 requests. */
  scavengesPer1k: number;
  fullGcsPer1k: number;
  /** What the client said of itself (its report or result line). */
  self: Record<string, unknown> | null;
  checks: {
    /** Exit code 0. */
    exited0: boolean;
    /** The service's 201s == the bodies to send. */
    every201: boolean;
    /** No 400 from the service. */
    no400: boolean;
  };
}

/** A min and a median. */
export interface Spread {
  min: number;
  median: number;
}

/** One client at one rate and concurrency, over its rounds. */
export interface ClientSummary {
  client: ClientName;
  rate: number;
  concurrency: number;
  rounds: number;
  cpuUsPerRequest: Spread;
  requestsPerSecond: Spread;
  /** Median CPU per request ÷ the plain fetch loop's (same rate, concurrency). */
  cpuVsFetch: number;
  /** Median CPU per request ÷ the plain undici loop's. */
  cpuVsUndici: number;
  /** Median requests/s ÷ the plain fetch loop's. */
  requestsPerSecondVsFetch: number;
  /** Median requests/s ÷ the plain undici loop's. */
  requestsPerSecondVsUndici: number;
  /** Medians of the collections per 1,000 requests. */
  gcPer1k: { scavenges: number; fullGcs: number };
  /** Peak RSS, MB (10^6 bytes): median and max over the rounds. */
  peakRssMB: { median: number; max: number };
}

/**
 * The median (the mean of the middle two for an even count); NaN when empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./_summary.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * assert.ok(Number.isNaN(median([])));
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function spread(values: number[], digits: number): Spread {
  return {
    min: round(Math.min(...values), digits),
    median: round(median(values), digits),
  };
}

/**
 * One summary per client, rate and concurrency that has rounds, in the
 * order rate, concurrency, {@link CLIENTS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarise, type RoundFigures } from "./_summary.ts";
 * const r = (client: RoundFigures["client"], cpu: number) =>
 *   ({ client, rate: 0, concurrency: 16, cpuUsPerRequest: cpu, requestsPerSecond: 1e6 / cpu,
 *      scavengesPer1k: 1, fullGcsPer1k: 0, peakRssKb: 50_000 }) as RoundFigures;
 * const [imp] = summarise([r("importer", 80), r("plain fetch", 40), r("plain undici", 32)]);
 * assert.equal(imp.cpuVsFetch, 2);
 * assert.equal(imp.cpuVsUndici, 2.5);
 * ```
 */
export function summarise(rounds: readonly RoundFigures[]): ClientSummary[] {
  const keys = [...new Set(rounds.map((r) => `${r.rate}|${r.concurrency}`))];
  const out: ClientSummary[] = [];
  for (const key of keys) {
    const here = rounds.filter((r) => `${r.rate}|${r.concurrency}` === key);
    const of = (client: ClientName) => here.filter((r) => r.client === client);
    const cpu = (client: ClientName) =>
      median(of(client).map((r) => r.cpuUsPerRequest));
    const rps = (client: ClientName) =>
      median(of(client).map((r) => r.requestsPerSecond));
    for (const client of CLIENTS) {
      const mine = of(client);
      if (mine.length === 0) continue;
      const c = median(mine.map((r) => r.cpuUsPerRequest));
      const q = median(mine.map((r) => r.requestsPerSecond));
      const rss = mine.map((r) => r.peakRssKb * 1024 / 1e6);
      out.push({
        client,
        rate: mine[0].rate,
        concurrency: mine[0].concurrency,
        rounds: mine.length,
        cpuUsPerRequest: spread(mine.map((r) => r.cpuUsPerRequest), 1),
        requestsPerSecond: spread(mine.map((r) => r.requestsPerSecond), 0),
        cpuVsFetch: round(c / cpu("plain fetch"), 2),
        cpuVsUndici: round(c / cpu("plain undici"), 2),
        requestsPerSecondVsFetch: round(q / rps("plain fetch"), 2),
        requestsPerSecondVsUndici: round(q / rps("plain undici"), 2),
        gcPer1k: {
          scavenges: round(median(mine.map((r) => r.scavengesPer1k)), 2),
          fullGcs: round(median(mine.map((r) => r.fullGcsPer1k)), 3),
        },
        peakRssMB: { median: round(median(rss)), max: round(Math.max(...rss)) },
      });
    }
  }
  return out;
}

const pct = (x: number) => `${round(x * 100, 0)} %`;
const thousands = (n: number) =>
  Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
const fixed = (n: number, d: number) => Number.isFinite(n) ? n.toFixed(d) : "-";

/**
 * The table: one line per client, rate and concurrency.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable, summarise, type RoundFigures } from "./_summary.ts";
 * const r = (client: RoundFigures["client"], cpu: number) =>
 *   ({ client, rate: 0.2, concurrency: 16, cpuUsPerRequest: cpu, requestsPerSecond: 1e6 / cpu,
 *      scavengesPer1k: 1, fullGcsPer1k: 0, peakRssKb: 50_000 }) as RoundFigures;
 * const table = formatTable(summarise([r("importer", 80), r("plain fetch", 40), r("plain undici", 32)]));
 * assert.match(table, /importer .* 80\.0 \/ 80\.0 .* 2\.00 .* 2\.50/);
 * ```
 */
export function formatTable(summaries: readonly ClientSummary[]): string {
  const head = [
    "503",
    "conc",
    "client",
    "CPU µs/request min / median",
    "requests/s",
    "÷ plain fetch",
    "÷ plain undici",
    "scavenges / full GCs per 1,000 req",
    "peak RSS MB",
  ];
  const rows = summaries.map((s) => [
    pct(s.rate),
    String(s.concurrency),
    s.client,
    `${fixed(s.cpuUsPerRequest.min, 1)} / ${
      fixed(s.cpuUsPerRequest.median, 1)
    }`,
    thousands(s.requestsPerSecond.median),
    fixed(s.cpuVsFetch, 2),
    fixed(s.cpuVsUndici, 2),
    `${fixed(s.gcPer1k.scavenges, 2)} / ${fixed(s.gcPer1k.fullGcs, 3)}`,
    fixed(s.peakRssMB.median, 1),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const left = new Set([2]);
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])
    )
      .join("  ");
  return [
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ].join("\n");
}

/**
 * One sentence per rate and concurrency: the importer's share of each plain
 * loop, in requests per CPU-second (the inverse of the ÷ columns) and in
 * requests/s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatShares, summarise, type RoundFigures } from "./_summary.ts";
 * const r = (client: RoundFigures["client"], cpu: number) =>
 *   ({ client, rate: 0, concurrency: 16, cpuUsPerRequest: cpu, requestsPerSecond: 1e6 / cpu,
 *      scavengesPer1k: 1, fullGcsPer1k: 0, peakRssKb: 50_000 }) as RoundFigures;
 * const text = formatShares(summarise([r("importer", 80), r("plain fetch", 40), r("plain undici", 32)]));
 * assert.match(text, /0\.50 of plain fetch/);
 * ```
 */
export function formatShares(summaries: readonly ClientSummary[]): string {
  return summaries.filter((s) => s.client === "importer").map((s) =>
    `importer at ${pct(s.rate)} 503, concurrency ${s.concurrency}: ${
      fixed(1 / s.cpuVsFetch, 2)
    } of plain fetch and ${
      fixed(1 / s.cpuVsUndici, 2)
    } of plain undici in requests per CPU-second; ${
      fixed(s.requestsPerSecondVsFetch, 2)
    } and ${fixed(s.requestsPerSecondVsUndici, 2)} of their requests/s`
  ).join("\n");
}
