/**
 * Layout stage: is the first record a header, which field holds which
 * column, and is the record after the header a row of type names.
 *
 * The header rule ({@link isHeader}): names are compared case-insensitively
 * with everything but the letters a–z removed (`*Image` is `image`,
 * ` Year ` is `year`); a record is a header when at least
 * {@link MIN_HEADER_MATCHES} different movie columns appear in it AND more
 * than half of its fields are known names (a movie column, or `line` /
 * `reason`, the two columns the importer's rejects file adds). Columns may be
 * in any order; unknown columns, `line` and `reason` are ignored.
 *
 * @module
 */

import { type Column, COLUMNS } from "../movie.ts";
import { InputError } from "./errors.ts";

/** Which field of a record holds which column. */
export interface Layout {
  /** The header's fields as in the file, or `null` when there is none. */
  header: string[] | null;
  /** Fields a row should have: the header's length, or 10 without one. */
  width: number;
  /** The field index of each movie column; -1 when the file has none. */
  index: Record<Column, number>;
  /** The header's names that are not read (unknown, `line`, `reason`). */
  ignored: string[];
}

/**
 * Header names that are recognised and not read: the rejects file's own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IGNORED_COLUMNS } from "./layout.ts";
 * assert.deepEqual(IGNORED_COLUMNS, ["line", "reason"]);
 * ```
 */
export const IGNORED_COLUMNS: readonly string[] = ["line", "reason"];

/**
 * The fewest different movie columns a header must name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isHeader, MIN_HEADER_MATCHES } from "./layout.ts";
 * assert.equal(MIN_HEADER_MATCHES, 3);
 * assert.ok(!isHeader(["title", "year"]));
 * ```
 */
export const MIN_HEADER_MATCHES = 3;

/**
 * Type names a "type row" under the header may use (normalised).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TYPE_NAMES } from "./layout.ts";
 * assert.ok(TYPE_NAMES.has("int") && TYPE_NAMES.has("bool") && !TYPE_NAMES.has("year"));
 * ```
 */
export const TYPE_NAMES: ReadonlySet<string> = new Set([
  "int",
  "integer",
  "long",
  "short",
  "bigint",
  "float",
  "double",
  "decimal",
  "number",
  "numeric",
  "real",
  "string",
  "str",
  "text",
  "varchar",
  "char",
  "cat",
  "category",
  "categorical",
  "enum",
  "bool",
  "boolean",
  "date",
  "datetime",
  "time",
  "timestamp",
]);

const COLUMN_SET: ReadonlySet<string> = new Set(COLUMNS);

/**
 * A name as compared: lower case, letters a–z only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeName } from "./layout.ts";
 * assert(normalizeName(" *Image ") === "image");
 * assert(normalizeName("YEAR") === "year");
 * ```
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z]/g, "");
}

/**
 * Whether a record is a header (see the module documentation for the rule).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isHeader } from "./layout.ts";
 * assert(isHeader(["Year", "Length", "Title", "*Image"]));
 * assert(isHeader(["line", "reason", "title", "year", "awards"]));
 * assert(!isHeader(["1994", "88", "Lion King, The", "Adventure"]));
 * assert(!isHeader(["year", "title", "a", "b", "c", "d"]));
 * ```
 */
export function isHeader(fields: readonly string[]): boolean {
  const movie = new Set<string>();
  let known = 0;
  for (const f of fields) {
    const name = normalizeName(f);
    if (COLUMN_SET.has(name)) {
      movie.add(name);
      known++;
    } else if (IGNORED_COLUMNS.includes(name)) known++;
  }
  return movie.size >= MIN_HEADER_MATCHES && known * 2 > fields.length;
}

/**
 * Whether a record is a row of type names, like the one some old exports
 * have under the header (`INT;INT;STRING;CAT;…;BOOL;STRING`): every field is
 * a type name or empty, and at least half of them are type names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTypeRow } from "./layout.ts";
 * const types = "INT;INT;STRING;CAT;CAT;CAT;CAT;INT;BOOL;STRING".split(";");
 * assert(isTypeRow(types));
 * assert(!isTypeRow(["1994", "88", "String", "Adventure"]));
 * ```
 */
export function isTypeRow(fields: readonly string[]): boolean {
  let types = 0;
  for (const f of fields) {
    const name = normalizeName(f);
    if (TYPE_NAMES.has(name)) types++;
    else if (f.trim() !== "") return false;
  }
  return types > 0 && types * 2 >= fields.length;
}

/**
 * The layout of a file without a header: the columns of `COLUMNS`, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultLayout } from "./layout.ts";
 * const l = defaultLayout();
 * assert(l.header === null && l.width === 10 && l.index.image === 9);
 * ```
 */
export function defaultLayout(): Layout {
  const index = {} as Record<Column, number>;
  COLUMNS.forEach((c, i) => index[c] = i);
  return { header: null, width: COLUMNS.length, index, ignored: [] };
}

/** Options of {@link headerLayout}. */
export interface LayoutOptions {
  /**
   * The header's physical line, for messages.
   * @default 1
   */
  line?: number;
  /**
   * Told once about the header's ignored columns, if any.
   * @default undefined
   */
  onInfo?: (message: string) => void;
  /**
   * Told once about movie columns the header lacks, if any.
   * @default undefined
   */
  onWarning?: (message: string) => void;
}

/**
 * The layout a header gives. Throws {@link InputError} when a movie column
 * appears twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerLayout } from "./layout.ts";
 * const infos: string[] = [];
 * const l = headerLayout(["line", "reason", "Title", "Year", "Awards", "note"], {
 *   onInfo: (m) => infos.push(m),
 * });
 * assert(l.index.title === 2 && l.index.year === 3 && l.index.image === -1);
 * assert(l.width === 6 && l.ignored.join() === "line,reason,note");
 * assert(infos.length === 1);
 * ```
 */
export function headerLayout(
  fields: readonly string[],
  options: LayoutOptions = {},
): Layout {
  const line = options.line ?? 1;
  const index = {} as Record<Column, number>;
  for (const c of COLUMNS) index[c] = -1;
  const ignored: string[] = [];
  const unknown: string[] = [];
  fields.forEach((f, i) => {
    const name = normalizeName(f);
    if (COLUMN_SET.has(name)) {
      const column = name as Column;
      if (index[column] >= 0) {
        throw new InputError(
          `CSV_IN: line ${line}: the header names column "${column}" twice (fields ${
            index[column] + 1
          } and ${i + 1})`,
        );
      }
      index[column] = i;
      return;
    }
    ignored.push(f);
    if (!IGNORED_COLUMNS.includes(name)) {
      unknown.push(`"${f}" (field ${i + 1})`);
    }
  });
  if (ignored.length > 0) {
    const own = ignored.filter((f) =>
      IGNORED_COLUMNS.includes(normalizeName(f))
    );
    const parts = [];
    if (unknown.length > 0) {
      parts.push(`unknown column(s) ${unknown.join(", ")}`);
    }
    if (own.length > 0) {
      parts.push(`the rejects file's column(s) ${own.join(", ")}`);
    }
    options.onInfo?.(
      `CSV_IN: line ${line}: the header's ${parts.join(" and ")} are ignored`,
    );
  }
  const missing = COLUMNS.filter((c) => index[c] < 0);
  if (missing.length > 0) {
    options.onWarning?.(
      `CSV_IN: line ${line}: the header has no column(s) ${
        missing.join(", ")
      }: they are read as empty`,
    );
  }
  return { header: [...fields], width: fields.length, index, ignored };
}

/**
 * The header's fields that are a re-imported rejects file's own `line` and
 * `reason` columns (by index): dropped when checking and rewriting rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { droppedIndices, headerLayout } from "./layout.ts";
 * const layout = headerLayout(["line", "reason", "year", "title", "awards"]);
 * assert.deepEqual([...droppedIndices(layout)], [0, 1]);
 * ```
 */
export function droppedIndices(layout: Layout): ReadonlySet<number> {
  return new Set(
    (layout.header ?? []).flatMap((name, i) =>
      IGNORED_COLUMNS.includes(normalizeName(name)) ? [i] : []
    ),
  );
}
