/**
 * Shape stage: do the first records of a file look like the wrong shape
 * altogether (a wrong delimiter, a header that does not fit its rows, not a
 * movie export), so that a run can stop before sending anything? A pure
 * function; the caller collects the records and decides what to do.
 *
 * @module
 */

import {
  type Delimiter,
  DELIMITERS,
  delimiterWord,
  showDelimiter,
} from "./dialect.ts";

/**
 * How many data records {@link checkShape} is meant to see: the first 20
 * non-blank ones after the header (fewer when the file has fewer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHAPE_SAMPLE } from "./shape.ts";
 * assert.equal(SHAPE_SAMPLE, 20);
 * ```
 */
export const SHAPE_SAMPLE = 20;

/** One data record as read: the line it starts on and its fields. */
export interface ShapeRecord {
  /** The physical line the record starts on. */
  line: number;
  /** Its fields as parsed with the dialect's delimiter. */
  fields: readonly string[];
}

/** What {@link checkShape} looks at. */
export interface ShapeInput {
  /**
   * The first non-blank data records in file order (rows and malformed
   * records; not the header or a type row), e.g. the first
   * {@link SHAPE_SAMPLE}.
   */
  records: readonly ShapeRecord[];
  /** The fields a row should have (the layout's width). */
  width: number;
  /** The delimiter the records were parsed with. */
  dialect: { delimiter: Delimiter };
  /** A header was recognised (the width is then the header's). */
  header: boolean;
}

/** The verdict of {@link checkShape}. */
export type ShapeVerdict =
  | { kind: "ok" }
  | {
    kind: "wrong_shape";
    /** One line saying what is wrong and what to try. */
    message: string;
    /** The delimiter to try, when the hint is a delimiter. */
    delimiter?: Delimiter;
  };

/** How often `char` occurs in the record's fields. */
function occurrences(fields: readonly string[], char: string): number {
  let count = 0;
  for (const field of fields) count += field.split(char).length - 1;
  return count;
}

/** `1 tab`, `9 tabs`, `9 ";"`. */
function times(n: number, d: Delimiter): string {
  return d === "\t"
    ? (n === 1 ? "1 tab" : `${n} tabs`)
    : `${n} ${showDelimiter(d)}`;
}

/**
 * The delimiter that would explain the records: one whose count in every
 * record is `width - 1` (each row would then have `width` fields), or, when
 * every record is a single field (the delimiter used never occurs), one that
 * occurs in every record — the most frequent, ties in {@link DELIMITERS}
 * order.
 */
function betterDelimiter(
  input: ShapeInput,
): { delimiter: Delimiter; exact: boolean } | null {
  const { records, width } = input;
  const others = DELIMITERS.filter((d) => d !== input.dialect.delimiter);
  const counts = others.map((d) =>
    records.map((r) => occurrences(r.fields, d))
  );
  const exact = others.findIndex((_, i) =>
    counts[i].every((n) => n === width - 1)
  );
  if (exact !== -1) return { delimiter: others[exact], exact: true };
  if (!records.every((r) => r.fields.length === 1)) return null;
  let best = -1, bestTotal = 0;
  others.forEach((_, i) => {
    const total = counts[i].reduce((a, b) => a + b, 0);
    if (counts[i].every((n) => n > 0) && total > bestTotal) {
      [best, bestTotal] = [i, total];
    }
  });
  return best === -1 ? null : { delimiter: others[best], exact: false };
}

/** `the first 20 rows (lines 2 to 21)` or `the first row (line 2)`. */
function firstRows(records: readonly ShapeRecord[]): string {
  const first = records[0].line, last = records[records.length - 1].line;
  return records.length === 1
    ? `the first row (line ${first})`
    : `the first ${records.length} rows (lines ${first} to ${last})`;
}

/** `1 field`, `12 fields`. */
const fieldsText = (n: number) => n === 1 ? "1 field" : `${n} fields`;

/**
 * Whether the first records show the file is the wrong shape, and what to
 * try. It says `wrong_shape` only when there is at least one record, NONE
 * has `width` fields, and one of these explains it:
 *
 * 1. another delimiter: it occurs `width - 1` times in every record, or
 *    every record is one field and it occurs in each (`try --delimiter …`);
 * 2. all records have the same number of fields: with a header, the header
 *    does not fit its rows (`check the header`); without one, the file is
 *    probably not a movie export;
 * 3. no header was recognised (and the counts vary): probably not a movie
 *    export.
 *
 * Otherwise `ok`: a file with a header whose rows are each wrong in their
 * own way, or with any row of the right width, goes on and its bad rows
 * are rejected one by one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkShape } from "./shape.ts";
 * const line = "1999\tThe Matrix\tAction\tReeves, Keanu";
 * const verdict = checkShape({
 *   records: [{ line: 1, fields: [line] }, { line: 2, fields: [line] }],
 *   width: 4,
 *   dialect: { delimiter: ";" },
 *   header: false,
 * });
 * assert.ok(verdict.kind === "wrong_shape" && verdict.delimiter === "\t");
 * assert.match(verdict.message, /try --delimiter tab$/);
 * ```
 */
export function checkShape(input: ShapeInput): ShapeVerdict {
  const { records, width, header } = input;
  if (records.length === 0) return { kind: "ok" };
  if (records.some((r) => r.fields.length === width)) return { kind: "ok" };
  const counts = records.map((r) => r.fields.length);
  const low = Math.min(...counts), high = Math.max(...counts);
  const rows = firstRows(records);
  const have = low === high
    ? `${rows} ${records.length === 1 ? "has" : "have"} ${fieldsText(low)}${
      records.length === 1 ? "" : " each"
    }`
    : `${rows} have ${low} to ${high} fields`;
  const better = betterDelimiter(input);
  if (better !== null) {
    const d = better.delimiter;
    const why = better.exact
      ? `each holds ${times(width - 1, d)}`
      : `they hold ${d === "\t" ? "tabs" : showDelimiter(d)}`;
    return {
      kind: "wrong_shape",
      message: `${have} where ${width} are expected: the delimiter is ` +
        `probably not ${showDelimiter(input.dialect.delimiter)} (${why}); ` +
        `try --delimiter ${delimiterWord(d)}`,
      delimiter: d,
    };
  }
  if (header && low === high) {
    return {
      kind: "wrong_shape",
      message: `${have}, the header ${width}: check the header ` +
        `(a column name missing or extra?)`,
    };
  }
  if (!header) {
    return {
      kind: "wrong_shape",
      message: `no header was recognised and ${have} where ${width} are ` +
        `expected: the file is probably not a movie export`,
    };
  }
  return { kind: "ok" };
}
