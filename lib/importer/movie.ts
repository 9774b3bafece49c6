/**
 * The movie: how one CSV row is normalised, and the rules the receiving
 * service enforces (`lib/shared/movie_rules.ts`, after `SINK.md`) as one zod
 * schema, with a plain-check fast path for rows that pass.
 *
 * @module
 */

import { z } from "./_deps.ts";
import {
  AWARDS,
  type Column,
  COLUMNS,
  FIRST_YEAR,
  imageMatches,
  POPULARITY,
} from "../shared/movie_rules.ts";

export { type Column, COLUMNS, FIRST_YEAR };

/** What a rule check is called in a rejection, and in the report's counts. */
export type Rule =
  | "required"
  | "not_integer"
  | "not_number"
  | "range"
  | "awards"
  | "image"
  | "corrupted"
  | "field_count"
  | "malformed";

/** Why a row cannot be sent: which field, which rule, and a sentence. */
export interface Rejection {
  /** The column at fault, or `row` for the row's shape. */
  field: Column | "row";
  /** The rule that failed. */
  rule: Rule;
  /** One line naming the field, the value and the rule. */
  message: string;
}

/** A movie as the service takes it: every key present, empty numbers `null`. */
export interface Movie {
  year: number;
  length: number | null;
  title: string;
  subject: string;
  actor: string;
  actress: string;
  director: string;
  popularity: number | null;
  awards: "" | "Yes" | "No";
  image: string;
}

/** A row that passed: the movie and the JSON body to POST. */
export type Validation =
  | { ok: true; movie: Movie; body: string }
  | { ok: false; rejection: Rejection };

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A trimmed numeric text as a number; `null` when empty; the text when it is not a number. */
function toNumber(text: string): number | null | string {
  if (text === "") return null;
  return NUMBER.test(text) ? Number(text) : text;
}

function toAwards(text: string): string {
  const lower = text.toLowerCase();
  return lower === "yes" ? "Yes" : lower === "no" ? "No" : text;
}

/**
 * The zod schema of a normalised movie, for a given current year: exactly the
 * service's rules (`SINK.md`), so a row that passes is never answered 400.
 * Each check's error is the {@link Rule} it enforces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { movieSchema } from "./movie.ts";
 * const schema = movieSchema(2026);
 * assert.ok(!schema.safeParse({ year: 1700 }).success);
 * ```
 */
export function movieSchema(currentYear: number) {
  const text = z.string().regex(/^[^\uFFFD]*$/, { error: "corrupted" });
  const number = z.number({ error: "not_number" });
  return z.object({
    year: z.number({
      error: (issue) => issue.input === null ? "required" : "not_integer",
    }).int({ error: "not_integer" })
      .min(FIRST_YEAR, { error: "range" })
      .max(currentYear, { error: "range" }),
    length: number.nullable(),
    title: text.min(1, { error: "required" }),
    subject: text,
    actor: text,
    actress: text,
    director: text,
    popularity: number.min(POPULARITY.min, { error: "range" })
      .max(POPULARITY.max, { error: "range" }).nullable(),
    awards: z.enum(AWARDS, { error: "awards" }),
    image: text.refine((v) => v === "" || imageMatches(v), { error: "image" }),
  });
}

/** The schema's type, as built by {@link movieSchema}. */
export type MovieSchema = ReturnType<typeof movieSchema>;

/** Where each column sits in a row's fields (`-1`: the file has no such column). */
export type ColumnIndex = Readonly<Record<Column, number>>;

/**
 * The index of a file without a header: the columns in {@link COLUMNS} order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_INDEX } from "./movie.ts";
 * assert.ok(DEFAULT_INDEX.image === 9);
 * ```
 */
export const DEFAULT_INDEX: ColumnIndex = Object.freeze(
  Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as Record<Column, number>,
);

/**
 * Normalises one row's fields: trims every field, reads year, length and
 * popularity as numbers (empty → `null`; text that is not a number stays
 * text, for the schema to reject), and spells awards `Yes`/`No`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_INDEX, normalise } from "./movie.ts";
 * const m = normalise(["1997.0", "", " Titanic ", "", "", "", "", "80", "YES", ""], DEFAULT_INDEX);
 * assert.ok(m.year === 1997 && m.length === null && m.title === "Titanic" && m.awards === "Yes");
 * ```
 */
export function normalise(fields: readonly string[], index: ColumnIndex) {
  const at = (column: Column) => {
    const i = index[column];
    return i < 0 ? "" : (fields[i] ?? "").trim();
  };
  return {
    year: toNumber(at("year")),
    length: toNumber(at("length")),
    title: at("title"),
    subject: at("subject"),
    actor: at("actor"),
    actress: at("actress"),
    director: at("director"),
    popularity: toNumber(at("popularity")),
    awards: toAwards(at("awards")),
    image: at("image"),
  };
}

/**
 * The sentence for a failed rule: names the field, the value (as it stood in
 * the file, trimmed) and the rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeRule } from "./movie.ts";
 * assert.ok(describeRule("awards", "awards", "maybe", 2026).includes('"maybe"'));
 * ```
 */
export function describeRule(
  field: Column,
  rule: Rule,
  text: string,
  currentYear: number,
): string {
  const v = JSON.stringify(text);
  switch (rule) {
    case "required":
      return field === "year"
        ? `year is empty: a year from ${FIRST_YEAR} to ${currentYear} is required`
        : `${field} is empty: a ${field} is required`;
    case "not_integer":
      return `year ${v} is not a whole number (must be from ${FIRST_YEAR} to ${currentYear})`;
    case "not_number":
      return `${field} ${v} is not a number`;
    case "range":
      return field === "year"
        ? `year ${v} is out of range: must be from ${FIRST_YEAR} to ${currentYear}`
        : `${field} ${v} is out of range: must be from 0 to 100`;
    case "awards":
      return `awards ${v} must be Yes, No or empty (any case)`;
    case "image":
      return `image ${v} must be empty or end in .png, .jpg or .jpeg`;
    case "corrupted":
      return `${field} ${v} contains U+FFFD (\uFFFD): the text was already corrupted in the file, the original letters are lost`;
    default:
      return `${field} ${v}: ${rule}`;
  }
}

const finiteOrNull = (v: unknown) =>
  v === null || (typeof v === "number" && Number.isFinite(v));

/**
 * The schema's rules as plain checks, for speed (zod costs about a third of
 * the pipeline): true only when {@link movieSchema} accepts the movie too.
 * Anything else goes through the schema, which names the failing rule.
 */
function passes(
  m: ReturnType<typeof normalise>,
  currentYear: number,
): boolean {
  const { year, popularity } = m;
  return typeof year === "number" && Number.isSafeInteger(year) &&
    year >= FIRST_YEAR && year <= currentYear &&
    finiteOrNull(m.length) && finiteOrNull(popularity) &&
    (popularity === null ||
      ((popularity as number) >= POPULARITY.min &&
        (popularity as number) <= POPULARITY.max)) &&
    m.title !== "" && !m.title.includes("\uFFFD") &&
    !m.subject.includes("\uFFFD") && !m.actor.includes("\uFFFD") &&
    !m.actress.includes("\uFFFD") && !m.director.includes("\uFFFD") &&
    (m.awards === "" || m.awards === "Yes" || m.awards === "No") &&
    !m.image.includes("\uFFFD") && (m.image === "" || imageMatches(m.image));
}

/** Checks one row's fields and, when they pass, serialises the movie. */
export type MovieValidator = (
  fields: readonly string[],
  index: ColumnIndex,
) => Validation;

/**
 * A validator for the given current year: normalises a row's fields
 * ({@link normalise}), checks them with {@link movieSchema} and, when they
 * pass, serialises the movie to the JSON body. A rejection names the first
 * failing field (in column order), its value and the rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_INDEX, movieValidator } from "./movie.ts";
 * const validate = movieValidator(2026);
 * const row = ["2010", "109", "Apprentice", "Fantasy", "", "", "", "40", "No", "a.png"];
 * const result = validate(row, DEFAULT_INDEX);
 * assert.ok(result.ok && result.body.startsWith('{"year":2010'));
 * ```
 */
export function movieValidator(currentYear: number): MovieValidator {
  const schema = movieSchema(currentYear);
  return (fields, index) => {
    const normalised = normalise(fields, index);
    if (passes(normalised, currentYear)) {
      const movie = normalised as Movie;
      return { ok: true, movie, body: JSON.stringify(movie) };
    }
    const result = schema.safeParse(normalised);
    if (result.success) {
      const movie = result.data as Movie;
      return { ok: true, movie, body: JSON.stringify(movie) };
    }
    const issue = result.error.issues[0];
    const field = issue.path[0] as Column;
    const rule = issue.message as Rule;
    const text = index[field] < 0 ? "" : (fields[index[field]] ?? "").trim();
    return {
      ok: false,
      rejection: {
        field,
        rule,
        message: describeRule(field, rule, text, currentYear),
      },
    };
  };
}
