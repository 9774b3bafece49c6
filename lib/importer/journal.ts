/**
 * The resume journal: which lines of which input have been delivered to
 * which URL. A run that is stopped (Ctrl-C, STOP_ON_ERRORS, a crash) and
 * started again with the same input and URL skips those lines, so no row is
 * sent twice. Rows that were rejected or failed are not journaled: a rerun
 * tries them again.
 *
 * Format: a first line `# parse-and-post journal v1 {identity as JSON}`,
 * then one delivered line number per line. A torn last line (a crash in the
 * middle of a write) is ignored.
 *
 * @module
 */

/** What a journal belongs to. */
export interface JournalIdentity {
  /** The input's absolute path. */
  input: string;
  /** The input's size in bytes. */
  size: number;
  /** The input's modification time, ms since the epoch (0 if unknown). */
  mtimeMs: number;
  /** Where rows are POSTed. */
  url: string;
}

/** How an existing journal file relates to this run. */
export type JournalStart =
  | { kind: "new" }
  | { kind: "fresh"; previous: number }
  | { kind: "resumed"; delivered: number }
  | { kind: "other_import"; previous: JournalIdentity };

/** An open journal. */
export interface Journal {
  /** How this run started with respect to the file found. */
  readonly start: JournalStart;
  /** Whether the row starting at this line was delivered by an earlier run. */
  has(line: number): boolean;
  /** Records a delivered row. */
  record(line: number): void;
  /** Writes what is buffered. */
  flush(): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/** The journal belongs to another version of the same input. */
export class JournalMismatchError extends Error {}

const MAGIC = "# parse-and-post journal v1 ";

/**
 * A set of line numbers as a growable bitmap: a million lines take 125 kB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSet } from "./journal.ts";
 * const s = new LineSet();
 * s.add(1_000_000);
 * assert.ok(s.has(1_000_000) && !s.has(999_999) && s.size === 1);
 * ```
 */
export class LineSet {
  #bits = new Uint8Array(1024);
  /** How many distinct lines are in the set. */
  size = 0;

  /** Adds a line number. */
  add(line: number): void {
    const byte = line >>> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (line & 7);
    if ((this.#bits[byte] & mask) === 0) {
      this.#bits[byte] |= mask;
      this.size++;
    }
  }

  /** Whether a line number is in the set. */
  has(line: number): boolean {
    const byte = line >>> 3;
    return byte < this.#bits.length &&
      (this.#bits[byte] & (1 << (line & 7))) !== 0;
  }
}

/**
 * Reads a journal's text: its identity and delivered lines; `null` if the
 * text is not a journal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJournal } from "./journal.ts";
 * const text = '# parse-and-post journal v1 {"input":"/a.csv","size":1,"mtimeMs":0,"url":"http://x/m"}\n2\n5\n';
 * const parsed = parseJournal(text);
 * assert.ok(parsed !== null && parsed.lines.has(5) && parsed.lines.size === 2);
 * ```
 */
export function parseJournal(
  text: string,
): { identity: JournalIdentity; lines: LineSet } | null {
  if (!text.startsWith(MAGIC)) return null;
  const end = text.indexOf("\n");
  let identity: JournalIdentity;
  try {
    identity = JSON.parse(text.slice(MAGIC.length, end < 0 ? undefined : end));
  } catch {
    return null;
  }
  const lines = new LineSet();
  if (end >= 0) {
    // One pass over the characters, no string per line; only complete lines
    // count (the last one may be torn by a crash).
    let value = 0;
    let digits = 0;
    let clean = true;
    for (let i = end + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        if (digits > 0 && clean) lines.add(value);
        value = 0;
        digits = 0;
        clean = true;
      } else if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        digits++;
      } else {
        clean = false;
      }
    }
  }
  return { identity, lines };
}

/** Options for {@link openJournal}. */
export interface JournalOptions {
  /** Ignore what the file holds and start over. @default false */
  fresh?: boolean;
}

/**
 * Opens the journal at `path` for this import:
 * - no file (or not a journal) → a new one;
 * - `fresh` → a new one, whatever was there;
 * - same input, same version (size and time) and same URL → resumed;
 * - another input or URL → a new one (that import's journal is replaced);
 * - same input and URL but the file changed since → {@link JournalMismatchError}
 *   (line numbers would no longer mean the same rows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openJournal } from "./journal.ts";
 * const path = await Deno.makeTempFile();
 * const id = { input: "/data/a.csv", size: 10, mtimeMs: 1, url: "http://x/m" };
 * const first = await openJournal(path, id);
 * first.record(7);
 * await first.close();
 * const second = await openJournal(path, id);
 * assert.ok(second.start.kind === "resumed" && second.has(7));
 * await second.close();
 * ```
 */
export async function openJournal(
  path: string,
  identity: JournalIdentity,
  options: JournalOptions = {},
): Promise<Journal> {
  let text: string | null = null;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const previous = text === null ? null : parseJournal(text);
  let start: JournalStart = { kind: "new" };
  let done = new LineSet();
  if (previous !== null) {
    const p = previous.identity;
    const sameImport = p.input === identity.input && p.url === identity.url;
    if (options.fresh) {
      start = { kind: "fresh", previous: previous.lines.size };
    } else if (!sameImport) {
      start = { kind: "other_import", previous: p };
    } else if (p.size !== identity.size || p.mtimeMs !== identity.mtimeMs) {
      throw new JournalMismatchError(
        `journal ${path} was written for an earlier version of ${identity.input} (the file changed since): use --fresh to start over, or --journal to keep both`,
      );
    } else {
      start = { kind: "resumed", delivered: previous.lines.size };
      done = previous.lines;
    }
  }
  const resuming = start.kind === "resumed";
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: !resuming,
    append: resuming,
  });
  const encoder = new TextEncoder();
  let buffer: string[] = resuming
    ? []
    : [MAGIC + JSON.stringify(identity) + "\n"];
  let pending: Promise<void> = Promise.resolve();
  let closed = false;
  const write = async () => {
    if (buffer.length === 0) return;
    const bytes = encoder.encode(buffer.join(""));
    buffer = [];
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
  };
  const flush = () => pending = pending.then(write);
  return {
    start,
    has: (line) => done.has(line),
    record(line) {
      buffer.push(line + "\n");
      if (buffer.length >= 4096) flush();
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      await flush();
      file.close();
    },
  };
}
