/**
 * The source stage: a CSV file (or bytes, or text) in, a pull-driven stream
 * of record batches out, each record with the physical line it starts on.
 *
 * ```
 * bytes ─ encoding (csv/encoding.ts) ─ text ─ dialect (csv/dialect.ts, first line)
 *       ─ parse (csv/parse_stream.ts) ─ RawRecord[] ─ layout (csv/layout.ts, first records)
 *       ─ SourceItem[]
 * ```
 *
 * Nothing is read ahead of the consumer beyond a chunk or two per stage, so
 * memory does not grow with the file. Checking a row's width is the
 * caller's job: compare `fields.length` with `layout.width`.
 *
 * @module
 */

import {
  chooseEncoding,
  type DecodeOptions,
  decodeStream,
  type EncodingChoice,
  fileText,
  hasUtf8Bom,
  lineAtOffset,
  scanUtf8,
  SNIFF_BYTES,
  sniffBytes,
  type Utf8Facts,
  utf8Facts,
} from "./csv/encoding.ts";
import { detectDialect, firstNonBlankLine } from "./csv/dialect.ts";
import { InputError } from "./csv/errors.ts";
import {
  defaultLayout,
  headerLayout,
  isHeader,
  isTypeRow,
  type Layout,
} from "./csv/layout.ts";
import {
  DEFAULT_MAX_RECORD_CHARS,
  parseStream,
  type RawRecord,
} from "./csv/parse_stream.ts";
import { prepend } from "./csv/_shared.ts";

export { InputError };
export type { Layout };

/** One record of the input, by kind. `line` is the physical line it starts on. */
export type SourceItem =
  | RawRecord
  | { kind: "header"; line: number; fields: string[] }
  | { kind: "type_row"; line: number; fields: string[] };

/** How the input is written. */
export interface Dialect {
  /** The field delimiter. */
  delimiter: ";" | "," | "\t" | "|";
  /** The line ending of the first non-blank line. */
  newline: "\n" | "\r\n";
  /** What the bytes are read as. */
  encoding: "utf-8" | "windows-1252";
  /** The input started with a UTF-8 byte order mark (removed). */
  bom: boolean;
}

/** Options of {@link openSource} and {@link openSourceStream}. */
export interface SourceOptions {
  /**
   * The field delimiter, or `"auto"`: the one of `;`, `,`, tab and `|`
   * found most often outside quotes in the first non-blank line (a tie goes
   * to `;`, then tab, then `|`, then `,`).
   * @default "auto"
   */
  delimiter?: "auto" | ";" | "," | "\t" | "|";
  /**
   * The encoding, or `"auto"`: UTF-8 if the input is valid UTF-8 (or starts
   * with a UTF-8 byte order mark), else Windows-1252 with one warning.
   * @default "auto"
   */
  encoding?: "auto" | "utf-8" | "windows-1252";
  /**
   * The longest record accepted, in characters; a longer one (an
   * unterminated quote) is an {@link InputError} naming its first line.
   * @default 1048576
   */
  maxRecordChars?: number;
  /**
   * Told about problems the read goes on despite (encoding fallback,
   * missing columns).
   * @default undefined
   */
  onWarning?: (message: string) => void;
  /**
   * Told about ignored header columns.
   * @default undefined
   */
  onInfo?: (message: string) => void;
}

/** An open input. */
export interface Source {
  /** How the input is written. */
  dialect: Dialect;
  /** Which field holds which column. */
  layout: Layout;
  /**
   * The records, in batches (one per chunk read), read only as they are
   * pulled. Errors with {@link InputError} on an unterminated quote.
   */
  items: ReadableStream<SourceItem[]>;
  /** The input's size in bytes (0 when unknown: a stream). */
  size: number;
  /** Bytes read from the input so far (a chunk or two ahead of the items pulled). */
  bytesRead(): number;
  /** Stops reading and releases the file (also fine after the end). */
  close(): Promise<void>;
}

/** Characters per chunk when the input is a string. */
const TEXT_CHUNK = 64 * 1024;
/** Bytes per chunk when the input is a `Uint8Array` (what a file read gives). */
const BYTE_CHUNK = 64 * 1024;

/**
 * Opens a CSV file. With `encoding: "auto"` the whole file is first checked
 * for valid UTF-8 (a streaming pass in constant memory), so an invalid byte
 * anywhere makes it Windows-1252. Reads just enough to know the dialect and
 * the layout before it returns.
 *
 * Throws {@link InputError} (file not found, not a file, empty, duplicate
 * column, …); Deno permission errors are thrown as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSource } from "./source.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "year;title;awards\n1999;Matrix;No\n\n2001;Shrek;Yes\n");
 * const source = await openSource(path);
 * const items = (await Array.fromAsync(source.items)).flat();
 * assert.equal(source.dialect.delimiter, ";");
 * assert.equal(source.layout.index.title, 1);
 * assert.equal(source.layout.index.image, -1);
 * assert.equal(items.map((i) => `${i.kind}@${i.line}`).join(), "header@1,row@2,blank@3,row@4");
 * await source.close();
 * await Deno.remove(path);
 * ```
 */
export async function openSource(
  path: string,
  options: SourceOptions = {},
): Promise<Source> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw fileError(e, path);
  }
  let handedOver = false;
  try {
    const info = await file.stat();
    if (!info.isFile) throw new InputError(`CSV_IN: not a file: ${path}`);
    if (info.size === 0) throw new InputError(`CSV_IN: empty file: ${path}`);
    const option = options.encoding ?? "auto";
    let facts: Utf8Facts;
    if (option === "auto") {
      facts = await scanUtf8(file);
      if (facts.invalidAt >= 0) {
        await file.seek(0, Deno.SeekMode.Start);
        facts.invalidLine = await lineAtOffset(file, facts.invalidAt);
      }
    } else {
      const head = await readUpTo(file, 3);
      facts = {
        bom: hasUtf8Bom(head),
        invalidAt: -1,
        invalidLine: 0,
        complete: false,
      };
    }
    await file.seek(0, Deno.SeekMode.Start);
    const choice = chooseEncoding(option, facts, path);
    handedOver = true;
    const release = () => {
      try {
        file.close();
      } catch { /* already closed by the end of the stream */ }
    };
    if (choice.warning) options.onWarning?.(choice.warning);
    const { text, read } = fileText(
      file,
      decodeOptions(choice, options, path),
      8 * 1024,
    );
    const source = await openText(
      text,
      { encoding: choice.encoding, bom: choice.bom },
      options,
      path,
      release,
    );
    return { ...source, size: info.size, bytesRead: read };
  } catch (e) {
    if (!handedOver) file.close();
    throw e instanceof InputError || isPermissionError(e)
      ? e
      : fileError(e, path);
  }
}

/**
 * Opens CSV input held in memory or arriving as a stream: for tests and
 * benchmarks, or input that is not a file.
 *
 * - a `string` is text already: `dialect.encoding` is `"utf-8"`, a leading
 *   U+FEFF is removed;
 * - a `Uint8Array` is checked whole, like a file;
 * - a `ReadableStream<Uint8Array>` can be read only once, so in `"auto"` only
 *   its first 64 KiB decide the encoding; if an invalid UTF-8 byte comes
 *   later, it is read as U+FFFD and reported once through `onWarning`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSourceStream } from "./source.ts";
 * // "Year;Title;*Image\n1999;Écran;x.png\n" in Windows-1252 (É is the byte C9)
 * const bytes = new Uint8Array([
 *   ...new TextEncoder().encode("Year;Title;*Image\n1999;"), 0xc9,
 *   ...new TextEncoder().encode("cran;x.png\n"),
 * ]);
 * const warnings: string[] = [];
 * const source = await openSourceStream(bytes, { onWarning: (m) => warnings.push(m) });
 * const items = (await Array.fromAsync(source.items)).flat();
 * assert.equal(source.dialect.encoding, "windows-1252");
 * assert.match(warnings[0], /not valid UTF-8 .*line 2.*Windows-1252/);
 * assert.deepEqual(items[1], { kind: "row", line: 2, fields: ["1999", "Écran", "x.png"] });
 * ```
 */
export function openSourceStream(
  input: string | Uint8Array | ReadableStream<Uint8Array>,
  options: SourceOptions = {},
): Promise<Source> {
  const label = "the input";
  if (typeof input === "string") {
    const bom = input.charCodeAt(0) === 0xfeff;
    const text = bom ? input.slice(1) : input;
    let at = 0;
    const stream = new ReadableStream<string>({
      pull(controller) {
        if (at >= text.length) return controller.close();
        controller.enqueue(text.slice(at, at += TEXT_CHUNK));
      },
    }, { highWaterMark: 0 });
    return openText(stream, { encoding: "utf-8", bom }, options, label);
  }
  const option = options.encoding ?? "auto";
  if (input instanceof Uint8Array) {
    const facts = option === "auto" ? utf8Facts(input, true) : {
      bom: hasUtf8Bom(input),
      invalidAt: -1,
      invalidLine: 0,
      complete: false,
    };
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= input.length) return controller.close();
        controller.enqueue(input.subarray(at, at += BYTE_CHUNK));
      },
    }, { highWaterMark: 0 });
    return openBytes(
      stream,
      chooseEncoding(option, facts, label),
      options,
      label,
    );
  }
  return (async () => {
    const { head, eof, stream } = await sniffBytes(
      input,
      option === "auto" ? SNIFF_BYTES : 3,
    );
    const facts = option === "auto" ? utf8Facts(head, eof) : {
      bom: hasUtf8Bom(head),
      invalidAt: -1,
      invalidLine: 0,
      complete: false,
    };
    return openBytes(
      stream,
      chooseEncoding(option, facts, label),
      options,
      label,
    );
  })();
}

/** How to decode, for an encoding choice: a warning if UTF-8 turns out invalid. */
function decodeOptions(
  choice: EncodingChoice,
  options: SourceOptions,
  label: string,
): DecodeOptions {
  const onInvalid = choice.watch
    ? (offset: number) =>
      options.onWarning?.(
        `CSV_IN: ${label}: invalid UTF-8 at byte offset ${offset}${
          options.encoding === "utf-8"
            ? ""
            : ` (only the first ${SNIFF_BYTES} bytes were checked)`
        }: invalid bytes are read as U+FFFD`,
      )
    : undefined;
  return { encoding: choice.encoding, stripBom: choice.bom, onInvalid };
}

/** Decodes, then goes on as {@link openText}. Cancels `bytes` on failure. */
function openBytes(
  bytes: ReadableStream<Uint8Array>,
  choice: EncodingChoice,
  options: SourceOptions,
  label: string,
  release?: () => void,
): Promise<Source> {
  if (choice.warning) options.onWarning?.(choice.warning);
  const text = bytes.pipeThrough(
    decodeStream(decodeOptions(choice, options, label)),
  );
  return openText(
    text,
    { encoding: choice.encoding, bom: choice.bom },
    options,
    label,
    release,
  );
}

/**
 * Reads text until the first non-blank line is whole (or the end): what
 * the dialect is detected from. Throws {@link InputError} for a file of
 * blank lines.
 */
async function readHead(
  reader: ReadableStreamDefaultReader<string>,
  maxRecordChars: number,
  label: string,
): Promise<string> {
  let head = "";
  while (
    firstNonBlankLine(head, false) === null && head.length <= maxRecordChars
  ) {
    const { done, value } = await reader.read();
    if (done) {
      if (head.trim() !== "") break;
      throw new InputError(
        head === ""
          ? `CSV_IN: empty file: ${label}`
          : `CSV_IN: empty file: ${label} (only blank lines)`,
      );
    }
    head += value;
  }
  return head;
}

/**
 * The layout, from the first non-blank record (a header?) and the one after
 * a header (a row of type names?); the batches read meanwhile, with those
 * records marked, are returned to be read again.
 */
async function readLayout(
  records: ReadableStreamDefaultReader<RawRecord[]>,
  options: SourceOptions,
): Promise<{ layout: Layout; buffered: SourceItem[][] }> {
  const buffered: SourceItem[][] = [];
  let layout = defaultLayout();
  let state: "first" | "after_header" | "done" = "first";
  while (state !== "done") {
    const { done, value } = await records.read();
    if (done) break;
    const batch: SourceItem[] = value;
    buffered.push(batch);
    for (let i = 0; i < batch.length && state !== "done"; i++) {
      const r = batch[i];
      if (r.kind === "blank") continue;
      if (state === "first" && r.kind === "row" && isHeader(r.fields)) {
        layout = headerLayout(r.fields, {
          line: r.line,
          onInfo: options.onInfo,
          onWarning: options.onWarning,
        });
        batch[i] = { kind: "header", line: r.line, fields: r.fields };
        state = "after_header";
      } else {
        if (
          state === "after_header" && r.kind === "row" && isTypeRow(r.fields)
        ) {
          batch[i] = { kind: "type_row", line: r.line, fields: r.fields };
        }
        state = "done";
      }
    }
  }
  return { layout, buffered };
}

/**
 * Detects the dialect and the layout, and sets up the item stream.
 * `release` frees the underlying resource at once (cancellation reaches it
 * only a few ticks later): called by `close()` and on failure.
 */
async function openText(
  text: ReadableStream<string>,
  encoding: Pick<Dialect, "encoding" | "bom">,
  options: SourceOptions,
  label: string,
  release?: () => void,
): Promise<Source> {
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const textReader = text.getReader();
  let records: ReadableStreamDefaultReader<RawRecord[]> | null = null;
  try {
    const head = await readHead(textReader, maxRecordChars, label);
    const dialect: Dialect = { ...detectDialect(head, options), ...encoding };
    records = prepend([head], textReader)
      .pipeThrough(
        parseStream({ delimiter: dialect.delimiter, maxRecordChars }),
      )
      .getReader();
    const { layout, buffered } = await readLayout(records, options);
    const reader = records;
    return {
      dialect,
      layout,
      items: prepend(buffered, reader),
      size: 0,
      bytesRead: () => 0,
      async close() {
        buffered.length = 0;
        await reader.cancel().catch(() => {});
        release?.();
      },
    };
  } catch (e) {
    await (records ?? textReader).cancel().catch(() => {});
    release?.();
    throw e;
  }
}

/** Reads up to `n` bytes from the start of a file. */
async function readUpTo(file: Deno.FsFile, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await file.read(buf.subarray(got));
    if (k === null) break;
    got += k;
  }
  return buf.subarray(0, got);
}

function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable ||
    e instanceof Deno.errors.PermissionDenied;
}

/** A file-system error as an {@link InputError}; permission errors untouched. */
function fileError(e: unknown, path: string): unknown {
  if (isPermissionError(e)) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new InputError(`CSV_IN: file not found: ${path}`);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return new InputError(`CSV_IN: not a file: ${path}`);
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new InputError(
      `CSV_IN: file not found: ${path} (a parent is not a directory)`,
    );
  }
  if (Object.values(Deno.errors).some((C) => e instanceof C)) {
    return new InputError(
      `CSV_IN: cannot read ${path}: ${(e as Error).message.split("\n")[0]}`,
      { cause: e },
    );
  }
  return e;
}
