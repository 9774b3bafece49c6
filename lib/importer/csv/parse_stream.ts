/**
 * Parse stage: decoded text in, batches of raw records out, each with the
 * physical line it starts on.
 *
 * Parsing is papaparse's low-level `Parser` (RFC 4180 quotes, `""` escapes,
 * quoted fields over several lines), fed `remainder + chunk` and asked to
 * leave the last, possibly incomplete, record for the next chunk.
 *
 * Records are always split on `\n`, and one `\r` at the end of a record is
 * dropped, so CRLF files, LF files and files that mix both parse the same.
 * A physical line is what `awk`/`wc -l` count: text up to a `\n`.
 *
 * @module
 */

import { Papa } from "../_deps.ts";
import type { Delimiter } from "./dialect.ts";
import { InputError } from "./errors.ts";

/** One record of the text, by kind. */
export type RawRecord =
  /** A record with at least one non-blank field (or more than one field). */
  | { kind: "row"; line: number; fields: string[] }
  /** A line holding only whitespace. */
  | { kind: "blank"; line: number }
  /** A record whose quotes papaparse could not make sense of. */
  | { kind: "malformed"; line: number; fields: string[]; reason: string };

/**
 * The default of {@link ParseStreamOptions.maxRecordChars}: 1 MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_RECORD_CHARS } from "./parse_stream.ts";
 * assert.equal(DEFAULT_MAX_RECORD_CHARS, 1_048_576);
 * ```
 */
export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

/** Options of {@link parseStream}. */
export interface ParseStreamOptions {
  /**
   * The field delimiter.
   * @default ";"
   */
  delimiter?: Delimiter;
  /**
   * The longest record accepted, in characters. A record still incomplete
   * beyond this (in practice: an unterminated quote) is an {@link InputError}
   * naming the line it starts on, so memory stays bounded.
   * @default 1048576
   */
  maxRecordChars?: number;
  /**
   * The physical line number of the text's first line.
   * @default 1
   */
  firstLine?: number;
}

/** Number of `\n` in `text[0, end)`. */
function countNewlines(text: string, end: number): number {
  let count = 0;
  for (
    let i = text.indexOf("\n");
    i !== -1 && i < end;
    i = text.indexOf("\n", i + 1)
  ) {
    count++;
  }
  return count;
}

/** Number of `\n` inside the fields of a row. */
function newlinesIn(fields: string[]): number {
  let count = 0;
  for (const f of fields) {
    if (f.indexOf("\n") !== -1) count += countNewlines(f, f.length);
  }
  return count;
}

function isBlankField(field: string): boolean {
  return field.length === 0 || field.trim() === "";
}

/**
 * A `TransformStream` from text chunks to batches of {@link RawRecord}s: one
 * array per input chunk that completes at least one record (chunks that
 * complete none give no array). Throws {@link InputError} for an
 * unterminated quoted field (at the end of the input, or once the record
 * exceeds `maxRecordChars`).
 *
 * Line numbers cost nothing in the common case: a chunk without any `"` is
 * one record per line; a chunk with quotes has its consumed newlines counted
 * once, and only if that count differs from the number of records (a quoted
 * field spans lines) are the newlines inside each record's fields counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStream } from "./parse_stream.ts";
 * const text = 'year;title\n\n1999;"Matrix;\nThe"\n2001;Shrek\n';
 * const batches = await Array.fromAsync(
 *   ReadableStream.from([text.slice(0, 15), text.slice(15)])
 *     .pipeThrough(parseStream({ delimiter: ";" })),
 * );
 * const records = batches.flat();
 * assert(records.map((r) => `${r.kind}@${r.line}`).join() ===
 *   "row@1,blank@2,row@3,row@5");
 * ```
 */
export function parseStream(
  options: ParseStreamOptions = {},
): TransformStream<string, RawRecord[]> {
  const delimiter = options.delimiter ?? ";";
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const parser = new Papa.Parser({ delimiter, newline: "\n", quoteChar: '"' });
  let rest = "";
  let line = options.firstLine ?? 1; // physical line where `rest` starts

  function parse(input: string, final: boolean): RawRecord[] {
    const result = parser.parse(input, 0, !final) as Papa.ParseResult<string[]>;
    const rows = result.data;
    const n = rows.length;
    const consumed = final ? input.length : result.meta.cursor;
    let lines: number[] | null = null; // per-record lines, when some record spans lines
    let consumedNewlines = n;
    if (input.indexOf('"') !== -1) {
      // Papaparse's quoted mode (otherwise it splits on "\n": one record a line).
      consumedNewlines = countNewlines(input, consumed);
      const unterminatedLast = final && consumed > 0 &&
        input.charCodeAt(consumed - 1) !== 10;
      if (consumedNewlines !== (unterminatedLast ? n - 1 : n)) {
        lines = new Array(n);
        for (let i = 0, at = line; i < n; i++) {
          lines[i] = at;
          at += 1 + newlinesIn(rows[i]);
        }
      }
    }
    const out: RawRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const fields = rows[i];
      const last = fields.length - 1;
      const lastField = fields[last];
      if (lastField.charCodeAt(lastField.length - 1) === 13) {
        fields[last] = lastField.slice(0, -1);
      }
      const at = lines === null ? line + i : lines[i];
      out[i] = last === 0 && isBlankField(fields[0])
        ? { kind: "blank", line: at }
        : { kind: "row", line: at, fields };
    }
    if (result.errors.length > 0) markMalformed(out, rows, result.errors);
    rest = final ? "" : input.slice(consumed);
    line += consumedNewlines;
    if (rest.length > maxRecordChars) {
      throw new InputError(
        `CSV_IN: line ${line}: record longer than ${maxRecordChars} characters (an unterminated quoted field?)`,
      );
    }
    return out;
  }

  function markMalformed(
    out: RawRecord[],
    rows: string[][],
    errors: Papa.ParseError[],
  ): void {
    for (const e of errors) {
      const i = e.row;
      // An error on the record left for the next chunk is found again then.
      if (i === undefined || i >= out.length) continue;
      const start = out[i].line;
      if (e.code === "MissingQuotes") {
        const stray = errors.some((x) =>
          x.row === i && x.code === "InvalidQuotes"
        );
        throw new InputError(
          stray
            ? `CSV_IN: line ${start}: unterminated quoted field (a quote is followed by other text, and no later quote ends the field before the end of the input)`
            : `CSV_IN: line ${start}: unterminated quoted field (no closing quote before the end of the input)`,
        );
      }
      if (out[i].kind === "malformed") continue;
      const span = newlinesIn(rows[i]);
      const reason =
        `malformed quotes: a closing quote is not followed by "${delimiter}" or the end of the line` +
        (span > 0 ? ` (the record runs on to line ${start + span})` : "");
      out[i] = { kind: "malformed", line: start, fields: rows[i], reason };
    }
  }

  return new TransformStream<string, RawRecord[]>({
    transform(chunk, controller) {
      if (chunk.length === 0) return;
      const out = parse(rest.length > 0 ? rest + chunk : chunk, false);
      if (out.length > 0) controller.enqueue(out);
    },
    flush(controller) {
      if (rest.length === 0) return;
      const out = parse(rest, true);
      if (out.length > 0) controller.enqueue(out);
    },
  });
}
