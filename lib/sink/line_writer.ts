/**
 * A buffered writer of text lines, so that logging a line per request (or
 * appending a stored movie to a file) costs a string push, not a system
 * call: lines are joined and written at most every `flushMs`, or as soon
 * as `maxChars` are waiting.
 *
 * @module
 */

/**
 * Where the bytes go: `Deno.stdout`, a `Deno.FsFile`, ...
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SyncWritable } from "./line_writer.ts";
 * const devNull: SyncWritable = { writeSync: (p) => p.length };
 * assert.ok(devNull.writeSync(new Uint8Array(3)) === 3);
 * ```
 */
export interface SyncWritable {
  /** Writes some of `p`, returning how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

/**
 * A writer of lines; each line gets a `\n`.
 *
 * @example
 * ```ts
 * import { createLineWriter, type LineWriter } from "./line_writer.ts";
 * const writer: LineWriter = createLineWriter({ writeSync: (p) => p.length });
 * writer.write("hello");
 * writer.close();
 * ```
 */
export interface LineWriter {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes everything queued now. */
  flush(): void;
  /** Flushes and stops the timer; the target is left open. */
  close(): void;
}

/**
 * Tuning of {@link createLineWriter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LineWriterOptions } from "./line_writer.ts";
 * const eager: LineWriterOptions = { maxChars: 1, flushMs: 0 };
 * assert.ok(eager.maxChars === 1);
 * ```
 */
export interface LineWriterOptions {
  /**
   * Flush once this many characters are queued.
   * @default 65536
   */
  maxChars?: number;
  /**
   * Flush queued lines after at most this many ms.
   * @default 50
   */
  flushMs?: number;
}

const encoder = new TextEncoder();

/** Writes all of `bytes`, looping over short writes. */
function writeAll(target: SyncWritable, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    offset += target.writeSync(bytes.subarray(offset));
  }
}

/**
 * Creates a buffered line writer on a synchronous target.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLineWriter } from "./line_writer.ts";
 * const chunks: Uint8Array[] = [];
 * const w = createLineWriter({ writeSync: (p) => (chunks.push(p.slice()), p.length) });
 * w.write("a");
 * w.write("b");
 * w.close();
 * assert.ok(new TextDecoder().decode(chunks[0]) === "a\nb\n");
 * ```
 */
export function createLineWriter(
  target: SyncWritable,
  options: LineWriterOptions = {},
): LineWriter {
  const maxChars = options.maxChars ?? 65536;
  const flushMs = options.flushMs ?? 50;
  let lines: string[] = [];
  let chars = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let broken = false;

  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (lines.length === 0) return;
    const text = lines.join("\n") + "\n";
    lines = [];
    chars = 0;
    if (broken) return;
    try {
      writeAll(target, encoder.encode(text));
    } catch {
      // A closed pipe or a full disk must not fail the requests (nor crash
      // the process from the timer): from now on lines are dropped.
      broken = true;
    }
  };

  return {
    write(line) {
      lines.push(line);
      chars += line.length + 1;
      if (closed || chars >= maxChars) flush();
      else if (timer === undefined) timer = setTimeout(flush, flushMs);
    },
    flush,
    close() {
      closed = true;
      flush();
    },
  };
}
