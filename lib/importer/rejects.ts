/**
 * The rejects file: the rows a person must fix — invalid ones, and those
 * the service refused with a 4xx — as CSV in the input's dialect (delimiter
 * and line ending; always UTF-8), with two leading columns `line` and
 * `reason` before the row's fields. Fix the rows and import the file
 * again: the importer ignores `line` and `reason`.
 *
 * Writes are synchronous (a 64 KiB buffer at a time): a failed write (a
 * full disk, a revoked permission) is reported once through `onError` and
 * never escapes as an unhandled promise.
 *
 * @module
 */

import { Papa } from "./_deps.ts";
import { COLUMNS } from "./movie.ts";
import { droppedIndices, type Layout, normalizeName } from "./csv/layout.ts";

/** Options for {@link openRejects}. */
export interface RejectsOptions {
  /** The field separator. @default ";" */
  delimiter?: string;
  /** The line ending. @default "\n" */
  newline?: "\n" | "\r\n";
  /** The input's column names; the rejects file's header is `line`, `reason`, then these. */
  columns: readonly string[];
  /** Told of the first failed write (the writer stops writing). @default undefined */
  onError?: (message: string) => void;
}

/** An open rejects file. */
export interface RejectsWriter {
  /** Appends one rejected row. */
  add(line: number, reason: string, fields: readonly string[]): void;
  /** Rows added so far. */
  readonly count: number;
  /** The first write error, if any. */
  readonly error: string | null;
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and closes. */
  close(): void;
}

/**
 * Formats one CSV record (quoted only where needed), without its line ending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvRecord } from "./rejects.ts";
 * assert.equal(csvRecord(["a", "b;c"], ";"), 'a;"b;c"');
 * ```
 */
export function csvRecord(
  fields: readonly string[],
  delimiter: string,
): string {
  return Papa.unparse([fields as string[]], { delimiter, newline: "\n" });
}

/** The input's columns as the rejects file writes them. */
export interface RejectsColumns {
  /** The column names (the input's, less a re-imported rejects file's `line` and `reason`). */
  names: string[];
  /** A row's own fields, less `line` and `reason`. */
  original(fields: readonly string[]): readonly string[];
  /** The fields of a row as it was sent, from its JSON body (for a row the service refused). */
  sent(body: string): string[];
}

/**
 * The rejects file's columns for an input's layout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rejectsColumns } from "./rejects.ts";
 * import { headerLayout } from "./csv/layout.ts";
 * const columns = rejectsColumns(headerLayout(["line", "reason", "year", "title", "awards"]));
 * assert.deepEqual(columns.names, ["year", "title", "awards"]);
 * assert.deepEqual(columns.original(["7", "bad", "1999", "", "No"]), ["1999", "", "No"]);
 * assert.deepEqual(columns.sent('{"year":1999,"title":"X","awards":"No","length":null}'), ["1999", "X", "No"]);
 * ```
 */
export function rejectsColumns(layout: Layout): RejectsColumns {
  const header = layout.header ?? [...COLUMNS];
  const dropped = droppedIndices(layout);
  const keep = (_: unknown, i: number) => !dropped.has(i);
  const names = header.filter(keep);
  const movieKeys = names.map((name) => {
    const n = normalizeName(name);
    return (COLUMNS as readonly string[]).find((c) => normalizeName(c) === n) ??
      null;
  });
  return {
    names,
    original: (fields) => dropped.size === 0 ? fields : fields.filter(keep),
    sent(body) {
      const movie = JSON.parse(body) as Record<string, unknown>;
      return movieKeys.map((key) =>
        key === null ? "" : String(movie[key] ?? "")
      );
    },
  };
}

const encoder = new TextEncoder();
const BUFFER_CHARS = 64 * 1024;

/**
 * Creates (or truncates) the rejects file and writes its header. Throws
 * only when the file cannot be created (checked before anything is sent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRejects } from "./rejects.ts";
 * const path = await Deno.makeTempFile();
 * const rejects = openRejects(path, { columns: ["year", "title"] });
 * rejects.add(3, "title is empty", ["1999", ""]);
 * rejects.close();
 * assert.ok((await Deno.readTextFile(path)).startsWith("line;reason;year;title\n3;"));
 * ```
 */
export function openRejects(
  path: string,
  options: RejectsOptions,
): RejectsWriter {
  const delimiter = options.delimiter ?? ";";
  const newline = options.newline ?? "\n";
  const file = Deno.openSync(path, {
    write: true,
    create: true,
    truncate: true,
  });
  let buffer = csvRecord(["line", "reason", ...options.columns], delimiter) +
    newline;
  let count = 0;
  let error: string | null = null;
  let closed = false;
  const flush = () => {
    if (buffer === "" || error !== null) return;
    const bytes = encoder.encode(buffer);
    buffer = "";
    try {
      let written = 0;
      while (written < bytes.length) {
        written += file.writeSync(bytes.subarray(written));
      }
    } catch (e) {
      error = `cannot write the rejects file ${path}: ${
        (e as Error).message.split("\n")[0]
      }`;
      options.onError?.(error);
    }
  };
  flush();
  return {
    add(line, reason, fields) {
      count++;
      if (closed || error !== null) return; // counted, not written
      buffer += csvRecord([String(line), reason, ...fields], delimiter) +
        newline;

      if (buffer.length > BUFFER_CHARS) flush();
    },
    get count() {
      return count;
    },
    get error() {
      return error;
    },
    flush,
    close() {
      if (closed) return;
      closed = true;
      flush();
      file.close();
    },
  };
}
