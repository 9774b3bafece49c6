/**
 * The movie service's rules, in one place for the importer (which checks
 * rows before sending them) and the local service (which enforces them):
 * the export's columns, the year and popularity ranges, the awards values,
 * and the image pattern with Go's regexp semantics. See `SINK.md`.
 *
 * @module
 */

/**
 * The export's columns, in the order of a file without a header row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COLUMNS } from "./movie_rules.ts";
 * assert.ok(COLUMNS[0] === "year" && COLUMNS.length === 10);
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

/**
 * The first year the service accepts (the last is the current year).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIRST_YEAR } from "./movie_rules.ts";
 * assert.equal(FIRST_YEAR, 1888);
 * ```
 */
export const FIRST_YEAR = 1888;

/**
 * The popularity range the service accepts, inclusive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { POPULARITY } from "./movie_rules.ts";
 * assert.deepEqual(POPULARITY, { min: 0, max: 100 });
 * ```
 */
export const POPULARITY = { min: 0, max: 100 } as const;

/**
 * The awards values the service accepts (case-sensitive).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AWARDS } from "./movie_rules.ts";
 * assert.ok(AWARDS.includes("Yes") && !AWARDS.includes("yes" as never));
 * ```
 */
export const AWARDS = ["", "Yes", "No"] as const;

/**
 * The image pattern of the service's image rule (Go regexp syntax).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IMAGE_PATTERN } from "./movie_rules.ts";
 * assert.equal(IMAGE_PATTERN, ".+\\.(png|jpg|jpeg)$");
 * ```
 */
export const IMAGE_PATTERN = ".+\\.(png|jpg|jpeg)$";

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"];

/**
 * Whether `image` matches Go's `regexp.MustCompile(".+\\.(png|jpg|jpeg)$")`.
 * In Go (RE2) `.` matches any character but `\n` (JavaScript's `.` also
 * refuses `\r`, U+2028 and U+2029) and `$` is the end of the text, so the
 * pattern holds when the text ends with one of the extensions and the
 * character right before that dot exists and is not a newline. An empty
 * image is allowed by the rule itself, not by the pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageMatches } from "./movie_rules.ts";
 * assert.ok(imageMatches("poster.jpeg") && imageMatches("a\r.png") && imageMatches("a\u2028.jpg"));
 * assert.ok(!imageMatches(".png") && !imageMatches("poster.PNG") && !imageMatches("a\n.png"));
 * ```
 */
export function imageMatches(image: string): boolean {
  for (const ext of IMAGE_EXTENSIONS) {
    if (image.endsWith(ext)) {
      const dot = image.length - ext.length;
      return dot >= 1 && image.charCodeAt(dot - 1) !== 0x0a;
    }
  }
  return false;
}
