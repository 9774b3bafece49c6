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
/** Bytes a key line takes, about (for sizing the table before loading). */
const LINE_BYTES = 27;
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
    .replace(/[^A-Za-z0-9.-]+/g, "_").replace(/_+$/, "").slice(0, 60);
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
    const loaded = await load(file, path, options);
    if (loaded.kind === "error") return loaded;
    return {
      kind: "ok",
      ledger: readOnlyLedger(path, loaded.keys, loaded.held),
    };
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

async function openForWriting(
  path: string,
  options: LedgerOptions,
): Promise<LedgerOpen> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, {
    read: true,
    write: true,
    create: true,
  });
  let handedOver = false;
  try {
    if (!file.tryLockSync(true)) {
      return { kind: "error", message: await heldMessage(path) };
    }
    const loaded = await load(file, path, options);
    if (loaded.kind === "error") return loaded;
    const { keys, held, size, cut, badLines } = loaded;
    if (cut > 0) await file.truncate(size - cut);
    await file.seek(0, Deno.SeekMode.End);
    const head = size - cut === 0
      ? MAGIC +
        JSON.stringify({
          url: options.url,
          digest: DIGEST,
          created: new Date().toISOString(),
        }) + "\n"
      : "";
    writeAll(file, head + RUN + JSON.stringify(options.run ?? {}) + "\n");
    file.syncDataSync();
    handedOver = true;
    return {
      kind: "ok",
      ledger: writingLedger(
        path,
        file,
        { keys, held, cutBytes: cut, badLines },
        options,
      ),
    };
  } finally {
    if (!handedOver) file.close();
  }
}

interface Loaded {
  kind: "loaded";
  keys: RowKeys;
  held: number;
  size: number;
  cut: number;
  badLines: number;
}

/** Reads the whole file: header check, keys into the table, torn tail measured. */
async function load(
  file: Deno.FsFile,
  path: string,
  options: LedgerOptions,
): Promise<Loaded | { kind: "error"; message: string }> {
  const { size } = await file.stat();
  const keys = new RowKeys({
    capacity: options.fresh ? 1024 : size / LINE_BYTES / 0.875,
    firstLines: options.firstLines,
  });
  const lines = await readLines(file, options.fresh ? null : keys);
  const wrong = headerProblem(lines, path, options.url);
  if (wrong !== null) return { kind: "error", message: wrong };
  // A torn tail (no newline at the end) is cut, back to the last whole
  // line; a file without one whole line (a crash while creating it) is
  // started again.
  const cut = size - lines.wholeBytes;
  return {
    kind: "loaded",
    keys,
    held: lines.held,
    size,
    cut,
    badLines: lines.badLines,
  };
}

/** What {@link readLines} found. */
interface Lines {
  /** The first line, or a torn first line that is not a header's start. */
  header: string | null;
  held: number;
  badLines: number;
  /** Bytes up to the end of the last whole line. */
  wholeBytes: number;
}

/** Streams the file in chunks; key lines go into `keys` (unless null). */
async function readLines(
  file: Deno.FsFile,
  keys: RowKeys | null,
): Promise<Lines> {
  const key: RowKey = { d0: 0, d1: 0, d2: 0, k: 0 };
  const found: Lines = { header: null, held: 0, badLines: 0, wholeBytes: 0 };
  let lineNo = 0;
  let carry = new Uint8Array(0);
  const buf = new Uint8Array(READ_CHUNK);
  await file.seek(0, Deno.SeekMode.Start);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    const bytes = concat(carry, buf.subarray(0, n));
    let start = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
      if (++lineNo === 1) {
        found.header = new TextDecoder().decode(bytes.subarray(start, i));
      } else if (parseKeyLine(bytes, start, i, key)) {
        found.held++;
        keys?.markDelivered(key);
      } else if (bytes[start] !== 35 /* # */) found.badLines++;
      start = i + 1;
    }
    found.wholeBytes += start;
    carry = bytes.slice(start);
  }
  const torn = new TextDecoder().decode(carry);
  if (lineNo === 0 && !MAGIC.startsWith(torn) && !torn.startsWith(MAGIC)) {
    found.header = torn;
  }
  return found;
}

/** Why this file cannot be this URL's ledger, or null. */
function headerProblem(lines: Lines, path: string, url: string): string | null {
  if (lines.header === null) return null;
  const named = headerUrl(lines.header);
  if (named === null) {
    return `${path} is not a parse-and-post ledger (its first line is not the ledger header): move it away or use another --ledger-dir`;
  }
  if (named !== url) {
    return `${path} is the ledger of ${named}, not of ${url}: move it away or use another --ledger-dir`;
  }
  return null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The URL named by a header line, or null. */
function headerUrl(line: string): string | null {
  if (!line.startsWith(MAGIC)) return null;
  try {
    const url = JSON.parse(line.slice(MAGIC.length)).url;
    return typeof url === "string" ? url : null;
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
  return { url: headerUrl(lines[0] ?? ""), lastRun };
}

const encoder = new TextEncoder();

function writeAll(file: Deno.FsFile, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += file.writeSync(bytes.subarray(written));
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
