/**
 * Recording outcomes: every row ends in exactly one place, and this is
 * where it is put there — the ledger (delivered), the rejects file (invalid,
 * or refused with a 4xx), the report's pending list (not delivered: the
 * next run sends it) — and counted once in the tally.
 *
 * @module
 */

import type { Checked } from "./check.ts";
import type { DeliveryOutcome } from "./deliver.ts";
import type { Governor } from "./governor.ts";
import type { Ledger } from "./ledger.ts";
import type { LogData, Logger } from "./log.ts";
import type { RejectsColumns, RejectsWriter } from "./rejects.ts";
import { type LineList, MAX_LISTED, reasonKey, type Tally } from "./report.ts";

/** How one row ended: what checking said, or what delivery said, or valid in a dry run. */
export type RowOutcome =
  | Exclude<Checked, { kind: "ready" }>
  | DeliveryOutcome
  | { kind: "valid"; line: number };

/** The outcome names metrics count rows by. */
export type OutcomeName =
  | "delivered"
  | "already_delivered"
  | "duplicate"
  | "invalid"
  | "refused"
  | "pending"
  | "valid";

/** Where outcomes are recorded. */
export interface RecorderDeps {
  /** The run's counts. */
  tally: Tally;
  /** The rejects file and its columns. */
  rejects: RejectsWriter;
  columns: RejectsColumns;
  /** The ledger (null in a dry run). */
  ledger: Ledger | null;
  /** Told of each row error (STOP_ON_ERRORS). */
  governor: Governor;
  /** Per-row messages go here (rate-limited). */
  log: Logger;
  /** Log one line per rejected or pending row. @default true */
  logRows?: boolean;
  /** Counts rows by outcome (metrics). @default undefined */
  count?: (outcome: OutcomeName) => void;
}

/** Records outcomes; see {@link createRecorder}. */
export interface Recorder {
  /** Puts one row where it belongs and counts it. */
  record(outcome: RowOutcome): void;
  /** Rows not delivered, with their last error (for the report). */
  readonly pending: LineList<{ line: number; error: string }>;
  /** Rows with an attempt of unknown outcome (for the report). */
  readonly ambiguous: LineList<number>;
  /** Settles rows held while the set-up was in doubt (call at the end). */
  finish(): void;
}

function listed<T>(list: LineList<T>, item: T): void {
  if (list.items.length < MAX_LISTED) list.items.push(item);
  else list.more++;
}

/**
 * The recorder of one run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRecorder } from "./outcomes.ts";
 * import { emptyTally } from "./report.ts";
 * import { Governor } from "./governor.ts";
 * import { createLogger } from "./log.ts";
 * const added: string[] = [];
 * const tally = emptyTally();
 * const recorder = createRecorder({
 *   tally,
 *   rejects: { add: (line, reason) => added.push(`${line}: ${reason}`), count: 0, error: null, flush() {}, close() {} },
 *   columns: { names: [], original: (f) => f, sent: () => [] },
 *   ledger: null,
 *   governor: new Governor({ url: "http://x/m" }),
 *   log: createLogger({ write: () => {} }),
 * });
 * recorder.record({ kind: "invalid", line: 4, fields: [], rejection: { field: "title", rule: "required", message: "title is empty" } });
 * assert.deepEqual(added, ["4: title is empty"]);
 * assert.equal(tally.invalid, 1);
 * ```
 */
export function createRecorder(deps: RecorderDeps): Recorder {
  const { tally, rejects, columns, log } = deps;
  const logRows = deps.logRows ?? true;
  const pending: LineList<{ line: number; error: string }> = {
    items: [],
    more: 0,
  };
  const ambiguous: LineList<number> = { items: [], more: 0 };
  const reject = (
    line: number,
    key: string,
    reason: string,
    fields: readonly string[],
    data: LogData,
  ) => {
    tally.reasons[key] = (tally.reasons[key] ?? 0) + 1;
    rejects.add(line, reason, fields);
    if (logRows) {
      log.row(`line ${line}: ${reason}`, "WARNING", {
        line,
        reason: key,
        ...data,
      });
    }
    deps.governor.rowFailed();
  };
  // Rows refused while every answer says the URL or credentials are wrong
  // are held: rejects if the set-up turns out fine, pending if not.
  const held: Extract<RowOutcome, { kind: "refused" }>[] = [];
  const release = () => {
    const wrongUrl = deps.governor.end === "wrong_url";
    for (const o of held.splice(0)) {
      record(
        wrongUrl
          ? {
            ...o,
            kind: "pending",
            ambiguous: false,
            cause: "stopped",
            lastError: o.message,
          }
          : o,
      );
    }
  };
  const record = (outcome: RowOutcome) => {
    const { governor } = deps;
    if (
      outcome.kind === "refused" &&
      (governor.setupInDoubt || governor.end === "wrong_url")
    ) {
      held.push(outcome);
      return;
    }
    if (held.length > 0 && governor.end !== "wrong_url") release();
    deps.count?.(outcome.kind);
    switch (outcome.kind) {
      case "valid":
        return;
      case "already_delivered":
        tally.alreadyDelivered++;
        return;
      case "duplicate":
        tally.skippedDuplicates++;
        return;
      case "invalid":
        tally.invalid++;
        return reject(
          outcome.line,
          reasonKey(outcome.rejection),
          outcome.rejection.message,
          columns.original(outcome.fields),
          { field: outcome.rejection.field },
        );
      case "delivered":
        tally.delivered++;
        deps.ledger?.record(outcome.job.key);
        if (outcome.ambiguous) {
          tally.ambiguous++;
          listed(ambiguous, outcome.job.line);
        }
        return;
      case "refused":
        tally.refused++;
        return reject(
          outcome.job.line,
          `service answered HTTP ${outcome.status}`,
          `service refused it: ${outcome.message}`,
          columns.sent(outcome.job.body),
          { status: outcome.status, attempt: outcome.attempts },
        );
      case "pending":
        tally.pending++;
        listed(pending, { line: outcome.job.line, error: outcome.lastError });
        if (outcome.ambiguous) {
          tally.ambiguous++;
          listed(ambiguous, outcome.job.line);
        }
        if (outcome.cause === "retries") {
          if (logRows) {
            log.row(
              `line ${outcome.job.line}: not delivered, pending: ${outcome.lastError}`,
              "ERROR",
              {
                line: outcome.job.line,
                reason: "out of retries",
                attempt: outcome.attempts,
              },
            );
          }
          deps.governor.rowFailed();
        }
        return;
    }
  };
  return { record, pending, ambiguous, finish: release };
}
