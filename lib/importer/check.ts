/**
 * The checking stage: one record of the input in, one verdict out — a row
 * to send (with its key), a row an earlier run delivered, an exact
 * duplicate skipped by `--dedupe`, or an invalid row with its reason. Pure
 * but for the {@link RowKeys} table, which numbers equal bodies.
 *
 * @module
 */

import type { Job } from "./deliver.ts";
import { bodyDigest, type RowKeys } from "./identity.ts";
import { type Column, movieValidator, type Rejection } from "./movie.ts";
import type { RawRecord } from "./csv/parse_stream.ts";
import { droppedIndices, type Layout } from "./csv/layout.ts";

/** What the checking stage says of one data record. */
export type Checked =
  | {
    kind: "invalid";
    line: number;
    fields: readonly string[];
    rejection: Rejection;
  }
  | { kind: "ready"; job: Job; duplicate: boolean }
  | { kind: "already_delivered"; line: number; duplicate: boolean }
  | { kind: "duplicate"; line: number; of: number };

/** Options for {@link createChecker}. */
export interface CheckerOptions {
  /** Which field holds which column, and how many a row has. */
  layout: Layout;
  /** The year the service takes as the current one. */
  currentYear: number;
  /** Bodies seen in this input and keys delivered earlier. */
  keys: RowKeys;
  /** Skip a row whose body an earlier row of this input already has. @default false */
  dedupe?: boolean;
}

/** Checks records; see {@link createChecker}. */
export type Checker = (
  record: Exclude<RawRecord, { kind: "blank" }>,
) => Checked;

/**
 * A checker for one input: the row's shape, then the movie rules
 * (`movie.ts`), then its identity — the digest of the body it would send and
 * its occurrence among equal bodies — against the ledger's keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createChecker } from "./check.ts";
 * import { RowKeys } from "./identity.ts";
 * import { defaultLayout } from "./csv/layout.ts";
 * const check = createChecker({ layout: defaultLayout(), currentYear: 2026, keys: new RowKeys() });
 * const fields = ["2010", "109", "Apprentice", "Fantasy", "", "", "", "40", "No", "a.png"];
 * const first = check({ kind: "row", line: 2, fields });
 * const second = check({ kind: "row", line: 3, fields });
 * assert.ok(first.kind === "ready" && second.kind === "ready");
 * assert.equal(first.job.key.k, 0);
 * assert.equal(second.job.key.k, 1); // the same movie again: another row
 * assert.equal(check({ kind: "row", line: 4, fields: ["1941"] }).kind, "invalid");
 * ```
 */
export function createChecker(options: CheckerOptions): Checker {
  const { layout, keys } = options;
  const validate = movieValidator(options.currentYear);
  const index = layout.index as Record<Column, number>;
  const dropped = droppedIndices(layout);
  const width = layout.width - dropped.size;
  return (record) => {
    const { line, fields } = record;
    if (record.kind === "malformed") {
      return invalid(line, fields, "malformed", record.reason);
    }
    if (fields.length !== layout.width) {
      const got = fields.filter((_, i) => !dropped.has(i)).length;
      return invalid(
        line,
        fields,
        "field_count",
        `wrong number of fields: ${got}, expected ${width}`,
      );
    }
    const result = validate(fields, index);
    if (!result.ok) {
      return { kind: "invalid", line, fields, rejection: result.rejection };
    }
    const key = bodyDigest(result.body);
    key.k = keys.occur(key, line);
    const duplicate = key.k > 0;
    if (options.dedupe && duplicate) {
      return { kind: "duplicate", line, of: keys.lastFirstLine() };
    }
    if (keys.lastDelivered(key.k)) {
      return { kind: "already_delivered", line, duplicate };
    }
    return { kind: "ready", job: { line, key, body: result.body }, duplicate };
  };
}

function invalid(
  line: number,
  fields: readonly string[],
  rule: "malformed" | "field_count",
  message: string,
): Checked {
  return {
    kind: "invalid",
    line,
    fields,
    rejection: { field: "row", rule, message },
  };
}
