/**
 * What a run did: the counts, the summary printed on stderr, and the JSON
 * report.
 *
 * @module
 */

import type { Rejection, Rule } from "./movie.ts";

/** Every count a run keeps. Rows read = delivered + already delivered + invalid + refused + failed + not reached (+ valid, in a dry run). */
export interface Tally {
  /** Physical lines seen (header, type row, blank lines and rows). */
  lines: number;
  /** Header rows recognised. */
  headerRows: number;
  /** Rows of type names (`INT;INT;STRING;…`) recognised and skipped. */
  typeRows: number;
  /** Blank lines skipped. */
  blankLines: number;
  /** Data rows read (not header, type row or blank). */
  rowsRead: number;
  /** Rows that passed validation. */
  valid: number;
  /** Rows the service accepted (2xx). */
  delivered: number;
  /** Rows skipped because the journal says an earlier run delivered them. */
  alreadyDelivered: number;
  /** Rows that failed validation (or had the wrong shape). */
  invalid: number;
  /** Valid rows the service refused with a final status (a 4xx other than 408/429). */
  refused: number;
  /** Valid rows still failing after every retry. */
  failed: number;
  /** Rows not finished because the run stopped early. */
  notReached: number;
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Retries scheduled. */
  retries: number;
  /** Rejected rows per reason. */
  reasons: Record<string, number>;
}

/**
 * A tally with every count at zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally } from "./report.ts";
 * assert.ok(emptyTally().delivered === 0);
 * ```
 */
export function emptyTally(): Tally {
  return {
    lines: 0,
    headerRows: 0,
    typeRows: 0,
    blankLines: 0,
    rowsRead: 0,
    valid: 0,
    delivered: 0,
    alreadyDelivered: 0,
    invalid: 0,
    refused: 0,
    failed: 0,
    notReached: 0,
    requests: 0,
    retries: 0,
    reasons: {},
  };
}

const RULE_LABELS: Record<Rule, string> = {
  required: "is empty",
  not_integer: "is not a whole number",
  not_number: "is not a number",
  range: "is out of range",
  awards: "is not Yes, No or empty",
  image: "is not a .png, .jpg or .jpeg name",
  corrupted: "contains U+FFFD (corrupted in the file)",
  field_count: "has the wrong number of fields",
  malformed: "has malformed quotes",
};

/**
 * The key a rejection is counted under in the report: field and rule, no value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reasonKey } from "./report.ts";
 * assert.ok(reasonKey({ field: "year", rule: "range", message: "" }) === "year is out of range");
 * ```
 */
export function reasonKey(rejection: Rejection): string {
  return `${rejection.field} ${RULE_LABELS[rejection.rule]}`;
}

/** How a run ended. */
export type RunEnd =
  | "complete"
  | "interrupted"
  | "stopped_on_errors"
  | "gave_up"
  | "input_error";

/** The JSON report's content. */
export interface Report {
  tool: string;
  input: string;
  url: string | null;
  dryRun: boolean;
  end: RunEnd;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  rowsPerSecond: number;
  counts: Omit<Tally, "reasons">;
  /** Request latency, ms: median, 99th percentile and worst (0 when nothing was sent). */
  latencyMs: { p50: number; p99: number; max: number };
  reasons: Record<string, number>;
  rejectsFile: string;
  reportFile: string;
  journal: string | null;
}

/**
 * Rows handled per second (read, whatever their outcome).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally, rowsPerSecond } from "./report.ts";
 * assert.ok(rowsPerSecond({ ...emptyTally(), rowsRead: 500 }, 250) === 2000);
 * ```
 */
export function rowsPerSecond(tally: Tally, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round(tally.rowsRead / (elapsedMs / 1000)) : 0;
}

const END_TEXT: Record<RunEnd, string> = {
  complete: "complete",
  interrupted: "INTERRUPTED",
  stopped_on_errors: "STOPPED (STOP_ON_ERRORS reached)",
  gave_up: "GAVE UP (service unreachable)",
  input_error: "STOPPED (input error)",
};

/**
 * The human summary printed on stderr at the end of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally, summaryText } from "./report.ts";
 * const report = {
 *   tool: "parse-and-post", input: "a.csv", url: "http://x/m", dryRun: false, end: "complete" as const,
 *   exitCode: 0, startedAt: "", finishedAt: "", elapsedMs: 1000, rowsPerSecond: 0,
 *   counts: emptyTally(), latencyMs: { p50: 0, p99: 0, max: 0 }, reasons: {}, rejectsFile: "rejects.csv", reportFile: "report.json", journal: null,
 * };
 * assert.ok(summaryText(report).includes("delivered"));
 * ```
 */
export function summaryText(report: Report): string {
  const c = report.counts;
  const width = String(Math.max(c.lines, c.requests, 1)).length;
  const n = (value: number) => String(value).padStart(width);
  const lines = [
    `${report.input} → ${report.dryRun ? "(dry run)" : report.url}: ${
      END_TEXT[report.end]
    }`,
    `  lines read            ${
      n(c.lines)
    }  (${c.headerRows} header, ${c.typeRows} type-name, ${c.blankLines} blank)`,
    `  rows read             ${n(c.rowsRead)}`,
  ];
  if (report.dryRun) {
    lines.push(`  valid (not sent)      ${n(c.valid)}`);
  } else {
    lines.push(`  delivered             ${n(c.delivered)}`);
    if (c.alreadyDelivered > 0) {
      lines.push(`  already delivered     ${n(c.alreadyDelivered)}  (journal)`);
    }
  }
  lines.push(`  invalid               ${n(c.invalid)}`);
  if (!report.dryRun) {
    lines.push(
      `  rejected by service   ${n(c.refused)}`,
      `  failed after retries  ${n(c.failed)}`,
    );
  }
  if (c.notReached > 0) {
    lines.push(
      `  not reached           ${n(c.notReached)}  (run again to resume)`,
    );
  }
  if (!report.dryRun) {
    const l = report.latencyMs;
    lines.push(
      `  requests              ${
        n(c.requests)
      }  (${c.retries} retries; latency p50 ${l.p50.toFixed(1)} ms, p99 ${
        l.p99.toFixed(1)
      } ms)`,
    );
  }
  lines.push(
    `  elapsed               ${
      (report.elapsedMs / 1000).toFixed(2)
    } s  (${report.rowsPerSecond} rows/s)`,
  );
  const reasons = Object.entries(report.reasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    lines.push("  rejected rows by reason:");
    for (const [reason, count] of reasons) {
      lines.push(`    ${n(count)}  ${reason}`);
    }
  }
  lines.push(
    `  rejects: ${report.rejectsFile}   report: ${report.reportFile}   exit code: ${report.exitCode}`,
  );
  return lines.join("\n");
}
