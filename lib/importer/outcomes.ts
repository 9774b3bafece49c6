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

function listed<T>(list: LineList<T>, item: T): void {
  if (list.items.length < MAX_LISTED) list.items.push(item);
  else list.more++;
}

type Refused = Extract<RowOutcome, { kind: "refused" }>;
type Pending = Extract<RowOutcome, { kind: "pending" }>;

/**
 * The recorder of one run.
 *
 * Rows refused while every answer so far says the URL or the credentials
 * are wrong (the same 401/403/404/405) are held: they go to the rejects
 * file if the set-up turns out fine, and stay pending if it does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Recorder } from "./outcomes.ts";
 * import { emptyTally } from "./report.ts";
 * import { Governor } from "./governor.ts";
 * import { createLogger } from "./log.ts";
 * const added: string[] = [];
 * const tally = emptyTally();
 * const recorder = new Recorder({
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
export class Recorder {
  /** Rows not delivered, with their last error (for the report). */
  readonly pending: LineList<{ line: number; error: string }> = {
    items: [],
    more: 0,
  };
  /** Rows with an attempt of unknown outcome (for the report). */
  readonly ambiguous: LineList<number> = { items: [], more: 0 };
  readonly #d: RecorderDeps;
  readonly #held: Refused[] = [];

  constructor(deps: RecorderDeps) {
    this.#d = deps;
  }

  /** Puts one row where it belongs and counts it. */
  record(outcome: RowOutcome): void {
    const fine = this.#d.governor.setup === "fine";
    if (outcome.kind === "refused" && !fine) {
      this.#held.push(outcome);
      return;
    }
    if (this.#held.length > 0 && fine) this.finish();
    this.#d.count?.(outcome.kind);
    const { tally } = this.#d;
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
        return this.#invalid(outcome);
      case "delivered":
        tally.delivered++;
        this.#d.ledger?.record(outcome.job.key);
        if (outcome.ambiguous) this.#ambiguous(outcome.job.line);
        return;
      case "refused":
        return this.#refused(outcome);
      case "pending":
        return this.#pending(outcome);
    }
  }

  /**
   * Settles the held rows: rejected once the set-up proved fine, else
   * pending (call at the end, after `governor.concludeSetup()`).
   */
  finish(): void {
    const fine = this.#d.governor.setup === "fine";
    for (const o of this.#held.splice(0)) {
      this.record(
        !fine
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
  }

  #invalid(outcome: Extract<RowOutcome, { kind: "invalid" }>): void {
    this.#d.tally.invalid++;
    const { rejection } = outcome;
    this.#reject(
      outcome.line,
      reasonKey(rejection),
      rejection.message,
      this.#d.columns.original(outcome.fields),
      {
        field: rejection.field,
      },
    );
  }

  #refused(outcome: Refused): void {
    this.#d.tally.refused++;
    const { job, status } = outcome;
    this.#reject(
      job.line,
      `service answered HTTP ${status}`,
      `service refused it: ${outcome.message}`,
      this.#d.columns.sent(job.body),
      { status, attempt: outcome.attempts },
    );
  }

  #pending(outcome: Pending): void {
    const { job } = outcome;
    this.#d.tally.pending++;
    listed(this.pending, { line: job.line, error: outcome.lastError });
    if (outcome.ambiguous) this.#ambiguous(job.line);
    if (outcome.cause !== "retries") return;
    if (this.#d.logRows ?? true) {
      this.#d.log.row(
        `line ${job.line}: not delivered, pending: ${outcome.lastError}`,
        "ERROR",
        {
          line: job.line,
          reason: "out of retries",
          attempt: outcome.attempts,
        },
      );
    }
    this.#d.governor.rowFailed();
  }

  #ambiguous(line: number): void {
    this.#d.tally.ambiguous++;
    listed(this.ambiguous, line);
  }

  #reject(
    line: number,
    key: string,
    reason: string,
    fields: readonly string[],
    data: LogData,
  ): void {
    const { tally } = this.#d;
    tally.reasons[key] = (tally.reasons[key] ?? 0) + 1;
    this.#d.rejects.add(line, reason, fields);
    if (this.#d.logRows ?? true) {
      this.#d.log.row(`line ${line}: ${reason}`, "WARNING", {
        line,
        reason: key,
        ...data,
      });
    }
    this.#d.governor.rowFailed();
  }
}

/**
 * A {@link Recorder} for one run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRecorder } from "./outcomes.ts";
 * import { emptyTally } from "./report.ts";
 * import { Governor } from "./governor.ts";
 * import { createLogger } from "./log.ts";
 * const tally = emptyTally();
 * const recorder = createRecorder({
 *   tally,
 *   rejects: { add() {}, count: 0, error: null, flush() {}, close() {} },
 *   columns: { names: [], original: (f) => f, sent: () => [] },
 *   ledger: null,
 *   governor: new Governor({ url: "http://x/m" }),
 *   log: createLogger({ write: () => {} }),
 * });
 * recorder.record({ kind: "already_delivered", line: 2, duplicate: false });
 * assert.equal(tally.alreadyDelivered, 1);
 * ```
 */
export function createRecorder(deps: RecorderDeps): Recorder {
  return new Recorder(deps);
}
