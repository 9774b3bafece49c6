/**
 * Helpers of the fault-matrix tests (`tests/faults_*_test.ts`): the
 * importer as a real subprocess against the local service started in this
 * process, generated data, and the accounting that says whether a row was
 * lost or stored twice.
 *
 * "Expected" is the multiset of bodies a dry run sends, as the service
 * stores them (Go reads `null` as the zero value); "stored" is what the
 * service kept. A body stored fewer times than expected is *lost*, more
 * times a *duplicate*.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import type { DefectRates } from "../lib/gen/generate.ts";
import type { Report } from "../lib/importer/report.ts";
import { runImport } from "../lib/importer/run.ts";
import { createLogger } from "../lib/importer/log.ts";
import { type Sink, type SinkOptions, startSink } from "../lib/sink/server.ts";
import { importerArgs, type Output, ROOT } from "./_subprocess.ts";

export { ROOT };
export type { Output };

export { fill, freeBytes, type SmallDisk, smallDisk } from "./_disk.ts";

const decoder = new TextDecoder();

/**
 * A fresh temporary folder for one case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caseDir } from "./_faults.ts";
 * const dir = await caseDir();
 * assert.ok((await Deno.stat(dir)).isDirectory);
 * await Deno.remove(dir);
 * ```
 */
export function caseDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "pp-faults-" });
}

/** Options for {@link writeExport}. */
export interface ExportOptions {
  /** Lines after the header. @default 3000 */
  rows?: number;
  /** The generator's seed. @default 5 */
  seed?: number;
  /** Defect rates over the measured ones. @default {} */
  defects?: Partial<DefectRates>;
}

/**
 * Writes a generated export like backup.csv (defects, blank lines, about
 * four copies of each movie) to `path` and returns its bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caseDir, writeExport } from "./_faults.ts";
 * const dir = await caseDir();
 * const bytes = await writeExport(`${dir}/m.csv`, { rows: 20 });
 * assert.equal((await Deno.readFile(`${dir}/m.csv`)).length, bytes.length);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeExport(
  path: string,
  options: ExportOptions = {},
): Promise<Uint8Array> {
  const { bytes } = generateCsvBytes({
    rows: options.rows ?? 3000,
    seed: options.seed ?? 5,
    coverAll: true,
    defects: options.defects ?? {},
  });
  await Deno.writeFile(path, bytes);
  return bytes;
}

/**
 * A generated export `movies.csv` in `dir`, and the bodies its first dry
 * run would send, as the service stores them (what every case counts
 * against).
 */
export async function exportIn(
  dir: string,
  options: ExportOptions = {},
): Promise<{ csv: string; expected: string[] }> {
  const csv = `${dir}/movies.csv`;
  await writeExport(csv, options);
  return { csv, expected: await dryRunBodies(csv) };
}

/**
 * A body as the service stores it: Go reads `null` as the zero value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asStored } from "./_faults.ts";
 * assert.equal(asStored('{"title":"x","length":null}'), '{"title":"x","length":0}');
 * ```
 */
export function asStored(body: string): string {
  return JSON.stringify(
    JSON.parse(body),
    (_key, value) => value === null ? 0 : value,
  );
}

/**
 * The bodies a dry run of `csv` sends (every valid row, copies included),
 * as stored. The dry run is the importer's own, run in this process with
 * its outputs in a temporary folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dryRunBodies, ROOT } from "./_faults.ts";
 * const bodies = await dryRunBodies(`${ROOT}/data/sample.csv`);
 * assert.equal(bodies.length, 247);
 * ```
 */
export async function dryRunBodies(csv: string): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "pp-faults-dry-" });
  let out = "";
  try {
    const result = await runImport({
      csvIn: csv,
      urlOut: "http://127.0.0.1:9/movies",
      dryRun: true,
      rejectsPath: `${dir}/rejects.csv`,
      reportPath: `${dir}/report.json`,
      ledgerDir: `${dir}/ledger`,
      logRows: false,
    }, {
      log: createLogger({ write: () => {} }),
      stdout: (text) => {
        out += text;
        return Promise.resolve();
      },
      summary: () => {},
    });
    assert.equal(result.exitCode, 0, `dry run of ${csv}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out.trimEnd().split("\n").filter((l) => l !== "").map(asStored);
}

/**
 * Each valid row's body (as stored) by its line number: the importer's own
 * pipeline run in this process with a service stub answering 201.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodiesByLine, ROOT } from "./_faults.ts";
 * const lines = await bodiesByLine(`${ROOT}/data/sample.csv`);
 * assert.equal(lines.size, 247);
 * assert.equal(typeof lines.get(2), "string");
 * ```
 */
export async function bodiesByLine(csv: string): Promise<Map<number, string>> {
  const dir = await Deno.makeTempDir({ prefix: "pp-faults-lines-" });
  const lines = new Map<number, string>();
  try {
    const result = await runImport({
      csvIn: csv,
      urlOut: "http://127.0.0.1:9/movies",
      rejectsPath: `${dir}/rejects.csv`,
      reportPath: `${dir}/report.json`,
      ledgerDir: `${dir}/ledger`,
      logRows: false,
    }, {
      log: createLogger({ write: () => {} }),
      send: (job, done) => {
        lines.set(job.line, asStored(job.body));
        queueMicrotask(() =>
          done({ kind: "response", status: 201, body: "", retryAfter: null })
        );
        return () => {};
      },
      summary: () => {},
    });
    assert.equal(result.exitCode, 0, `recording run of ${csv}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

/** How many times each body occurs. */
export function multiset(bodies: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of bodies) counts.set(b, (counts.get(b) ?? 0) + 1);
  return counts;
}

/** What the service stored, against what it should hold. */
export interface Accounting {
  /** Bodies stored as often as expected or more, counted once per expected copy. */
  stored: number;
  /** Expected copies never stored. */
  lost: number;
  /** Copies stored beyond the expected number (bodies not expected at all included). */
  duplicates: number;
}

/**
 * Compares the stored bodies with the expected multiset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { account } from "./_faults.ts";
 * assert.deepEqual(
 *   account(["a", "a", "b", "b", "b"], ["a", "a", "a", "b"]),
 *   { stored: 3, lost: 1, duplicates: 2 },
 * );
 * ```
 */
export function account(
  stored: Iterable<string>,
  expected: Iterable<string> | Map<string, number>,
): Accounting {
  const want = expected instanceof Map ? expected : multiset(expected);
  const have = multiset(stored);
  let ok = 0, lost = 0, duplicates = 0;
  for (const [body, n] of want) {
    const got = have.get(body) ?? 0;
    ok += Math.min(n, got);
    lost += Math.max(0, n - got);
  }
  for (const [body, got] of have) {
    duplicates += Math.max(0, got - (want.get(body) ?? 0));
  }
  return { stored: ok, lost, duplicates };
}

/**
 * The movies the service kept, as JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedBodies } from "./_faults.ts";
 * import { startSink } from "../lib/sink/server.ts";
 * const sink = startSink({ port: 0, failRate: 0, log: false, store: true });
 * assert.deepEqual(storedBodies(sink), []);
 * await sink.close();
 * ```
 */
export function storedBodies(...sinks: Sink[]): string[] {
  return sinks.flatMap((s) => s.accepted().map((m) => JSON.stringify(m)));
}

/**
 * Starts a plain storing service on the port of one just closed (as after a
 * restart), retrying while the port is still being freed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { restartSink } from "./_faults.ts";
 * import { startSink } from "../lib/sink/server.ts";
 * const first = startSink({ port: 0, log: false });
 * await first.close();
 * const again = await restartSink(first.port);
 * assert.equal(again.port, first.port);
 * await again.close();
 * ```
 */
export async function restartSink(
  port: number,
  options: SinkOptions = {},
): Promise<Sink> {
  for (let i = 0;; i++) {
    try {
      return startSink({
        port,
        failRate: 0,
        log: false,
        store: true,
        ...options,
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || i > 50) throw error;
      await sleep(20);
    }
  }
}

/** Extra settings of {@link importer}. */
export interface ImporterOptions {
  /** More paths the importer may write. @default [] */
  allowWrite?: string[];
  /** Run with `--allow-all` (Deno asks for it to write a device such as `/dev/full`). @default false */
  allowAll?: boolean;
  /** Environment variables. @default {} */
  env?: Record<string, string>;
}

/**
 * `deno run` arguments of the importer for a case folder and a port: its
 * rejects, report and ledger in `dir` unless `extra` says otherwise (the
 * last flag wins), progress off.
 */
export function args(
  dir: string,
  port: number | null,
  extra: string[],
  options: ImporterOptions = {},
): string[] {
  const list = importerArgs(dir, port, extra);
  if (options.allowAll) {
    return [
      "run",
      "--allow-all",
      ...list.filter((a) => !/^--allow-|^run$/.test(a)),
    ];
  }
  const more = options.allowWrite ?? [];
  if (more.length === 0) return list;
  return list.map((a) =>
    a === `--allow-write=${dir}` ? `--allow-write=${[dir, ...more]}` : a
  );
}

/** A running importer. */
export interface Running {
  /** Its process id. */
  pid: number;
  /** Sends it a signal. */
  kill(signal: Deno.Signal): void;
  /** Its output once it has exited. */
  done: Promise<Output>;
}

/**
 * Starts the importer as a subprocess (see {@link args}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caseDir, importer } from "./_faults.ts";
 * const dir = await caseDir();
 * const out = await importer(dir, null, ["--concurrency", "lots"]).done;
 * assert.equal(out.code, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function importer(
  dir: string,
  port: number | null,
  extra: string[],
  options: ImporterOptions = {},
): Running {
  const child = new Deno.Command("deno", {
    args: args(dir, port, extra, options),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = child.output().then((r) => ({
    code: r.code,
    stdout: decoder.decode(r.stdout),
    stderr: decoder.decode(r.stderr),
  }));
  return {
    pid: child.pid,
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch { /* it has exited */ }
    },
    done,
  };
}

/** Reads a run's JSON report (`report.json` in `dir` unless a path is given). */
export async function readReport(
  dir: string,
  path = `${dir}/report.json`,
): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(path));
}

/**
 * Polls `condition` every `everyMs` until it holds; fails naming `what`
 * after `timeoutMs` (a bound against hanging, not a timed assertion).
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 20_000,
  everyMs = 5,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The one ledger file in `dir` (the `--ledger-dir`). */
export async function ledgerFile(dir: string): Promise<string> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".ledger")) files.push(`${dir}/${e.name}`);
  }
  assert.equal(files.length, 1, `one ledger in ${dir}: ${files}`);
  return files[0];
}

const KEY_LINE = /^[0-9a-f]{24} \d+$/;

/**
 * The key lines of a ledger's text, and whether the whole text is
 * well-formed: a header, then only key lines and `# run` lines, each ended
 * by a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ledgerShape } from "./_faults.ts";
 * const text = '# parse-and-post ledger v2 {}\n# run {}\n00000001abcdef01ffffffff 0\n';
 * assert.deepEqual(ledgerShape(text), { keys: 1, wellFormed: true, bad: [] });
 * assert.equal(ledgerShape(text + "00000001ab").wellFormed, false);
 * ```
 */
export function ledgerShape(
  text: string,
): { keys: number; wellFormed: boolean; bad: string[] } {
  const lines = text.split("\n");
  const tail = lines.pop();
  const bad: string[] = [];
  let keys = 0;
  lines.forEach((line, i) => {
    if (KEY_LINE.test(line)) keys++;
    else if (i === 0 && line.startsWith("# parse-and-post ledger v2 ")) return;
    else if (i > 0 && line.startsWith("# run {")) return;
    else bad.push(line);
  });
  if (tail !== "") bad.push(`(no newline) ${tail}`);
  return { keys, wellFormed: bad.length === 0, bad };
}

/** The key lines now in the ledger file of `ledgerDir` (0 when there is none). */
export async function ledgerKeys(ledgerDir: string): Promise<number> {
  try {
    return ledgerShape(await Deno.readTextFile(await ledgerFile(ledgerDir)))
      .keys;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/**
 * Lines of stderr that are log lines at ERROR or CRITICAL (text format).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorLines } from "./_faults.ts";
 * assert.deepEqual(errorLines("2026-01-01T00:00:00Z INFO a\n2026-01-01T00:00:00Z ERROR b\n"), ["2026-01-01T00:00:00Z ERROR b"]);
 * ```
 */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^\S+ (ERROR|CRITICAL) /.test(l));
}

/** Fails when stderr shows an uncaught error or a stack trace. */
export function assertNoCrash(stderr: string): void {
  assert.doesNotMatch(stderr, /Uncaught|\n\s+at /, `no crash:\n${stderr}`);
}
