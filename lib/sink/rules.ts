/**
 * The real service's validation of a decoded film: its rules (shared with
 * the importer, `lib/shared/movie_rules.ts`), their order (first failure
 * wins) and their exact messages, quirks included.
 *
 * @module
 */

import type { Film } from "./film.ts";
import {
  FIRST_YEAR,
  IMAGE_PATTERN,
  imageMatches,
  POPULARITY,
} from "../shared/movie_rules.ts";

export { IMAGE_PATTERN, imageMatches };

/**
 * The earliest year the service accepts (from the shared rules).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIN_YEAR } from "./rules.ts";
 * assert.ok(MIN_YEAR === 1888);
 * ```
 */
export const MIN_YEAR: number = FIRST_YEAR;

/** The pattern as Go's `%q` prints it: quoted, backslash doubled. */
const QUOTED_IMAGE_PATTERN = `"${IMAGE_PATTERN.replaceAll("\\", "\\\\")}"`;

/**
 * The string fields checked for UTF-8 and U+FFFD, in the service's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TEXT_FIELDS } from "./rules.ts";
 * assert.ok(TEXT_FIELDS[0] === "title" && TEXT_FIELDS.length === 7);
 * ```
 */
export const TEXT_FIELDS = [
  "title",
  "subject",
  "actor",
  "actress",
  "director",
  "awards",
  "image",
] as const;

/**
 * The byte offset, in the UTF-8 encoding of `text`, of UTF-16 index
 * `index`: Go reports positions in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Offset } from "./rules.ts";
 * assert.ok(utf8Offset("aé\uFFFD", 2) === 3);
 * ```
 */
export function utf8Offset(text: string, index: number): number {
  let bytes = 0;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < index) {
      bytes += 4; // a surrogate pair is one 4-byte rune
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Checks a decoded film like the real service: the message of the first
 * rule that fails, or `null` when the film is accepted. `currentYear` is
 * the upper bound of the year rule (the service uses the clock's year).
 *
 * About the two text rules: Go's JSON decoder already replaces every
 * invalid UTF-8 byte inside a string with U+FFFD, so a film decoded from a
 * request can never hold invalid UTF-8, and a body with raw invalid bytes
 * gets the U+FFFD message ("contains an invalid character at position
 * <byte index>"), the same as an escaped `\ufffd` or a literal `�`. The
 * "is not valid utf8" rule is kept for fidelity (in JavaScript a string is
 * ill-formed when it holds a lone surrogate), but `decodeFilm` never
 * produces such a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateFilm } from "./rules.ts";
 * import { zeroFilm } from "./film.ts";
 * const film = { ...zeroFilm(), title: "Titanic", year: 1997 };
 * assert.ok(validateFilm(film, 2026) === null);
 * assert.ok(validateFilm({ ...film, title: "" }, 2026) === "title is required");
 * assert.ok(
 *   validateFilm({ ...film, popularity: 101 }, 2026) ===
 *     "year must be between 0 and 100 (inclusive)",
 * );
 * ```
 */
export function validateFilm(film: Film, currentYear: number): string | null {
  if (film.title === "") return "title is required";
  if (film.year < MIN_YEAR || film.year > currentYear) {
    return `year must be between ${MIN_YEAR} and ${currentYear} (inclusive)`;
  }
  if (film.popularity < POPULARITY.min || film.popularity > POPULARITY.max) {
    // sic: the real service names the wrong field
    return "year must be between 0 and 100 (inclusive)";
  }
  const awards = film.awards;
  if (awards !== "" && awards !== "Yes" && awards !== "No") {
    return 'awards must be "Yes" or "No"';
  }
  const image = film.image;
  if (image !== "" && !imageMatches(image)) {
    return `image value doesn't match the regexp ${QUOTED_IMAGE_PATTERN}: ${image}`;
  }
  for (const field of TEXT_FIELDS) {
    const value = film[field];
    if (!value.isWellFormed()) {
      return `value for ${field} is not valid utf8: ${value}`;
    }
    const at = value.indexOf("\uFFFD");
    if (at >= 0) {
      return `value for ${field} contains an invalid character at position ${
        utf8Offset(value, at)
      }: ${value}`;
    }
  }
  return null;
}
