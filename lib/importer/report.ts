/**
 * What a run did: the counts, the exit code, the JSON report and the
 * summary printed on stderr — all pure functions of the run's figures.
 *
 * @module
 */

import process from "node:process";
import { resolve } from "node:path";
import type { RunEnd } from "./governor.ts";
import type { Rejection, Rule } from "./movie.ts";
import { VERSION } from "../shared/version.ts";

export type { RunEnd };

/**
 * Every count a run keeps. Rows read = delivered + already delivered +
 * skipped duplicates + invalid + refused + pending (+ valid, in a dry run).
 */
export interface Tally {
  /** Physical lines read (header, type row, blank lines and rows). */
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
  /** Valid rows whose body equals an earlier row's in this input. */
  duplicates: number;
  /** Rows the service accepted (2xx) in this run. */
  delivered: number;
  /** Rows skipped because the ledger says an earlier run delivered them. */
  alreadyDelivered: number;
  /** Rows skipped by `--dedupe` as exact duplicates. */
  skippedDuplicates: number;
  /** Rows that failed validation (or had the wrong shape). */
  invalid: number;
  /** Valid rows the service refused with a final status (4xx). */
  refused: number;
  /** Valid rows not delivered (retries used up, or the run stopped): the next run sends them. */
  pending: number;
  /** Rows with an attempt whose outcome is unknown (timed out or cut after sending). */
  ambiguous: number;
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
 * assert.equal(emptyTally().delivered, 0);
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
    duplicates: 0,
    delivered: 0,
    alreadyDelivered: 0,
    skippedDuplicates: 0,
    invalid: 0,
    refused: 0,
    pending: 0,
    ambiguous: 0,
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
 * assert.equal(reasonKey({ field: "year", rule: "range", message: "" }), "year is out of range");
 * ```
 */
export function reasonKey(rejection: Rejection): string {
  return `${rejection.field} ${RULE_LABELS[rejection.rule]}`;
}

/** Line numbers of some rows, with how many more were left out. */
export interface LineList<T> {
  /** The first entries (at most {@link MAX_LISTED}). */
  items: T[];
  /** Entries not listed. */
  more: number;
}

/** How many pending or ambiguous rows the report lists by line. */
export const MAX_LISTED = 10_000;

/** One setting as the run used it. */
export interface SettingInEffect {
  /** The setting's variable (or flag when it has none). */
  name: string;
  /** Its value, as text. */
  value: string;
  /** Where it came from: flag, environment, .env or default. */
  source: string;
}

/** The JSON report's content. */
export interface Report {
  tool: string;
  version: string;
  /** The input as given, and as the importer resolved it. */
  input: string;
  inputPath: string;
  url: string | null;
  dryRun: boolean;
  end: RunEnd;
  /** Why the run ended early, in one line ("" when complete). */
  message: string;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  /** Rows delivered per second of the run. */
  deliveredPerSecond: number;
  counts: Omit<Tally, "reasons">;
  /** The first line not read when reading stopped early, else null. */
  notReadFrom: number | null;
  /** Request latency, ms (0 when nothing was sent). */
  latencyMs: { p50: number; p99: number; max: number };
  reasons: Record<string, number>;
  /** Rows not delivered, with their last error. */
  pending: LineList<{ line: number; error: string }>;
  /** Rows with an attempt of unknown outcome: check the service for them. */
  ambiguous: LineList<number>;
  rejectsFile: string;
  reportFile: string;
  ledger: { path: string; heldAtStart: number; fresh: boolean } | null;
  settings: SettingInEffect[];
  /** The process's CPU time and peak memory, from the OS. */
  resources: { userCpuMs: number; systemCpuMs: number; peakRssBytes: number };
}

/**
 * The exit code for how a run ended and what it counted: 0 every valid row
 * delivered (or already delivered); 1 valid rows left pending or refused,
 * the service lost, or an output failed; 2 bad input, settings or set-up,
 * detected before anything was delivered; 3 stopped early on purpose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally, exitCode } from "./report.ts";
 * const done = { ...emptyTally(), rowsRead: 2, valid: 2, delivered: 2 };
 * assert.equal(exitCode("complete", done), 0);
 * assert.equal(exitCode("complete", { ...done, delivered: 1, pending: 1 }), 1);
 * assert.equal(exitCode("complete", { ...emptyTally(), rowsRead: 5, invalid: 5 }), 2);
 * assert.equal(exitCode("interrupted", done), 3);
 * ```
 */
export function exitCode(
  end: RunEnd,
  counts: Omit<Tally, "reasons">,
): 0 | 1 | 2 | 3 {
  switch (end) {
    case "interrupted":
    case "stopped_on_errors":
      return 3;
    case "wrong_url":
    case "wrong_shape":
    case "permission":
      return 2;
    case "input_error":
      return counts.requests === 0 ? 2 : 1;
    case "gave_up":
    case "unreachable":
    case "output_error":
      return 1;
    case "complete":
      if (counts.rowsRead > 0 && counts.valid === 0) return 2;
      return counts.refused + counts.pending > 0 ? 1 : 0;
  }
}

const END_TEXT: Record<RunEnd, string> = {
  complete: "complete",
  interrupted: "INTERRUPTED",
  stopped_on_errors: "STOPPED (STOP_ON_ERRORS reached)",
  gave_up: "GAVE UP (the service stopped answering)",
  unreachable: "STOPPED (cannot connect to the service)",
  wrong_url: "STOPPED (the URL or credentials are wrong)",
  wrong_shape: "STOPPED (the data is in the wrong shape)",
  output_error: "STOPPED (an output could not be written)",
  input_error: "STOPPED (input error)",
  permission: "STOPPED (a permission is missing)",
};

/** A count line of the summary: label, right-aligned number, a note. */
function countLine(label: string, value: string, note = ""): string {
  return `  ${label.padEnd(20)}${value}${note === "" ? "" : `  ${note}`}`;
}

/**
 * The human summary printed on stderr at the end of a run; every line fits
 * 80 columns but the first, which names the input and the URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally, summaryText, type Report } from "./report.ts";
 * const report = {
 *   input: "a.csv", url: "http://x/m", dryRun: false, end: "complete", exitCode: 0, elapsedMs: 1000,
 *   deliveredPerSecond: 2, counts: { ...emptyTally(), rowsRead: 2, valid: 2, delivered: 2 }, notReadFrom: null,
 *   latencyMs: { p50: 1, p99: 2, max: 3 }, reasons: {}, rejectsFile: "rejects.csv", reportFile: "report.json",
 *   ledger: null, message: "",
 * } as unknown as Report;
 * const text = summaryText(report);
 * assert.match(text, /delivered +2/);
 * assert.ok(text.split("\n").slice(1).every((l) => l.length <= 80));
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
    countLine(
      "lines read",
      n(c.lines),
      `(${c.headerRows} header, ${c.typeRows} type-name, ${c.blankLines} blank)`,
    ),
    countLine(
      "rows read",
      n(c.rowsRead),
      c.duplicates > 0
        ? `(${c.duplicates} exact duplicates of earlier rows)`
        : "",
    ),
    ...deliveryLines(report, n),
    countLine(
      "invalid",
      n(c.invalid),
      c.invalid > 0 ? "(in the rejects file)" : "",
    ),
  ];
  if (report.notReadFrom !== null) {
    lines.push(
      `  not read            line ${report.notReadFrom} to the end (the next run reads it)`,
    );
  }
  if (!report.dryRun) {
    const l = report.latencyMs;
    lines.push(
      countLine("requests", n(c.requests), `(${c.retries} retries)`),
      `  latency             p50 ${l.p50.toFixed(1)} ms, p99 ${
        l.p99.toFixed(1)
      } ms, max ${l.max.toFixed(1)} ms`,
    );
  }
  const seconds = (report.elapsedMs / 1000).toFixed(2);
  lines.push(
    countLine(
      "elapsed",
      `${seconds} s`,
      report.dryRun ? "" : `(${report.deliveredPerSecond} delivered/s)`,
    ),
    ...reasonLines(report.reasons, n),
    `  rejects: ${report.rejectsFile}`,
    `  report:  ${report.reportFile}`,
  );
  if (report.ledger !== null) lines.push(`  ledger:  ${report.ledger.path}`);
  if (report.message !== "") lines.push(...wrapped(report.message, "  ", 80));
  lines.push(`  exit code: ${report.exitCode}`);
  return lines.join("\n");
}

/** Words of `text` in lines of at most `width` columns, each starting with `indent`. */
function wrapped(text: string, indent: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}

function deliveryLines(report: Report, n: (v: number) => string): string[] {
  const c = report.counts;
  if (report.dryRun) return [countLine("valid (not sent)", n(c.valid))];
  const lines = [countLine("delivered", n(c.delivered))];
  if (c.alreadyDelivered > 0) {
    lines.push(
      countLine(
        "already delivered",
        n(c.alreadyDelivered),
        "(in the ledger: skipped)",
      ),
    );
  }
  if (c.skippedDuplicates > 0) {
    lines.push(
      countLine("duplicates skipped", n(c.skippedDuplicates), "(--dedupe)"),
    );
  }
  lines.push(
    countLine(
      "refused by service",
      n(c.refused),
      c.refused > 0 ? "(in the rejects file)" : "",
    ),
    countLine(
      "pending",
      n(c.pending),
      c.pending > 0 ? "(not delivered: the next run sends them)" : "",
    ),
  );
  if (c.ambiguous > 0) {
    lines.push(
      countLine(
        "ambiguous",
        n(c.ambiguous),
        "(outcome unknown: lines in the report)",
      ),
    );
  }
  return lines;
}

function reasonLines(
  reasons: Record<string, number>,
  n: (v: number) => string,
): string[] {
  const sorted = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  if (sorted.length === 0) return [];
  return [
    "  rejected rows by reason:",
    ...sorted.map(([reason, count]) => `    ${n(count)}  ${reason}`),
  ];
}

/**
 * Rows delivered per second of `elapsedMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliveredPerSecond } from "./report.ts";
 * assert.equal(deliveredPerSecond(500, 250), 2000);
 * ```
 */
export function deliveredPerSecond(
  delivered: number,
  elapsedMs: number,
): number {
  return elapsedMs > 0 ? Math.round(delivered / (elapsedMs / 1000)) : 0;
}

/** What {@link buildReport} is made from. */
export interface ReportInput {
  options: { csvIn: string; urlOut: string; dryRun?: boolean; fresh?: boolean };
  paths: { rejects: string; report: string };
  tally: Tally;
  end: RunEnd;
  message: string;
  /** The run's start and end, ms since the epoch. */
  started: number;
  now: number;
  latency: { quantile(q: number): number; max: number } | null;
  notReadFrom: number | null;
  pending: LineList<{ line: number; error: string }>;
  ambiguous: LineList<number>;
  ledger: { path: string; held: number } | null;
  settings: SettingInEffect[];
  /** The process's resource usage (injected for tests). @default node:process resourceUsage() */
  resources?: Report["resources"];
  /** The program's version. @default VERSION */
  version?: string;
  /** The input's absolute path. @default resolved from the working folder */
  inputPath?: string;
}

/** Milliseconds to two decimals. */
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The report of a run, from its figures: pure, but for reading the
 * process's resource usage when not given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport, emptyTally } from "./report.ts";
 * const tally = { ...emptyTally(), rowsRead: 3, valid: 3, delivered: 3 };
 * const report = buildReport({
 *   options: { csvIn: "a.csv", urlOut: "http://x/m" }, paths: { rejects: "r.csv", report: "r.json" },
 *   tally, end: "complete", message: "", started: 0, now: 1500, latency: null, notReadFrom: null,
 *   pending: { items: [], more: 0 }, ambiguous: { items: [], more: 0 }, ledger: null, settings: [],
 *   resources: { userCpuMs: 1, systemCpuMs: 1, peakRssBytes: 1 }, inputPath: "/a.csv",
 * });
 * assert.equal(report.exitCode, 0);
 * assert.equal(report.deliveredPerSecond, 2);
 * ```
 */
export function buildReport(input: ReportInput): Report {
  const { tally, latency } = input;
  const { reasons, ...counts } = tally;
  const elapsedMs = input.now - input.started;
  return {
    tool: "parse-and-post",
    version: input.version ?? VERSION,
    input: input.options.csvIn,
    inputPath: input.inputPath ?? resolve(input.options.csvIn),
    url: input.options.dryRun ? null : input.options.urlOut,
    dryRun: input.options.dryRun ?? false,
    end: input.end,
    message: input.message,
    exitCode: exitCode(input.end, counts),
    startedAt: new Date(input.started).toISOString(),
    finishedAt: new Date(input.now).toISOString(),
    elapsedMs,
    deliveredPerSecond: deliveredPerSecond(tally.delivered, elapsedMs),
    counts,
    notReadFrom: input.notReadFrom,
    latencyMs: {
      p50: round(latency?.quantile(0.5) ?? 0),
      p99: round(latency?.quantile(0.99) ?? 0),
      max: round(latency?.max ?? 0),
    },
    reasons,
    pending: input.pending,
    ambiguous: input.ambiguous,
    rejectsFile: input.paths.rejects,
    reportFile: input.paths.report,
    ledger: input.ledger &&
      {
        path: input.ledger.path,
        heldAtStart: input.ledger.held,
        fresh: input.options.fresh ?? false,
      },
    settings: input.settings,
    resources: input.resources ?? processResources(),
  };
}

/** This process's CPU time and peak RSS, from the OS. */
function processResources(): Report["resources"] {
  const usage = process.resourceUsage();
  return {
    userCpuMs: Math.round(usage.userCPUTime / 1000),
    systemCpuMs: Math.round(usage.systemCPUTime / 1000),
    peakRssBytes: usage.maxRSS * 1024,
  };
}
