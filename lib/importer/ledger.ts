/**
 * The delivery ledger: one file per destination URL recording the key of
 * every row delivered to it (see `identity.ts`). Any run to that URL skips
 * the rows whose key is in it, whatever file they come from.
 *
 * Format: a header line `# parse-and-post ledger v2 {json}` naming the URL,
 * a `# run {json}` line at the start of each run, then one key per line
 * (`<24 hex digits> <occurrence>`).
 *
 * Durability: the header is on disk (fsync) before the first request; each
 * delivery is written within the event-loop turn that saw its answer (one
 * write a turn, however many rows it answered); the file is fsynced about
 * once a second and at the end; a torn last line (a crash mid-write) is cut
 * before appending. One run at a time: the file is locked exclusively, and
 * a second importer is refused with the holder's pid.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import {
  DIGEST,
  keyText,
  parseKeyLine,
  type RowKey,
  RowKeys,
  urlTag,
} from "./identity.ts";

const MAGIC = "# parse-and-post ledger v2 ";
const RUN = "# run ";
const READ_CHUNK = 1 << 20;

/** Options for {@link openLedger}. */
export interface LedgerOptions {
  /** The folder holding the ledgers. @default "ledger" */
  dir?: string;
  /** The destination this ledger is for. */
  url: string;
  /** Load nothing: every row is sent again (the file is kept and appended to). @default false */
  fresh?: boolean;
  /** Read only (a dry run): no lock, no writes, no file created. @default false */
  readOnly?: boolean;
  /** Written into the run line. @default {} */
  run?: Record<string, unknown>;
  /** Remember each body's first line (for `--dedupe`). @default false */
  firstLines?: boolean;
  /** fsync at most this often, ms. @default 1000 */
  syncEveryMs?: number;
  /** Told of the first failed write or fsync (the ledger stops writing). @default undefined */
  onError?: (message: string) => void;
}

/** An open ledger. */
export interface Ledger {
  /** The file. */
  readonly path: string;
  /** Bodies seen and keys delivered earlier (empty with `fresh`). */
  readonly keys: RowKeys;
  /** Keys the file held when opened (also counted with `fresh`). */
  readonly held: number;
  /** Bytes cut from a torn last line when opening. */
  readonly cutBytes: number;
  /** Lines that were not keys (ignored). */
  readonly badLines: number;
  /** The first write error, if any. */
  readonly error: string | null;
  /** Records a delivered row: written before the current event-loop turn ends. */
  record(key: RowKey): void;
  /** Writes what is buffered now and fsyncs (a second Ctrl-C). */
  flushSync(): void;
  /** Flushes, fsyncs, unlocks and closes. */
  close(): void;
}

/** {@link openLedger}'s answer: a ledger, or one line saying why not. */
export type LedgerOpen =
  | { kind: "ok"; ledger: Ledger }
  | { kind: "error"; message: string };

/**
 * The ledger file for a URL inside `dir`: a readable slug of the URL and
 * its tag, e.g. `ledger/localhost_9009_movies-1a2b3c4d.ledger`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ledgerPath } from "./ledger.ts";
 * assert.match(ledgerPath("ledger", "http://localhost:9009/movies"), /^ledger\/localhost_9009_movies-[0-9a-f]{8}\.ledger$/);
 * ```
 */
export function ledgerPath(dir: string, url: string): string {
  const u = new URL(url);
  const slug = `${u.hostname}_${
    u.port || (u.protocol === "https:" ? "443" : "80")
  }${u.pathname}`
    .replace(/[^A-Za-z0-9.-]+/g, "_").replace(/_+$/, "").slice(0, 40);
  return join(dir, `${slug}-${urlTag(url)}.ledger`);
}

/** The header and run lines of a ledger, for a quick look (tests, `--fresh` messages). */
interface Scan {
  url: string | null;
  lastRun: Record<string, unknown> | null;
}

/**
 * Opens (or creates) the ledger for `options.url`, loads its keys, cuts a
 * torn tail, locks it and writes this run's line, all before anything is
 * sent. Never throws for a bad file: the answer says why in one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLedger } from "./ledger.ts";
 * const dir = await Deno.makeTempDir();
 * const url = "http://localhost:9009/movies";
 * const first = await openLedger({ dir, url });
 * assert.ok(first.kind === "ok");
 * first.ledger.record({ d0: 1, d1: 2, d2: 3, k: 0 });
 * first.ledger.close();
 * const again = await openLedger({ dir, url });
 * assert.ok(again.kind === "ok" && again.ledger.held === 1);
 * again.ledger.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openLedger(options: LedgerOptions): Promise<LedgerOpen> {
  const path = ledgerPath(options.dir ?? "ledger", options.url);
  try {
    return options.readOnly
      ? await openReadOnly(path, options)
      : await openForWriting(path, options);
  } catch (error) {
    if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) throw error;
    return { kind: "error", message: `ledger ${path}: ${oneLine(error)}` };
  }
}

async function openReadOnly(
  path: string,
  options: LedgerOptions,
): Promise<LedgerOpen> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const keys = new RowKeys({ firstLines: options.firstLines });
    return { kind: "ok", ledger: readOnlyLedger(path, keys, 0) };
  }
  try {
    const { problem } = await inspect(file, path, options.url);
    if (problem !== null && problem !== "restart") {
      return { kind: "error", message: problem };
    }
    const keys = new RowKeys({ firstLines: options.firstLines });
    const lines = await readLines(file, options.fresh ? null : keys);
    return { kind: "ok", ledger: readOnlyLedger(path, keys, lines.held) };
  } finally {
    file.close();
  }
}

function readOnlyLedger(path: string, keys: RowKeys, held: number): Ledger {
  return {
    path,
    keys,
    held,
    cutBytes: 0,
    badLines: 0,
    error: null,
    record() {},
    flushSync() {},
    close() {},
  };
}

/**
 * Lock, check the header, cut a torn tail, write this run's line (fsynced:
 * from now on a second importer is told this process holds the ledger),
 * then load the keys.
 */
async function openForWriting(
  path: string,
  options: LedgerOptions,
): Promise<LedgerOpen> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let handedOver = false;
  try {
    if (!file.tryLockSync(true)) {
      return { kind: "error", message: await heldMessage(path) };
    }
    const { size, problem } = await inspect(file, path, options.url);
    if (problem !== null && problem !== "restart") {
      return { kind: "error", message: problem };
    }
    const cut = problem === "restart" ? size : await tornTail(file, size);
    if (cut > 0) await file.truncate(size - cut);
    await file.seek(0, Deno.SeekMode.End);
    const head = size - cut === 0
      ? MAGIC +
        JSON.stringify({
          url: new URL(options.url).href,
          digest: DIGEST,
          created: new Date().toISOString(),
        }) + "\n"
      : "";
    writeAll(file, head + RUN + JSON.stringify(options.run ?? {}) + "\n");
    file.syncDataSync();
    const keys = new RowKeys({ firstLines: options.firstLines });
    const { held, badLines } = await readLines(
      file,
      options.fresh ? null : keys,
    );
    await file.seek(0, Deno.SeekMode.End);
    handedOver = true;
    const state = { keys, held, cutBytes: cut, badLines };
    return { kind: "ok", ledger: writingLedger(path, file, state, options) };
  } finally {
    if (!handedOver) file.close();
  }
}

/** The file's size and what its header says of it (see {@link headerProblem}). */
async function inspect(
  file: Deno.FsFile,
  path: string,
  url: string,
): Promise<{ size: number; problem: string | "restart" | null }> {
  const { size } = await file.stat();
  return {
    size,
    problem: headerProblem(await firstLine(file), size, path, url),
  };
}

/** The file's first line (without its newline), or null when it has none whole; and the bytes read. */
async function firstLine(
  file: Deno.FsFile,
): Promise<{ line: string | null; start: string }> {
  const buf = new Uint8Array(4096);
  await file.seek(0, Deno.SeekMode.Start);
  let got = 0;
  for (
    let n = 0;
    got < buf.length && (n = (await file.read(buf.subarray(got))) ?? 0) > 0;
  ) got += n;
  const end = buf.subarray(0, got).indexOf(10);
  const text = new TextDecoder().decode(buf.subarray(0, end < 0 ? got : end));
  return { line: end < 0 ? null : text, start: text };
}

/**
 * Why this file cannot be this URL's ledger (one line), or `"restart"`
 * when it holds only part of a header (a crash while creating it), or null.
 */
function headerProblem(
  first: { line: string | null; start: string },
  size: number,
  path: string,
  url: string,
): string | "restart" | null {
  if (size === 0) return null;
  if (
    first.line === null &&
    (MAGIC.startsWith(first.start) || first.start.startsWith(MAGIC))
  ) {
    return "restart";
  }
  const header = headerOf(first.line ?? first.start);
  const move = "move it away or use another --ledger-dir";
  if (header === null) {
    return `${path} is not a parse-and-post ledger (its first line is not the ledger header): ${move}`;
  }
  if (new URL(header.url).href !== new URL(url).href) {
    return `${path} is the ledger of ${header.url}, not of ${url}: ${move}`;
  }
  if (header.digest !== DIGEST) {
    return `${path} records rows by ${header.digest} digests, this version by ${DIGEST}: its rows cannot be recognised; ${move} (then rows it holds are sent again), or use the version that wrote it`;
  }
  return null;
}

/** Bytes after the last newline (a torn last line), read backwards from the end. */
async function tornTail(file: Deno.FsFile, size: number): Promise<number> {
  const buf = new Uint8Array(64 * 1024);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - buf.length);
    await file.seek(start, Deno.SeekMode.Start);
    let got = 0;
    while (got < end - start) {
      got += (await file.read(buf.subarray(got, end - start))) ?? end - start;
    }
    const nl = buf.subarray(0, end - start).lastIndexOf(10);
    if (nl >= 0) return size - (start + nl + 1);
    end = start;
  }
  return size;
}

/** Counts the key lines (after the header) and puts them into `keys` (unless null). */
async function readLines(
  file: Deno.FsFile,
  keys: RowKeys | null,
): Promise<{ held: number; badLines: number }> {
  const key: RowKey = { d0: 0, d1: 0, d2: 0, k: 0 };
  const found = { held: 0, badLines: 0 };
  let lineNo = 0;
  let carry = new Uint8Array(0);
  const buf = new Uint8Array(READ_CHUNK);
  await file.seek(0, Deno.SeekMode.Start);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    const read = buf.subarray(0, n);
    const bytes = carry.length === 0 ? read : Buffer.concat([carry, read]);
    let start = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
      if (++lineNo > 1) {
        if (parseKeyLine(bytes, start, i, key)) {
          found.held++;
          keys?.markDelivered(key);
        } else if (bytes[start] !== 35 /* # */) found.badLines++;
      }
      start = i + 1;
    }
    carry = bytes.slice(start);
  }
  return found;
}

/** The URL and digest a header line names, or null. */
function headerOf(line: string): { url: string; digest: string } | null {
  if (!line.startsWith(MAGIC)) return null;
  try {
    const { url, digest } = JSON.parse(line.slice(MAGIC.length));
    return typeof url === "string" ? { url, digest: String(digest) } : null;
  } catch {
    return null;
  }
}

/** Who holds a locked ledger, from its last run line. */
async function heldMessage(path: string): Promise<string> {
  const last = (await scanRuns(path)).lastRun;
  const who = last === null
    ? "another process"
    : `process ${last.pid ?? "?"}${
      last.started ? `, started ${last.started}` : ""
    }${last.input ? `, importing ${last.input}` : ""}`;
  return `ledger ${path} is in use by another import (${who}): wait for it to end or stop it; one import at a time per destination`;
}

/** The URL and last run line of a ledger file (read without locking). */
export async function scanRuns(path: string): Promise<Scan> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const lines = text.split("\n");
  const runLine = lines.findLast((l) => l.startsWith(RUN));
  let lastRun: Record<string, unknown> | null = null;
  try {
    lastRun = runLine ? JSON.parse(runLine.slice(RUN.length)) : null;
  } catch { /* a torn run line: unknown holder */ }
  return { url: headerOf(lines[0] ?? "")?.url ?? null, lastRun };
}

const encoder = new TextEncoder();

/** One reused buffer for the writes (key lines are ASCII: 1 byte a char). */
let scratch = new Uint8Array(64 * 1024);

function writeAll(file: Deno.FsFile, text: string): void {
  if (text.length * 3 > scratch.length) {
    scratch = new Uint8Array(text.length * 3);
  }
  const { written: size } = encoder.encodeInto(text, scratch);
  let written = 0;
  while (written < size) {
    written += file.writeSync(scratch.subarray(written, size));
  }
}

function writingLedger(
  path: string,
  file: Deno.FsFile,
  state: { keys: RowKeys; held: number; cutBytes: number; badLines: number },
  options: LedgerOptions,
): Ledger {
  let buffer = "";
  let scheduled = false;
  let dirty = false;
  let error: string | null = null;
  let closed = false;
  const fail = (what: string, e: unknown) => {
    if (error !== null) return;
    error = `cannot write the ledger ${path}: ${what}: ${oneLine(e)}`;
    options.onError?.(error);
  };
  const flush = () => {
    scheduled = false;
    if (buffer === "" || error !== null) return;
    const text = buffer;
    buffer = "";
    try {
      writeAll(file, text);
      dirty = true;
    } catch (e) {
      fail("write", e);
    }
  };
  const sync = () => {
    if (!dirty || error !== null || closed) return;
    dirty = false;
    file.syncData().catch((e) => fail("fsync", e));
  };
  const timer = setInterval(sync, options.syncEveryMs ?? 1000);
  Deno.unrefTimer(timer);
  return {
    path,
    ...state,
    get error() {
      return error;
    },
    record(key) {
      if (closed || error !== null) return; // nothing can be recorded any more
      buffer += keyText(key) + "\n";
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    flushSync() {
      flush();
      try {
        if (error === null) file.syncDataSync();
      } catch (e) {
        fail("fsync", e);
      }
    },
    close() {
      if (closed) return;
      clearInterval(timer);
      this.flushSync();
      closed = true;
      try {
        file.unlockSync();
      } catch { /* closing releases it anyway */ }
      file.close();
    },
  };
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}
