/**
 * The movie: its columns, how one CSV row is normalised, and the rules the
 * receiving service enforces (`../shared/SINK.md`), as one zod schema.
 *
 * @module
 */

/**
 * The export's columns, in the order of a file without a header row.
 *
 * @example
 * ```ts
 * import { COLUMNS } from "./movie.ts";
 * console.assert(COLUMNS[0] === "year" && COLUMNS.length === 10);
 * ```
 */
export const COLUMNS = [
  "year",
  "length",
  "title",
  "subject",
  "actor",
  "actress",
  "director",
  "popularity",
  "awards",
  "image",
] as const;

/** One of the export's column names. */
export type Column = typeof COLUMNS[number];
