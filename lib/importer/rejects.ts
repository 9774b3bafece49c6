/**
 * The rejects file: every row that was not delivered, as CSV in the input's
 * dialect (delimiter and line ending; always UTF-8), with two leading
 * columns `line` and `reason` before the row's original fields. Fix the rows
 * and import the file again: the importer ignores `line` and `reason`.
 *
 * @module
 */

import { Papa } from "./_deps.ts";

/** Options for {@link openRejects}. */
export interface RejectsOptions {
  /** The field separator. @default ";" */
  delimiter?: string;
  /** The line ending. @default "\n" */
  newline?: "\n" | "\r\n";
  /** The input's column names; the rejects file's header is `line`, `reason`, then these. */
  columns: readonly string[];
}

/** An open rejects file. */
export interface RejectsWriter {
  /** Appends one rejected row. */
  add(line: number, reason: string, fields: readonly string[]): void;
  /** Rows written so far. */
  readonly count: number;
  /** Writes what is buffered. */
  flush(): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/**
 * Formats one CSV record (quoted only where needed), without its line ending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvRecord } from "./rejects.ts";
 * assert.ok(csvRecord(["a", "b;c"], ";") === 'a;"b;c"');
 * ```
 */
export function csvRecord(
  fields: readonly string[],
  delimiter: string,
): string {
  return Papa.unparse([fields as string[]], { delimiter, newline: "\n" });
}

/**
 * Creates (or truncates) the rejects file and writes its header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRejects } from "./rejects.ts";
 * const path = await Deno.makeTempFile();
 * const rejects = await openRejects(path, { columns: ["year", "title"] });
 * rejects.add(3, "title is empty", ["1999", ""]);
 * await rejects.close();
 * assert.ok((await Deno.readTextFile(path)).startsWith("line;reason;year;title\n3;"));
 * ```
 */
export async function openRejects(
  path: string,
  options: RejectsOptions,
): Promise<RejectsWriter> {
  const delimiter = options.delimiter ?? ";";
  const newline = options.newline ?? "\n";
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  const encoder = new TextEncoder();
  let buffer: string[] = [
    csvRecord(["line", "reason", ...options.columns], delimiter) + newline,
  ];
  let buffered = buffer[0].length;
  let count = 0;
  let closed = false;
  const flush = async () => {
    if (buffer.length === 0) return;
    const bytes = encoder.encode(buffer.join(""));
    buffer = [];
    buffered = 0;
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
  };
  let pending: Promise<void> = Promise.resolve();
  return {
    add(line, reason, fields) {
      const record = csvRecord([String(line), reason, ...fields], delimiter) +
        newline;
      buffer.push(record);
      buffered += record.length;
      count++;
      if (buffered > 64 * 1024) pending = pending.then(flush);
    },
    get count() {
      return count;
    },
    flush() {
      return pending = pending.then(flush);
    },
    async close() {
      if (closed) return;
      closed = true;
      await (pending = pending.then(flush));
      file.close();
    },
  };
}
