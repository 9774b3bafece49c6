/**
 * Dialect stage: the delimiter (`;`, `,`, tab or `|`) and the line ending,
 * read off the first non-blank line of the decoded text, and the words a
 * user may write for a delimiter. Pure functions.
 *
 * @module
 */

/** A field delimiter the importer accepts. */
export type Delimiter = ";" | "," | "\t" | "|";

/**
 * The delimiters detection chooses from, in the order that breaks a tie: `;`
 * first (the export's own), then the others by how rarely they occur inside
 * unquoted values: tab, then `|`, then `,` (names such as `Cage, Nicolas`
 * and titles hold commas; an unquoted tab or `|` in a value is rare).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DELIMITERS } from "./dialect.ts";
 * assert.deepEqual(DELIMITERS, [";", "\t", "|", ","]);
 * ```
 */
export const DELIMITERS: readonly Delimiter[] = [";", "\t", "|", ","];

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
 * The delimiter of a line: the one of `;`, `,`, tab and `|` that occurs
 * most often outside quotes. A tie goes to the first in {@link DELIMITERS}
 * (`;`, tab, `|`, `,`), so a line with none at all gives `;`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDelimiter } from "./dialect.ts";
 * assert(detectDelimiter("year;title;actor") === ";");
 * assert(detectDelimiter('"1994","Lion King, The","Broderick, M."') === ",");
 * assert(detectDelimiter("1994;Lion King, The;Broderick, M.") === ";");
 * // 2 tabs and 2 commas: a tie, and a tab comes before a comma.
 * assert(detectDelimiter("1994\tLion King, The\tBroderick, M.") === "\t");
 * assert(detectDelimiter("1994|Lion King|Broderick, M.") === "|");
 * ```
 */
export function detectDelimiter(line: string): Delimiter {
  let best: Delimiter = DELIMITERS[0];
  let most = countOutsideQuotes(line, best);
  for (let i = 1; i < DELIMITERS.length; i++) {
    const count = countOutsideQuotes(line, DELIMITERS[i]);
    if (count > most) [best, most] = [DELIMITERS[i], count];
  }
  return best;
}

/** The words a user may write for each delimiter (any case). */
const DELIMITER_WORDS: Record<string, Delimiter | "auto"> = {
  "auto": "auto",
  ";": ";",
  "semicolon": ";",
  ",": ",",
  "comma": ",",
  "tab": "\t",
  "|": "|",
  "pipe": "|",
};

/**
 * The allowed values of the delimiter setting, for `--help` and errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DELIMITER_ALLOWED } from "./dialect.ts";
 * assert.ok(DELIMITER_ALLOWED.startsWith("auto, "));
 * ```
 */
export const DELIMITER_ALLOWED =
  'auto, ";", ",", tab or "|" (also semicolon, comma, pipe, \\t or a tab character; words in any case)';

/**
 * Reads how a user wrote a delimiter: `auto`; `;` or `semicolon`; `,` or
 * `comma`; `tab`, `\t` (backslash and t, as typed in a shell) or a tab
 * character; `|` or `pipe`. Words in any case (`\t` only as written),
 * spaces around them ignored. Anything else is `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDelimiter } from "./dialect.ts";
 * assert.equal(parseDelimiter("TAB"), "\t");
 * assert.equal(parseDelimiter("\\t"), "\t");
 * assert.equal(parseDelimiter("\t"), "\t");
 * assert.equal(parseDelimiter("pipe"), "|");
 * assert.equal(parseDelimiter("auto"), "auto");
 * assert.equal(parseDelimiter("colon"), null);
 * ```
 */
export function parseDelimiter(text: string): Delimiter | "auto" | null {
  if (text === "\t" || text.trim() === "\\t") return "\t";
  const word = text.trim().toLowerCase();
  return Object.hasOwn(DELIMITER_WORDS, word) ? DELIMITER_WORDS[word] : null;
}

/**
 * A delimiter as a message shows it: `";"`, `","`, `tab`, `"|"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showDelimiter } from "./dialect.ts";
 * assert.equal(showDelimiter("\t"), "tab");
 * assert.equal(showDelimiter(";"), '";"');
 * ```
 */
export function showDelimiter(delimiter: Delimiter): string {
  return delimiter === "\t" ? "tab" : `"${delimiter}"`;
}

/**
 * The word for a delimiter that needs no quoting in a shell, for hints such
 * as `try --delimiter pipe`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { delimiterWord } from "./dialect.ts";
 * assert.equal(delimiterWord("|"), "pipe");
 * assert.equal(delimiterWord(";"), "semicolon");
 * ```
 */
export function delimiterWord(delimiter: Delimiter): string {
  switch (delimiter) {
    case ";":
      return "semicolon";
    case ",":
      return "comma";
    case "\t":
      return "tab";
    case "|":
      return "pipe";
  }
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
