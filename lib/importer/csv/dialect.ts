/**
 * Dialect stage: the delimiter and the line ending, read off the first
 * non-blank line of the decoded text. Pure functions.
 *
 * @module
 */

/** A field delimiter the importer accepts. */
export type Delimiter = ";" | ",";

/** A line ending. */
export type Newline = "\n" | "\r\n";

/** Options of {@link detectDialect}. */
export interface DialectOptions {
  /**
   * The delimiter, or `"auto"` to detect it.
   * @default "auto"
   */
  delimiter?: "auto" | Delimiter;
}

/** The delimiter and line ending of a text. */
export interface TextDialect {
  /** The field delimiter. */
  delimiter: Delimiter;
  /** The line ending of the first non-blank line (`"\n"` if it has none). */
  newline: Newline;
}

/**
 * Whether a line holds only whitespace (including a lone `\r`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBlank } from "./dialect.ts";
 * assert(isBlank(" \t\r") && isBlank("") && !isBlank(" ;"));
 * ```
 */
export function isBlank(line: string): boolean {
  return line.trim() === "";
}

/**
 * The first line of `text` that is not blank, with its line ending, or
 * `null` when there is none yet: when `final` is false a last line without a
 * line ending may be incomplete, so it does not count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstNonBlankLine } from "./dialect.ts";
 * assert(firstNonBlankLine("\n \r\na;b\r\nc", false) === "a;b\r\n");
 * assert(firstNonBlankLine("\na;b", false) === null);
 * assert(firstNonBlankLine("\na;b", true) === "a;b");
 * ```
 */
export function firstNonBlankLine(text: string, final: boolean): string | null {
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) {
      const last = text.slice(start);
      return final && !isBlank(last) ? last : null;
    }
    const line = text.slice(start, nl + 1);
    if (!isBlank(line)) return line;
    start = nl + 1;
  }
  return null;
}

/**
 * How often `char` occurs in `line` outside double quotes (an escaped `""`
 * toggles twice, so it does not matter).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countOutsideQuotes } from "./dialect.ts";
 * assert(countOutsideQuotes('"Lion King, The",1994', ",") === 1);
 * ```
 */
export function countOutsideQuotes(line: string, char: string): number {
  const c = char.charCodeAt(0);
  let inQuotes = false, count = 0;
  for (let i = 0; i < line.length; i++) {
    const x = line.charCodeAt(i);
    if (x === 34) inQuotes = !inQuotes;
    else if (x === c && !inQuotes) count++;
  }
  return count;
}

/**
 * The delimiter of a line: the one of `;` and `,` that occurs more often
 * outside quotes; `;` (the export's own) on a tie, including none at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDelimiter } from "./dialect.ts";
 * assert(detectDelimiter("year;title;actor") === ";");
 * assert(detectDelimiter('"1994","Lion King, The","Broderick, M."') === ",");
 * assert(detectDelimiter("1994;Lion King, The;Broderick, M.") === ";");
 * ```
 */
export function detectDelimiter(line: string): Delimiter {
  return countOutsideQuotes(line, ",") > countOutsideQuotes(line, ";")
    ? ","
    : ";";
}

/**
 * The line ending of a line (that includes its ending): `"\r\n"` or `"\n"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectNewline } from "./dialect.ts";
 * assert(detectNewline("a;b\r\n") === "\r\n");
 * assert(detectNewline("a;b\n") === "\n" && detectNewline("a;b") === "\n");
 * ```
 */
export function detectNewline(line: string): Newline {
  return line.endsWith("\r\n") ? "\r\n" : "\n";
}

/**
 * The dialect of a text from its first non-blank line. `text` is the start
 * of the input: it must hold that line completely (or be all of the input).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDialect } from "./dialect.ts";
 * const d = detectDialect('\r\n"year","title"\r\n"1999","Matrix, The"\r\n');
 * assert(d.delimiter === "," && d.newline === "\r\n");
 * assert(detectDialect("a,b,c\n", { delimiter: ";" }).delimiter === ";");
 * ```
 */
export function detectDialect(
  text: string,
  options: DialectOptions = {},
): TextDialect {
  const line = firstNonBlankLine(text, true) ?? "";
  const forced = options.delimiter ?? "auto";
  return {
    delimiter: forced === "auto" ? detectDelimiter(line) : forced,
    newline: detectNewline(line),
  };
}
