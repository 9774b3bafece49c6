/**
 * The movie service's decoding target: Go's `main.film` struct, its fields
 * and their Go types, in the order of the export's columns.
 *
 * @module
 */

/**
 * One movie as the real service decodes it (Go zero values when absent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Film, zeroFilm } from "./film.ts";
 * const heat: Film = { ...zeroFilm(), title: "Heat", year: 1995 };
 * assert.ok(heat.awards === "");
 * ```
 */
export interface Film {
  /** Go `int`. */
  year: number;
  /** Go `float64`. */
  length: number;
  /** Go `string`. */
  title: string;
  /** Go `string`. */
  subject: string;
  /** Go `string`. */
  actor: string;
  /** Go `string`. */
  actress: string;
  /** Go `string`. */
  director: string;
  /** Go `float64`. */
  popularity: number;
  /** Go `string`. */
  awards: string;
  /** Go `string`. */
  image: string;
}

/**
 * The Go type of a field, as Go names it in error messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { GoKind } from "./film.ts";
 * const kind: GoKind = "float64";
 * assert.ok(kind === "float64");
 * ```
 */
export type GoKind = "int" | "float64" | "string";

/**
 * One struct field: its JSON name and Go type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FILM_FIELDS, type FilmField } from "./film.ts";
 * const popularity: FilmField = FILM_FIELDS.find((f) => f.name === "popularity")!;
 * assert.ok(popularity.kind === "float64");
 * ```
 */
export interface FilmField {
  /** The field's JSON name (the struct tag), e.g. `"year"`. */
  readonly name: keyof Film;
  /** The field's Go type. */
  readonly kind: GoKind;
}

/**
 * The struct's fields in declaration order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FILM_FIELDS } from "./film.ts";
 * assert.ok(FILM_FIELDS[0].name === "year" && FILM_FIELDS[0].kind === "int");
 * ```
 */
export const FILM_FIELDS: readonly FilmField[] = [
  { name: "year", kind: "int" },
  { name: "length", kind: "float64" },
  { name: "title", kind: "string" },
  { name: "subject", kind: "string" },
  { name: "actor", kind: "string" },
  { name: "actress", kind: "string" },
  { name: "director", kind: "string" },
  { name: "popularity", kind: "float64" },
  { name: "awards", kind: "string" },
  { name: "image", kind: "string" },
];

/**
 * A film with every field at its Go zero value (`0` or `""`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeroFilm } from "./film.ts";
 * const f = zeroFilm();
 * assert.ok(f.year === 0 && f.title === "");
 * ```
 */
export function zeroFilm(): Film {
  return {
    year: 0,
    length: 0,
    title: "",
    subject: "",
    actor: "",
    actress: "",
    director: "",
    popularity: 0,
    awards: "",
    image: "",
  };
}
