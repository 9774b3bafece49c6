/**
 * Encoding stage: decide between UTF-8 and Windows-1252 and decode bytes to
 * text as a stream.
 *
 * Detection (`auto`): a file is UTF-8 when it is valid UTF-8 everywhere, and
 * Windows-1252 otherwise (with one warning). For a file this is decided by a
 * streaming pre-scan of the whole file before the real read ({@link scanUtf8}:
 * a 1 MiB buffer, validated with `isUtf8` from `node:buffer`, constant memory,
 * about 30 ms per 100 MB from the page cache). A one-shot byte stream cannot
 * be read twice, so only its first {@link SNIFF_BYTES} are checked
 * ({@link sniffBytes}); an invalid byte later in such a stream is decoded as
 * U+FFFD and reported once through {@link DecodeOptions.onInvalid}.
 *
 * A UTF-8 byte order mark is always removed and settles `auto` on UTF-8.
 *
 * @module
 */

import { Buffer, isUtf8 } from "node:buffer";
import { prepend } from "./_shared.ts";

/** What the caller asks for. */
export type EncodingOption = "auto" | "utf-8" | "windows-1252";

/** What the input is read as. */
export type Encoding = "utf-8" | "windows-1252";

/**
 * How many leading bytes of a one-shot stream are checked in `auto`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SNIFF_BYTES } from "./encoding.ts";
 * assert.equal(SNIFF_BYTES, 65536);
 * ```
 */
export const SNIFF_BYTES = 64 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Whether `bytes` starts with the UTF-8 byte order mark `EF BB BF`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasUtf8Bom } from "./encoding.ts";
 * assert(hasUtf8Bom(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])));
 * assert(!hasUtf8Bom(new Uint8Array([0x61])));
 * ```
 */
export function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb &&
    bytes[2] === 0xbf;
}

/**
 * The number of bytes at the end of `bytes` that start a UTF-8 sequence the
 * bytes do not complete (0 to 3): what a streaming decoder must carry over to
 * the next chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { incompleteUtf8Tail } from "./encoding.ts";
 * // "é" is C3 A9: a chunk ending after C3 leaves one byte pending.
 * assert(incompleteUtf8Tail(new Uint8Array([0x61, 0xc3])) === 1);
 * assert(incompleteUtf8Tail(new Uint8Array([0x61, 0xc3, 0xa9])) === 0);
 * ```
 */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = bytes[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (b < 0x80) return 0;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - i < need ? n - i : 0;
  }
  return 0;
}

/**
 * The index of the first byte of the first invalid UTF-8 sequence in `bytes`
 * (WHATWG rules: no overlong forms, surrogates or code points above
 * U+10FFFF; a sequence cut off at the end is invalid), or -1 when `bytes` is
 * valid UTF-8. A plain loop: use it to locate an error, not to scan a file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstInvalidUtf8 } from "./encoding.ts";
 * assert(firstInvalidUtf8(new TextEncoder().encode("café")) === -1);
 * assert(firstInvalidUtf8(new Uint8Array([0x63, 0x61, 0x66, 0xe9])) === 3);
 * ```
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Counts `\n` bytes in `bytes[0, end)`. */
function countNewlineBytes(bytes: Uint8Array, end: number): number {
  let count = 0;
  for (
    let i = bytes.indexOf(10);
    i !== -1 && i < end;
    i = bytes.indexOf(10, i + 1)
  ) {
    count++;
  }
  return count;
}

/** Something bytes can be read from, like `Deno.FsFile`. */
export interface ByteReader {
  /** Reads into `p`; the number of bytes read, or `null` at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options of {@link scanUtf8}. */
export interface ScanOptions {
  /**
   * Bytes read at a time.
   * @default 1048576
   */
  bufferSize?: number;
}

/** What a UTF-8 scan found out. */
export interface Utf8Facts {
  /** The input starts with a UTF-8 byte order mark. */
  bom: boolean;
  /** Byte offset of the first invalid UTF-8 sequence, -1 when none was seen. */
  invalidAt: number;
  /** 1-based line of `invalidAt` (0 when unknown or valid). */
  invalidLine: number;
  /** The scan covered the whole input (false: only a prefix was checked). */
  complete: boolean;
}

/**
 * Reads `reader` to its end and checks that it is valid UTF-8, in constant
 * memory. `invalidLine` is left 0 (counting lines would cost a pass): when
 * `invalidAt >= 0`, rewind and call {@link lineAtOffset}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanUtf8 } from "./encoding.ts";
 * const bytes = new Uint8Array([0x61, 0x0a, 0xe9, 0x0a]); // "a\né\n" in Windows-1252
 * let done = false;
 * const reader = {
 *   read: (p: Uint8Array) => {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const facts = await scanUtf8(reader);
 * assert(facts.invalidAt === 2 && !facts.bom && facts.complete);
 * ```
 */
export async function scanUtf8(
  reader: ByteReader,
  options: ScanOptions = {},
): Promise<Utf8Facts> {
  const size = Math.max(4, options.bufferSize ?? 1 << 20);
  const buf = new Uint8Array(size + 3);
  let carry = 0; // bytes kept at the start of buf (an incomplete sequence)
  let pos = 0; // stream offset of buf[0]
  let bom = false;
  let bomChecked = false;
  for (;;) {
    const n = await reader.read(buf.subarray(carry, carry + size));
    if (n === null) break;
    const len = carry + n;
    if (!bomChecked) {
      if (len < 3) {
        carry = len;
        continue;
      }
      bom = hasUtf8Bom(buf);
      bomChecked = true;
    }
    const end = len - incompleteUtf8Tail(buf.subarray(0, len));
    const chunk = buf.subarray(0, end);
    if (!isUtf8(chunk)) {
      const at = firstInvalidUtf8(chunk);
      return { bom, invalidAt: pos + at, invalidLine: 0, complete: true };
    }
    buf.copyWithin(0, end, len);
    pos += end;
    carry = len - end;
  }
  if (!bomChecked) bom = hasUtf8Bom(buf.subarray(0, carry));
  const at = firstInvalidUtf8(buf.subarray(0, carry));
  return {
    bom,
    invalidAt: at < 0 ? -1 : pos + at,
    invalidLine: 0,
    complete: true,
  };
}

/**
 * The 1-based line of byte `offset`: one plus the number of `\n` bytes read
 * from `reader` (from its current position) before `offset`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineAtOffset } from "./encoding.ts";
 * const bytes = new TextEncoder().encode("a\nb\nc");
 * let done = false;
 * const reader = {
 *   read: (p: Uint8Array) => {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * assert(await lineAtOffset(reader, 4) === 3);
 * ```
 */
export async function lineAtOffset(
  reader: ByteReader,
  offset: number,
): Promise<number> {
  const buf = new Uint8Array(1 << 20);
  let line = 1, pos = 0;
  while (pos < offset) {
    const n = await reader.read(buf);
    if (n === null) break;
    const end = Math.min(n, offset - pos);
    line += countNewlineBytes(buf.subarray(0, n), end);
    pos += n;
  }
  return line;
}

/**
 * The {@link Utf8Facts} of bytes held in memory: the whole input
 * (`complete`) or the sniffed prefix of a stream (then a sequence cut off at
 * the end of `bytes` is not an error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Facts } from "./encoding.ts";
 * const f = utf8Facts(new Uint8Array([0x61, 0x0a, 0x62, 0xe9]), true);
 * assert(f.invalidAt === 3 && f.invalidLine === 2);
 * assert(utf8Facts(new Uint8Array([0x61, 0xc3]), false).invalidAt === -1);
 * ```
 */
export function utf8Facts(bytes: Uint8Array, complete: boolean): Utf8Facts {
  const end = complete
    ? bytes.length
    : bytes.length - incompleteUtf8Tail(bytes);
  const checked = bytes.subarray(0, end);
  const invalidAt = isUtf8(checked) ? -1 : firstInvalidUtf8(checked);
  return {
    bom: hasUtf8Bom(bytes),
    invalidAt,
    invalidLine: invalidAt < 0 ? 0 : 1 + countNewlineBytes(bytes, invalidAt),
    complete,
  };
}

/** The outcome of {@link chooseEncoding}. */
export interface EncodingChoice {
  /** What to decode the input as. */
  encoding: Encoding;
  /** Remove the leading byte order mark. */
  bom: boolean;
  /**
   * Decode UTF-8 watching for invalid bytes that the scan did not see
   * (forced `utf-8`, or a stream of which only a prefix was sniffed).
   */
  watch: boolean;
  /** The one warning to give, if any. */
  warning?: string;
}

/**
 * Applies the detection rule to what a scan found.
 *
 * @param label the file's path, or a description of the input, for messages
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseEncoding } from "./encoding.ts";
 * const facts = { bom: false, invalidAt: 1234, invalidLine: 17, complete: true };
 * const c = chooseEncoding("auto", facts, "old.csv");
 * assert(c.encoding === "windows-1252" && c.warning?.includes("line 17"));
 * assert(chooseEncoding("utf-8", facts, "old.csv").encoding === "utf-8");
 * ```
 */
export function chooseEncoding(
  option: EncodingOption,
  facts: Utf8Facts,
  label: string,
): EncodingChoice {
  const bom = facts.bom;
  if (option === "windows-1252") return { encoding: option, bom, watch: false };
  if (option === "utf-8") return { encoding: option, bom, watch: true };
  if (facts.invalidAt < 0) {
    return { encoding: "utf-8", bom, watch: !facts.complete };
  }
  const where =
    `first invalid byte on line ${facts.invalidLine}, byte offset ${facts.invalidAt}`;
  if (bom) {
    return {
      encoding: "utf-8",
      bom,
      watch: false,
      warning:
        `CSV_IN: ${label} starts with a UTF-8 byte order mark but is not valid UTF-8 (${where}): invalid bytes are read as U+FFFD`,
    };
  }
  return {
    encoding: "windows-1252",
    bom,
    watch: false,
    warning:
      `CSV_IN: ${label} is not valid UTF-8 (${where}): reading it as Windows-1252`,
  };
}

/**
 * Reads the first `maxBytes` (or everything, if less) of a one-shot stream,
 * and gives back those bytes and a stream of the whole input (the same bytes
 * again, then the rest, read only when pulled).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sniffBytes } from "./encoding.ts";
 * const input = new Blob(["year;title\n1999;Matrix\n"]).stream();
 * const { head, eof, stream } = await sniffBytes(input);
 * assert(eof && head.length === 23);
 * assert((await new Response(stream).text()).startsWith("year;"));
 * ```
 */
export async function sniffBytes(
  input: ReadableStream<Uint8Array>,
  maxBytes: number = SNIFF_BYTES,
): Promise<
  { head: Uint8Array; eof: boolean; stream: ReadableStream<Uint8Array> }
> {
  const reader = input.getReader();
  const parts: Uint8Array[] = [];
  let total = 0, eof = false;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        eof = true;
        break;
      }
      parts.push(value);
      total += value.length;
    }
  } catch (e) {
    reader.releaseLock();
    throw e;
  }
  const head = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
  const stream = prepend(head.length > 0 ? [head] : [], reader);
  return { head, eof, stream };
}

/** Options of {@link decodeStream}. */
export interface DecodeOptions {
  /**
   * What to decode as.
   * @default "utf-8"
   */
  encoding?: Encoding;
  /**
   * Remove the first three bytes (a UTF-8 byte order mark the caller saw).
   * @default false
   */
  stripBom?: boolean;
  /**
   * For UTF-8: called once, with the byte offset of the first invalid
   * sequence, if the input turns out not to be valid UTF-8; from there on
   * invalid bytes become U+FFFD. When absent, invalid bytes silently become
   * U+FFFD.
   * @default undefined
   */
  onInvalid?: (byteOffset: number) => void;
}

/** A decoder fed chunk by chunk; see {@link createDecoder}. */
export interface ChunkDecoder {
  /** The text of one more chunk (a character split between chunks is kept for the next). The chunk may be reused once this returns. */
  decode(chunk: Uint8Array): string;
  /** The text left at the end. */
  end(): string;
}

/**
 * A decoder for a text arriving in chunks: UTF-8 (watching for the first
 * invalid byte when asked) or Windows-1252, a leading byte order mark
 * stripped when asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDecoder } from "./encoding.ts";
 * const d = createDecoder({ encoding: "utf-8" });
 * const e = new TextEncoder().encode("é");
 * assert.equal(d.decode(e.subarray(0, 1)) + d.decode(e.subarray(1)) + d.end(), "é");
 * ```
 */
export function createDecoder(options: DecodeOptions = {}): ChunkDecoder {
  const encoding = options.encoding ?? "utf-8";
  const onInvalid = encoding === "utf-8" ? options.onInvalid : undefined;
  let watching = onInvalid !== undefined;
  let decoder = new TextDecoder(encoding, { fatal: watching, ignoreBOM: true });
  let skip = options.stripBom ? 3 : 0;
  let offset = 0; // stream offset of the end of the bytes seen so far
  let recent: Uint8Array = EMPTY; // the last (up to) 3 bytes seen, while watching

  /** The fatal decoder failed on `chunk`: warn, and go on leniently. */
  function fallback(chunk: Uint8Array, start: number): string {
    watching = false;
    const pending = recent.subarray(recent.length - incompleteUtf8Tail(recent));
    const joined = pending.length
      ? Buffer.concat([pending, chunk], pending.length + chunk.length)
      : chunk;
    const at = firstInvalidUtf8(joined);
    onInvalid!(start - pending.length + Math.max(0, at));
    decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    return decoder.decode(joined, { stream: true });
  }

  return {
    decode(chunk) {
      let start = offset;
      offset += chunk.length;
      if (skip > 0) {
        const k = Math.min(skip, chunk.length);
        chunk = chunk.subarray(k);
        skip -= k;
        start += k;
      }
      if (chunk.length === 0) return "";
      if (!watching) return decoder.decode(chunk, { stream: true });
      try {
        const text = decoder.decode(chunk, { stream: true });
        recent = chunk.length >= 3
          ? chunk.slice(chunk.length - 3)
          : Buffer.concat([recent, chunk], recent.length + chunk.length).slice(
            -3,
          );
        return text;
      } catch {
        return fallback(chunk, start);
      }
    },
    end() {
      if (!watching) return decoder.decode();
      try {
        return decoder.decode();
      } catch {
        return fallback(EMPTY, offset) + decoder.decode();
      }
    },
  };
}

/**
 * Decodes a byte stream to text (one string per non-empty chunk; a
 * character split between chunks is handled).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStream } from "./encoding.ts";
 * const bytes = new Blob([new Uint8Array([0x43, 0x61, 0x66, 0xe9])]).stream();
 * const text = bytes.pipeThrough(decodeStream({ encoding: "windows-1252" }));
 * assert(await Array.fromAsync(text).then((t) => t.join("")) === "Café");
 * ```
 */
export function decodeStream(
  options: DecodeOptions = {},
): TransformStream<Uint8Array, string> {
  const decoder = createDecoder(options);
  return new TransformStream<Uint8Array, string>({
    transform(chunk, controller) {
      const text = decoder.decode(chunk);
      if (text) controller.enqueue(text);
    },
    flush(controller) {
      const text = decoder.end();
      if (text) controller.enqueue(text);
    },
  });
}

/**
 * A file's text as a stream, read through one reused buffer (no new buffer
 * per chunk for the garbage collector to find late) and decoded at once;
 * `read()` says how many bytes were read so far.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileText } from "./encoding.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a;b\nc;d\n");
 * const file = await Deno.open(path);
 * const { text, read } = fileText(file, { encoding: "utf-8" }, 4);
 * assert.equal((await Array.fromAsync(text)).join(""), "a;b\nc;d\n");
 * assert.equal(read(), 8);
 * await Deno.remove(path);
 * ```
 */
export function fileText(
  file: Deno.FsFile,
  options: DecodeOptions,
  chunkBytes = 64 * 1024,
): { text: ReadableStream<string>; read: () => number } {
  const decoder = createDecoder(options);
  const buf = new Uint8Array(chunkBytes);
  let read = 0;
  const text = new ReadableStream<string>({
    async pull(controller) {
      for (;;) {
        const n = await file.read(buf);
        if (n === null) {
          const rest = decoder.end();
          if (rest) controller.enqueue(rest);
          return controller.close();
        }
        read += n;
        const chunk = decoder.decode(buf.subarray(0, n));
        if (chunk) return controller.enqueue(chunk);
      }
    },
  }, { highWaterMark: 0 });
  return { text, read: () => read };
}
