/**
 * `deno task bench`: the end-to-end benchmark (issue 5). Against the local
 * service on loopback, run as its own process, at each 503 rate, it
 * measures interleaved in the same run:
 *
 * - the **importer** end to end (`main.ts` as a subprocess with the
 *   `import` task's exact `deno run` flags from deno.json, only the port of
 *   `--allow-net` changed to the service's), with its peak RSS from the OS;
 * - the **ceiling** (`bench/ceiling.ts`, its own subprocess): the same
 *   HTTP client (`Poster`) at the same concurrency, POSTing pre-built
 *   bodies of the same file's valid rows, retrying transient answers;
 * - the service alone under `wrk`, to say whether it is the bottleneck;
 * - `deno bench bench/pipeline_bench.ts` (parse + validate + serialise).
 *
 * ```sh
 * deno task bench                      # the whole default run (~10 min)
 * deno task bench --quick              # smoke test, a few seconds
 * deno task bench --concurrency 8,16 --rates 0.2 --rows-large 200000
 * ```
 *
 * Options: `--rows-small N` (100000), `--rows-large N` (1000000),
 * `--concurrency 1,4,8,16,32,64`, `--rates 0,0.2`, `--seed N` (42, the
 * generator's), `--sink-seed N` (1), `--large-concurrency N` (default: the
 * one chosen from the curve), `--cap-seconds S` (25: longest curve run;
 * a longer importer run is interrupted with SIGINT and measured up to
 * there), `--ceiling-cap-seconds S` (30, the large ceiling), `--wrk-seconds
 * S` (2), `--no-wrk`, `--no-pipeline`, `--cpu-prof` (profile the importer
 * and ceiling runs of the large file), `--quick`, `--out DIR` (out/bench;
 * inside the repository, as the importer may only read and write there).
 *
 * Writes `DIR/results-<timestamp>.json` and `DIR/latest.json`
 * ({@link BenchResults}) and prints a table. Exits 1 when a cross-check
 * failed (service 201s ≠ rows delivered, a 400, an incomplete run).
 *
 * @module
 */

import type { CeilingResult } from "./ceiling.ts";
import { type ProfileEntry, summariseProfileDir } from "./_cpuprofile.ts";
import { type LoadToolResult, onPath, runWrk } from "./_load_tool.ts";
import { type Measured, runMeasured, runPlain } from "./_process.ts";
import { type SinkProcess, startSinkProcess } from "./_sink.ts";

/** The repository root. */
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();

/** The benchmark's settings. */
export interface BenchOptions {
  /** Rows of the curve's file. */
  rowsSmall: number;
  /** Rows of the memory/throughput file. */
  rowsLarge: number;
  /** The concurrency curve. */
  concurrency: number[];
  /** Shares of POSTs the service answers 503. */
  rates: number[];
  /** The generator's seed. */
  seed: number;
  /** The service's seed. */
  sinkSeed: number;
  /** Concurrency of the large runs; null: the chosen default. */
  largeConcurrency: number | null;
  /** Longest curve run (importer or ceiling), s. */
  capSeconds: number;
  /** Longest large ceiling run, s. */
  ceilingCapSeconds: number;
  /** Duration of each wrk run, s; 0 skips wrk. */
  wrkSeconds: number;
  /** Run the pipeline bench. */
  pipeline: boolean;
  /** Profile the large runs. */
  cpuProf: boolean;
  /** The smoke-test sizes. */
  quick: boolean;
  /** Where files and results go (absolute). */
  out: string;
}

/** The importer's figures for one run. */
export interface ImporterFigures {
  exitCode: number;
  /** Interrupted at the time cap (figures cover the part that ran). */
  capped: boolean;
  /** From the importer's report, ms. */
  elapsedMs: number;
  /** Spawn to exit (Deno start-up included), ms. */
  wallMs: number;
  rowsRead: number;
  valid: number;
  delivered: number;
  requests: number;
  retries: number;
  refused: number;
  failed: number;
  notReached: number;
  /** Valid rows delivered per second. */
  deliveredPerSecond: number;
  /** Rows read per second. */
  readPerSecond: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Peak RSS, KiB, from the OS. */
  peakRssKb: number;
  /** Peak RSS, MB (10^6 bytes). */
  peakRssMB: number;
  rssSource: Measured["rssSource"];
  /** User + system CPU, s. */
  cpuS: number;
  /** CPU ÷ wall, % of one core. */
  cpuPct: number;
  /** The command run (relative paths, from the repository root). */
  command: string;
  /** The profile's top self-time entries (with `--cpu-prof`). */
  profile?: ProfileEntry[];
}

/** The ceiling's figures for one run. */
export interface CeilingFigures extends CeilingResult {
  exitCode: number;
  wallMs: number;
  cpuS: number;
  /** CPU ÷ timed part, % of one core. */
  cpuPct: number;
  peakRssKb: number;
  command: string;
  profile?: ProfileEntry[];
}

/** What the service counted during one measured run. */
export interface ServiceFigures {
  /** POST answers by status. */
  post: Record<string, number>;
  /** CPU the service used during the run, s. */
  cpuS: number;
  /** Of the measured process's wall time, % of one core. */
  cpuPct: number;
}

/** One importer + ceiling pair, same rate, file and concurrency. */
export interface RunFigures {
  id: string;
  phase: "curve" | "large";
  rows: number;
  file: string;
  rate: number;
  concurrency: number;
  /** Which one ran first (alternated). */
  order: "importer-first" | "ceiling-first";
  importer: ImporterFigures;
  ceiling: CeilingFigures;
  importerService: ServiceFigures;
  ceilingService: ServiceFigures;
  /** Importer delivered rows/s ÷ ceiling rows/s. */
  ratio: number;
  /** Importer requests/s ÷ ceiling requests/s. */
  requestRatio: number;
  checks: {
    /** The service's 201s == the importer's delivered. */
    importer201MatchesDelivered: boolean;
    /** No 400 during the importer run. */
    importerNo400: boolean;
    /** Exit 0, nothing failed, refused or left (unless capped). */
    importerComplete: boolean;
    /** The service's 201s == the ceiling's rows. */
    ceiling201MatchesRows: boolean;
    ceilingNo400: boolean;
  };
}

/** The JSON file written by a run. */
export interface BenchResults {
  tool: "parse-and-post bench";
  startedAt: string;
  finishedAt: string;
  elapsedS: number;
  /** How to run it again. */
  command: string;
  machine: { cpus: number; deno: string; v8: string; os: string };
  options: BenchOptions;
  /** The importer's `deno run` flags (the import task's, port adapted). */
  importerFlags: string[];
  files: InputFile[];
  pipeline: PipelineFigures | null;
  loadTool: { rate: number; results: LoadToolResult[] }[] | null;
  runs: RunFigures[];
  defaultConcurrency: { value: number; rate: number; reason: string };
  memory: MemoryFigures[];
  /** Whether the service limits the throughput, per rate. */
  bottleneck: BottleneckFigures[];
  targets: TargetCheck[];
  /** Every cross-check passed. */
  checksPassed: boolean;
}

/** A generated input and what it holds. */
export interface InputFile {
  rows: number;
  seed: number;
  csv: string;
  bodies: string;
  bytes: number;
  rowsRead: number;
  valid: number;
}

/** `deno bench` of the pipeline. */
export interface PipelineFigures {
  command: string;
  name: string;
  rowsPerIteration: number;
  avgMs: number;
  minMs: number;
  /** rows ÷ average time. */
  rowsPerSecond: number;
  /** rows ÷ fastest time. */
  bestRowsPerSecond: number;
}

/** Peak RSS of the importer, small vs large file, same rate and concurrency. */
export interface MemoryFigures {
  rate: number;
  concurrency: number;
  smallRows: number;
  largeRows: number;
  smallMB: number;
  largeMB: number;
  /** (large − small) ÷ small, %. */
  growthPct: number;
  /** The small run was capped (partial), so the comparison is weaker. */
  smallCapped: boolean;
}

/** The service alone (wrk) against the Deno client, same rate and concurrency. */
export interface BottleneckFigures {
  rate: number;
  concurrency: number;
  /** wrk's requests/s against the service alone (null without wrk). */
  wrkRequestsPerSecond: number | null;
  /** The ceiling's requests/s (the Deno client). */
  ceilingRequestsPerSecond: number;
  /** wrk ÷ ceiling: how much faster the service can go than this client. */
  headroom: number | null;
  /** The service's CPU during the ceiling run, % of one core. */
  serviceCpuPctCeiling: number;
  /** The service's CPU during the importer run, % of one core. */
  serviceCpuPctImporter: number;
  /** The conclusion, in words. */
  verdict: string;
}

/** One target and whether this run met it. */
export interface TargetCheck {
  target: string;
  value: number;
  limit: number;
  met: boolean;
}

const DEFAULTS: Omit<BenchOptions, "out"> = {
  rowsSmall: 100_000,
  rowsLarge: 1_000_000,
  concurrency: [1, 4, 8, 16, 32, 64],
  rates: [0, 0.2],
  seed: 42,
  sinkSeed: 1,
  largeConcurrency: null,
  capSeconds: 25,
  ceilingCapSeconds: 30,
  wrkSeconds: 2,
  pipeline: true,
  cpuProf: false,
  quick: false,
};

const QUICK: Partial<BenchOptions> = {
  rowsSmall: 1_000,
  rowsLarge: 3_000,
  concurrency: [8],
  capSeconds: 10,
  ceilingCapSeconds: 10,
  wrkSeconds: 1,
  pipeline: false,
};

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(2);
}

/**
 * Parses the command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBenchArgs } from "./run.ts";
 * const o = parseBenchArgs(["--quick", "--rates", "0.2"]);
 * assert.deepEqual(o.rates, [0.2]);
 * assert.equal(o.rowsSmall, 1000);
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions {
  const given = new Map<string, string>();
  const switches = new Set(["quick", "no-wrk", "no-pipeline", "cpu-prof"]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) fail(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (switches.has(name)) given.set(name, "true");
    else if (eq > 0) given.set(name, arg.slice(eq + 1));
    else if (i + 1 < args.length) given.set(name, args[++i]);
    else fail(`${arg} needs a value`);
  }
  const known = new Set([
    ...switches,
    "rows-small",
    "rows-large",
    "concurrency",
    "rates",
    "seed",
    "sink-seed",
    "large-concurrency",
    "cap-seconds",
    "ceiling-cap-seconds",
    "wrk-seconds",
    "out",
  ]);
  for (const name of given.keys()) {
    if (!known.has(name)) fail(`unknown option --${name}`);
  }
  const int = (name: string, min: number): number | undefined => {
    const raw = given.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw.replaceAll("_", ""));
    if (!Number.isInteger(n) || n < min) {
      fail(`--${name} must be a whole number ≥ ${min}`);
    }
    return n;
  };
  const list = (name: string, parse: (s: string) => number) => {
    const raw = given.get(name);
    if (raw === undefined) return undefined;
    const values = raw.split(",").map((s) => parse(s.trim()));
    if (values.length === 0) fail(`--${name} needs at least one value`);
    return values;
  };
  const quick = given.has("quick");
  const base = { ...DEFAULTS, ...(quick ? QUICK : {}) };
  const options: BenchOptions = {
    ...base,
    rowsSmall: int("rows-small", 1) ?? base.rowsSmall,
    rowsLarge: int("rows-large", 1) ?? base.rowsLarge,
    concurrency: list("concurrency", (s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1 || n > 256) {
        fail("--concurrency takes whole numbers from 1 to 256");
      }
      return n;
    }) ?? base.concurrency,
    rates: list("rates", (s) => {
      const n = Number(s);
      if (s === "" || !(n >= 0 && n < 1)) {
        fail("--rates takes numbers from 0 to below 1");
      }
      return n;
    }) ?? base.rates,
    seed: int("seed", 0) ?? base.seed,
    sinkSeed: int("sink-seed", 0) ?? base.sinkSeed,
    largeConcurrency: int("large-concurrency", 1) ?? base.largeConcurrency,
    capSeconds: int("cap-seconds", 1) ?? base.capSeconds,
    ceilingCapSeconds: int("ceiling-cap-seconds", 1) ??
      base.ceilingCapSeconds,
    wrkSeconds: given.has("no-wrk") ? 0 : int("wrk-seconds", 1) ??
      base.wrkSeconds,
    pipeline: given.has("no-pipeline") ? false : base.pipeline,
    cpuProf: given.has("cpu-prof"),
    quick,
    out: resolvePath(given.get("out") ?? "out/bench"),
  };
  return options;
}

function resolvePath(path: string): string {
  const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** `path` relative to the repository root (it must be inside it). */
function rel(path: string): string {
  if (path === ROOT) return ".";
  if (!path.startsWith(ROOT + "/")) {
    fail(`${path} is outside ${ROOT}: the importer may only use files there`);
  }
  return path.slice(ROOT.length + 1);
}

/**
 * The `deno run` flags of the `import` task in deno.json, with the port of
 * `--allow-net` replaced by `port`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importerFlags } from "./run.ts";
 * const task = "deno run --allow-read=. --allow-net=localhost:9009,127.0.0.1:9009 --v8-flags=--max-old-space-size=256 main.ts";
 * assert.deepEqual(importerFlags(task, 4242), [
 *   "--allow-read=.",
 *   "--allow-net=localhost:4242,127.0.0.1:4242",
 *   "--v8-flags=--max-old-space-size=256",
 * ]);
 * ```
 */
export function importerFlags(task: string, port: number): string[] {
  const tokens = task.trim().split(/\s+/);
  if (tokens[0] !== "deno" || tokens[1] !== "run") {
    throw new Error(`the import task does not start with "deno run": ${task}`);
  }
  const end = tokens.indexOf("main.ts");
  if (end < 0) throw new Error(`the import task does not run main.ts: ${task}`);
  return tokens.slice(2, end).map((flag) =>
    flag.startsWith("--allow-net=")
      ? "--allow-net=" +
        flag.slice(12).split(",").map((host) =>
          host.replace(/:\d+$/, "") + `:${port}`
        ).join(",")
      : flag
  );
}

async function importTask(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const task = config.tasks?.import;
  if (typeof task !== "string") fail("deno.json has no import task");
  return task;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const log = (line: string) => console.error(line);

/** Generates the CSV (once) and its JSON bodies (the importer's dry run). */
async function ensureInput(
  options: BenchOptions,
  rows: number,
): Promise<InputFile> {
  const name = `movies-${rows}-s${options.seed}`;
  const csv = `${options.out}/${name}.csv`;
  const bodies = `${options.out}/${name}.bodies.jsonl`;
  const metaPath = `${options.out}/${name}.meta.json`;
  if (!(await exists(csv))) {
    log(`generating ${rel(csv)} (${rows} rows, seed ${options.seed})`);
    const partial = `${csv}.partial`;
    const gen = await runPlain(DENO, [
      "run",
      "--allow-write",
      "--allow-read",
      "gen.ts",
      "--rows",
      String(rows),
      "--seed",
      String(options.seed),
      "--out",
      partial,
    ], ROOT);
    if (gen.code !== 0) throw new Error(`gen failed: ${gen.stderr}`);
    await Deno.rename(partial, csv);
  }
  const info = await Deno.stat(csv);
  const mtimeMs = info.mtime?.getTime() ?? 0;
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    if (
      meta.bytes === info.size && meta.mtimeMs === mtimeMs &&
      await exists(bodies)
    ) {
      return { rows, seed: options.seed, csv, bodies, ...pick(meta) };
    }
  } catch { /* no meta yet */ }
  log(`writing ${rel(bodies)} (the importer's --dry-run bodies)`);
  const tmp = await Deno.makeTempDir({ dir: options.out, prefix: "tmp-dry-" });
  try {
    const file = await Deno.open(bodies, {
      write: true,
      create: true,
      truncate: true,
    });
    const child = new Deno.Command(DENO, {
      args: [
        "run",
        "--allow-read=.",
        "--allow-write=.",
        "--allow-env",
        "main.ts",
        rel(csv),
        "--dry-run",
        "--log-level",
        "ERROR",
        "--rejects",
        `${rel(tmp)}/rejects.csv`,
        "--report",
        `${rel(tmp)}/report.json`,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await child.stdout.pipeTo(file.writable);
    const { code } = await child.status;
    if (code !== 0) throw new Error(`dry run of ${rel(csv)} exited ${code}`);
    const report = JSON.parse(await Deno.readTextFile(`${tmp}/report.json`));
    const meta = {
      bytes: info.size,
      mtimeMs,
      rowsRead: report.counts.rowsRead as number,
      valid: report.counts.valid as number,
    };
    await Deno.writeTextFile(metaPath, JSON.stringify(meta) + "\n");
    return { rows, seed: options.seed, csv, bodies, ...pick(meta) };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

function pick(meta: Record<string, number>) {
  return { bytes: meta.bytes, rowsRead: meta.rowsRead, valid: meta.valid };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const perSecond = (n: number, ms: number) =>
  ms > 0 ? Math.round(n / (ms / 1000)) : 0;

/** Everything a measured pair needs. */
interface RunContext {
  options: BenchOptions;
  sink: SinkProcess;
  flags: string[];
  scratch: string;
}

async function measureService<T extends { wallMs: number }>(
  sink: SinkProcess,
  run: () => Promise<T>,
): Promise<[ServiceFigures, T]> {
  await sink.reset();
  const cpuBefore = sink.cpuSeconds();
  const result = await run();
  const cpuS = round2(sink.cpuSeconds() - cpuBefore);
  const post = await sink.postCounts();
  return [{
    post,
    cpuS,
    cpuPct: round1(cpuS / Math.max(0.001, result.wallMs / 1000) * 100),
  }, result];
}

async function runImporter(
  ctx: RunContext,
  input: InputFile,
  concurrency: number,
  id: string,
  cap: boolean,
  profileDir: string | null,
): Promise<ImporterFigures> {
  const dir = `${ctx.scratch}/${id}`;
  await Deno.mkdir(dir, { recursive: true });
  const args = [
    "run",
    ...ctx.flags,
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    "main.ts",
    rel(input.csv),
    "--url-out",
    `${ctx.sink.url}/movies`,
    "--concurrency",
    String(concurrency),
    "--fresh",
    "--journal",
    `${rel(dir)}/import.journal`,
    "--rejects",
    `${rel(dir)}/rejects.csv`,
    "--report",
    `${rel(dir)}/report.json`,
    "--log-level",
    "WARNING",
  ];
  const m = await runMeasured(DENO, args, {
    cwd: ROOT,
    capMs: cap ? ctx.options.capSeconds * 1000 : undefined,
    capSignal: "SIGINT",
  });
  let report;
  try {
    report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
  } catch {
    throw new Error(
      `the importer wrote no report (exit ${m.code}):\n${m.stderrTail}`,
    );
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const c = report.counts;
  const elapsedMs = report.elapsedMs as number;
  const cpuS = round2(m.userS + m.sysS);
  let profile: ProfileEntry[] | undefined;
  if (profileDir) {
    profile = (await summariseProfileDir(profileDir, 25))?.entries;
  }
  return {
    exitCode: m.code,
    capped: m.capped,
    elapsedMs,
    wallMs: Math.round(m.wallMs),
    rowsRead: c.rowsRead,
    valid: c.valid,
    delivered: c.delivered,
    requests: c.requests,
    retries: c.retries,
    refused: c.refused,
    failed: c.failed,
    notReached: c.notReached,
    deliveredPerSecond: perSecond(c.delivered, elapsedMs),
    readPerSecond: perSecond(c.rowsRead, elapsedMs),
    requestsPerSecond: perSecond(c.requests, elapsedMs),
    latencyMs: report.latencyMs,
    peakRssKb: m.peakRssKb,
    peakRssMB: round1(m.peakRssKb * 1024 / 1e6),
    rssSource: m.rssSource,
    cpuS,
    cpuPct: round1(cpuS / Math.max(0.001, m.wallMs / 1000) * 100),
    command: `deno ${args.join(" ")}`,
    ...(profile ? { profile } : {}),
  };
}

async function runCeilingProcess(
  ctx: RunContext,
  input: InputFile,
  concurrency: number,
  capSeconds: number,
  profileDir: string | null,
): Promise<CeilingFigures> {
  const args = [
    "run",
    "-A",
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    "bench/ceiling.ts",
    "--url",
    `${ctx.sink.url}/movies`,
    "--bodies",
    rel(input.bodies),
    "--concurrency",
    String(concurrency),
    "--count",
    String(input.valid),
    "--max-seconds",
    String(capSeconds),
  ];
  const m = await runMeasured(DENO, args, { cwd: ROOT, stdout: "piped" });
  const line = m.stdout.trim().split("\n").pop() ?? "";
  let result: CeilingResult;
  try {
    result = JSON.parse(line);
  } catch {
    throw new Error(`the ceiling failed (exit ${m.code}):\n${m.stderrTail}`);
  }
  const cpuS = round2(m.userS + m.sysS);
  let profile: ProfileEntry[] | undefined;
  if (profileDir) {
    profile = (await summariseProfileDir(profileDir, 25))?.entries;
  }
  return {
    ...result,
    exitCode: m.code,
    wallMs: Math.round(m.wallMs),
    cpuS,
    cpuPct: round1(cpuS / Math.max(0.001, m.wallMs / 1000) * 100),
    peakRssKb: m.peakRssKb,
    command: `deno ${args.join(" ")}`,
    ...(profile ? { profile } : {}),
  };
}

async function runPair(
  ctx: RunContext,
  phase: "curve" | "large",
  input: InputFile,
  rate: number,
  concurrency: number,
  importerFirst: boolean,
): Promise<RunFigures> {
  const id = `${phase}-r${rate}-c${concurrency}-${input.rows}`;
  const profileRoot = ctx.options.cpuProf && phase === "large"
    ? `${ctx.options.out}/profiles/${id}`
    : null;
  const importer = async () => {
    const dir = profileRoot ? `${profileRoot}/importer` : null;
    if (dir) await Deno.mkdir(dir, { recursive: true });
    const figures = await runImporter(
      ctx,
      input,
      concurrency,
      id,
      phase === "curve",
      dir,
    );
    return { wallMs: figures.wallMs, figures };
  };
  const ceiling = async () => {
    const dir = profileRoot ? `${profileRoot}/ceiling` : null;
    if (dir) await Deno.mkdir(dir, { recursive: true });
    const cap = phase === "curve"
      ? ctx.options.capSeconds
      : ctx.options.ceilingCapSeconds;
    const figures = await runCeilingProcess(ctx, input, concurrency, cap, dir);
    return { wallMs: figures.wallMs, figures };
  };
  let imp: [ServiceFigures, { figures: ImporterFigures }];
  let ceil: [ServiceFigures, { figures: CeilingFigures }];
  if (importerFirst) {
    imp = await measureService(ctx.sink, importer);
    ceil = await measureService(ctx.sink, ceiling);
  } else {
    ceil = await measureService(ctx.sink, ceiling);
    imp = await measureService(ctx.sink, importer);
  }
  const [importerService, { figures: i }] = imp;
  const [ceilingService, { figures: c }] = ceil;
  const s201 = (s: ServiceFigures) => s.post["201"] ?? 0;
  const s400 = (s: ServiceFigures) => s.post["400"] ?? 0;
  const run: RunFigures = {
    id,
    phase,
    rows: input.rows,
    file: rel(input.csv),
    rate,
    concurrency,
    order: importerFirst ? "importer-first" : "ceiling-first",
    importer: i,
    ceiling: c,
    importerService,
    ceilingService,
    ratio: c.rowsPerSecond > 0
      ? round2(i.deliveredPerSecond / c.rowsPerSecond)
      : 0,
    requestRatio: c.requestsPerSecond > 0
      ? round2(i.requestsPerSecond / c.requestsPerSecond)
      : 0,
    checks: {
      importer201MatchesDelivered: s201(importerService) === i.delivered,
      importerNo400: s400(importerService) === 0,
      importerComplete: i.capped ||
        (i.exitCode === 0 && i.failed === 0 && i.refused === 0 &&
          i.notReached === 0 && i.delivered === i.valid),
      ceiling201MatchesRows: s201(ceilingService) === c.rows,
      ceilingNo400: s400(ceilingService) === 0 && c.refused === 0 &&
        c.failed === 0,
    },
  };
  log(
    `  ${id}: importer ${i.deliveredPerSecond} rows/s${
      i.capped ? " (capped)" : ""
    }, ceiling ${c.rowsPerSecond} rows/s, ratio ${run.ratio}, RSS ${i.peakRssMB} MB${
      Object.values(run.checks).every(Boolean) ? "" : "  CHECK FAILED"
    }`,
  );
  return run;
}

/** Starts the service for one rate and warms it up (then resets it). */
async function freshSink(
  options: BenchOptions,
  rate: number,
  warmBodies: InputFile,
): Promise<SinkProcess> {
  const sink = await startSinkProcess({
    root: ROOT,
    failRate: rate,
    seed: options.sinkSeed,
  });
  const warm = await runPlain(DENO, [
    "run",
    "-A",
    "bench/ceiling.ts",
    "--url",
    `${sink.url}/movies`,
    "--bodies",
    rel(warmBodies.bodies),
    "--concurrency",
    "16",
    "--count",
    String(Math.min(5000, warmBodies.valid)),
  ], ROOT);
  if (warm.code !== 0) {
    await sink.close();
    throw new Error(`warm-up failed: ${warm.stderr}`);
  }
  await sink.reset();
  return sink;
}

async function pipelineBench(): Promise<PipelineFigures | null> {
  const args = ["bench", "-A", "--json", "bench/pipeline_bench.ts"];
  log("running deno bench bench/pipeline_bench.ts");
  const out = await runPlain(DENO, args, ROOT);
  if (out.code !== 0) {
    log(`  pipeline bench failed: ${out.stderr.slice(-500)}`);
    return null;
  }
  const json = JSON.parse(out.stdout);
  const bench = json.benches.find((b: { baseline: boolean }) => b.baseline) ??
    json.benches[0];
  const ok = bench?.results?.[0]?.ok;
  if (!ok) return null;
  const rows = Number(
    /(\d[\d_,]*) rows/.exec(bench.name)?.[1]
      ?.replace(/[_,]/g, "") ?? 100_000,
  );
  return {
    command: `deno ${args.join(" ")}`,
    name: bench.name,
    rowsPerIteration: rows,
    avgMs: round1(ok.avg / 1e6),
    minMs: round1(ok.min / 1e6),
    rowsPerSecond: Math.round(rows / (ok.avg / 1e9)),
    bestRowsPerSecond: Math.round(rows / (ok.min / 1e9)),
  };
}

/**
 * The smallest concurrency whose importer throughput is within `within`
 * of the best, at the given rate's curve runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseConcurrency } from "./run.ts";
 * const points = [
 *   { concurrency: 4, rowsPerSecond: 8000 },
 *   { concurrency: 8, rowsPerSecond: 11600 },
 *   { concurrency: 16, rowsPerSecond: 12000 },
 * ];
 * assert.equal(chooseConcurrency(points, 0.05), 8);
 * ```
 */
export function chooseConcurrency(
  points: { concurrency: number; rowsPerSecond: number }[],
  within = 0.05,
): number {
  const best = Math.max(...points.map((p) => p.rowsPerSecond));
  const good = points
    .filter((p) => p.rowsPerSecond >= (1 - within) * best)
    .map((p) => p.concurrency);
  return Math.min(...good);
}

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;

/**
 * The table of figures, one line per importer + ceiling pair.
 *
 * @example
 * ```ts ignore
 * import { formatTable } from "./run.ts";
 * const results = JSON.parse(await Deno.readTextFile("out/bench/latest.json"));
 * console.log(formatTable(results));
 * ```
 */
export function formatTable(results: BenchResults): string {
  const head = [
    "503",
    "rows",
    "conc",
    "imp deliv/s",
    "imp read/s",
    "imp req/s",
    "ceil rows/s",
    "ceil req/s",
    "ratio",
    "imp p50/p99 ms",
    "ceil p50/p99 ms",
    "imp RSS MB",
    "imp CPU",
    "svc CPU",
    "201=deliv",
  ];
  const rows = results.runs.map((r) => [
    pct(r.rate),
    String(r.rows),
    String(r.concurrency),
    `${r.importer.deliveredPerSecond}${r.importer.capped ? "*" : ""}`,
    String(r.importer.readPerSecond),
    String(r.importer.requestsPerSecond),
    `${r.ceiling.rowsPerSecond}${r.ceiling.capped ? "*" : ""}`,
    String(r.ceiling.requestsPerSecond),
    r.ratio.toFixed(2),
    `${r.importer.latencyMs.p50.toFixed(2)}/${
      r.importer.latencyMs.p99.toFixed(1)
    }`,
    `${r.ceiling.latencyMs.p50.toFixed(2)}/${
      r.ceiling.latencyMs.p99.toFixed(1)
    }`,
    r.importer.peakRssMB.toFixed(1),
    `${r.importer.cpuPct.toFixed(0)} %`,
    `${r.importerService.cpuPct.toFixed(0)} %`,
    Object.values(r.checks).every(Boolean) ? "ok" : "FAIL",
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => c.padStart(widths[i])).join("  ");
  return [
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "* interrupted at the time cap: figures cover the part that ran",
  ].join("\n");
}

function formatSummary(results: BenchResults): string {
  const lines: string[] = [];
  const d = results.defaultConcurrency;
  lines.push(`default concurrency: ${d.value} (${d.reason})`);
  for (const m of results.memory) {
    lines.push(
      `peak RSS at ${
        pct(m.rate)
      } 503, concurrency ${m.concurrency}: ${m.smallMB} MB (${m.smallRows} rows) → ${m.largeMB} MB (${m.largeRows} rows), ${
        m.growthPct >= 0 ? "+" : ""
      }${m.growthPct} %`,
    );
  }
  if (results.pipeline) {
    const p = results.pipeline;
    lines.push(
      `pipeline bench: ${p.rowsPerSecond} rows/s (avg ${p.avgMs} ms per ${p.rowsPerIteration} rows; best ${p.bestRowsPerSecond} rows/s)`,
    );
  }
  for (const block of results.loadTool ?? []) {
    for (const w of block.results) {
      lines.push(
        `service alone (${w.command}) at ${
          pct(block.rate)
        } 503: ${w.requestsPerSecond} req/s, ${w.okPerSecond} 201/s, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms`,
      );
    }
  }
  for (const b of results.bottleneck) {
    lines.push(
      `bottleneck at ${
        pct(b.rate)
      } 503, concurrency ${b.concurrency}: ${b.verdict}; ceiling ${b.ceilingRequestsPerSecond} req/s${
        b.wrkRequestsPerSecond === null
          ? ""
          : `, wrk ${b.wrkRequestsPerSecond} req/s`
      }`,
    );
  }
  for (const t of results.targets) {
    lines.push(
      `${
        t.met ? "met   " : "MISSED"
      } ${t.target}: ${t.value} (limit ${t.limit})`,
    );
  }
  lines.push(
    results.checksPassed
      ? "cross-checks: every run's service 201s matched the rows delivered, no 400"
      : "cross-checks FAILED (see checks in the JSON)",
  );
  return lines.join("\n");
}

function targetChecks(
  results: Omit<BenchResults, "targets" | "checksPassed">,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const d = results.defaultConcurrency.value;
  for (const run of results.runs) {
    if (run.concurrency !== d) continue;
    checks.push({
      target: `importer ÷ ceiling at ${
        pct(run.rate)
      } 503, ${run.rows} rows, concurrency ${d}`,
      value: run.ratio,
      limit: 0.85,
      met: run.ratio >= 0.85,
    });
  }
  for (const m of results.memory) {
    checks.push({
      target: `importer peak RSS, MB, ${m.largeRows} rows at ${
        pct(m.rate)
      } 503`,
      value: m.largeMB,
      limit: 120,
      met: m.largeMB <= 120,
    });
    checks.push({
      target: `peak RSS growth ${m.smallRows} → ${m.largeRows} rows at ${
        pct(m.rate)
      } 503, %`,
      value: m.growthPct,
      limit: 10,
      met: Math.abs(m.growthPct) <= 10,
    });
  }
  if (results.pipeline) {
    checks.push({
      target: "pipeline bench rows/s (avg)",
      value: results.pipeline.rowsPerSecond,
      limit: 250_000,
      met: results.pipeline.rowsPerSecond >= 250_000,
    });
  }
  return checks;
}

/**
 * Runs the whole benchmark and returns its results (also written to
 * `options.out`).
 *
 * @example
 * ```ts ignore
 * import { parseBenchArgs, runBench } from "./run.ts";
 * const results = await runBench(parseBenchArgs(["--quick"]));
 * console.log(results.runs.map((r) => r.ratio));
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const t0 = performance.now();
  rel(options.out);
  await Deno.mkdir(options.out, { recursive: true });
  const scratch = await Deno.makeTempDir({
    dir: options.out,
    prefix: "tmp-run-",
  });
  const task = await importTask();
  const small = await ensureInput(options, options.rowsSmall);
  const large = await ensureInput(options, options.rowsLarge);
  const pipeline = options.pipeline ? await pipelineBench() : null;
  const wrk = options.wrkSeconds > 0 && await onPath("wrk");
  if (options.wrkSeconds > 0 && !wrk) {
    log("wrk is not installed: the service-alone figures are skipped");
  }
  const sampleBody = (await Deno.readTextFile(small.bodies)).split("\n")[0];
  const runs: RunFigures[] = [];
  const loadTool: { rate: number; results: LoadToolResult[] }[] = [];
  let flags: string[] = [];
  let pairIndex = 0;
  try {
    // 1. The curve, and the service alone, per rate.
    for (const rate of options.rates) {
      log(`rate ${pct(rate)}: curve on ${small.rows} rows`);
      const sink = await freshSink(options, rate, small);
      try {
        flags = importerFlags(task, sink.port);
        const ctx = { options, sink, flags, scratch };
        for (const c of options.concurrency) {
          runs.push(
            await runPair(ctx, "curve", small, rate, c, pairIndex++ % 2 === 0),
          );
        }
        if (wrk) {
          const results: LoadToolResult[] = [];
          for (const c of options.concurrency) {
            await sink.reset();
            results.push(
              await runWrk(
                `${sink.url}/movies`,
                sampleBody,
                c,
                options.wrkSeconds,
              ),
            );
          }
          loadTool.push({ rate, results });
        }
      } finally {
        await sink.close();
      }
    }

    // 2. The default concurrency, from the curve at the highest rate.
    const rate = Math.max(...options.rates);
    const points = runs
      .filter((r) => r.phase === "curve" && r.rate === rate)
      .map((r) => ({
        concurrency: r.concurrency,
        rowsPerSecond: r.importer.deliveredPerSecond,
      }));
    const chosen = chooseConcurrency(points, 0.05);
    const best = points.reduce((a, b) =>
      a.rowsPerSecond >= b.rowsPerSecond ? a : b
    );
    const defaultConcurrency = {
      value: chosen,
      rate,
      reason:
        `the smallest concurrency within 5 % of the best importer throughput at ${
          pct(rate)
        } 503 (best ${best.rowsPerSecond} rows/s at ${best.concurrency}; ${chosen} gives ${
          points.find((p) => p.concurrency === chosen)?.rowsPerSecond
        } rows/s)`,
    };
    const largeConcurrency = options.largeConcurrency ?? chosen;

    // 3. The large file at that concurrency, per rate.
    for (const rate of options.rates) {
      log(
        `rate ${
          pct(rate)
        }: ${large.rows} rows at concurrency ${largeConcurrency}`,
      );
      const sink = await freshSink(options, rate, small);
      try {
        flags = importerFlags(task, sink.port);
        const ctx = { options, sink, flags, scratch };
        runs.push(
          await runPair(
            ctx,
            "large",
            large,
            rate,
            largeConcurrency,
            pairIndex++ % 2 === 0,
          ),
        );
      } finally {
        await sink.close();
      }
    }

    // 4. Memory: the same rate and concurrency, small vs large file.
    const memory: MemoryFigures[] = [];
    for (const rate of options.rates) {
      const s = runs.find((r) =>
        r.phase === "curve" && r.rate === rate &&
        r.concurrency === largeConcurrency
      );
      const l = runs.find((r) => r.phase === "large" && r.rate === rate);
      if (!s || !l) continue;
      const smallMB = s.importer.peakRssMB;
      const largeMB = l.importer.peakRssMB;
      memory.push({
        rate,
        concurrency: largeConcurrency,
        smallRows: s.rows,
        largeRows: l.rows,
        smallMB,
        largeMB,
        growthPct: round1((largeMB - smallMB) / smallMB * 100),
        smallCapped: s.importer.capped,
      });
    }

    // 5. Is the service the bottleneck? wrk vs the Deno client, same rate
    //    and concurrency, and the service's own CPU while measured.
    const bottleneck: BottleneckFigures[] = [];
    for (const rate of options.rates) {
      const run = runs.find((r) =>
        r.phase === "curve" && r.rate === rate && r.concurrency === chosen
      );
      if (!run) continue;
      const w = loadTool.find((b) => b.rate === rate)?.results
        .find((x) => x.concurrency === chosen);
      const ceilingRps = run.ceiling.requestsPerSecond;
      const headroom = w ? round2(w.requestsPerSecond / ceilingRps) : null;
      const svcCpu = Math.max(
        run.ceilingService.cpuPct,
        run.importerService.cpuPct,
      );
      const limited = (headroom !== null && headroom < 1.2) || svcCpu >= 90;
      bottleneck.push({
        rate,
        concurrency: chosen,
        wrkRequestsPerSecond: w?.requestsPerSecond ?? null,
        ceilingRequestsPerSecond: ceilingRps,
        headroom,
        serviceCpuPctCeiling: run.ceilingService.cpuPct,
        serviceCpuPctImporter: run.importerService.cpuPct,
        verdict: limited
          ? "the service is (close to) the bottleneck"
          : `the client is the bottleneck, not the service (its own process, ${
            Math.round(svcCpu)
          } % of a core busy${
            headroom === null ? "" : `; wrk gets ${headroom}× the requests/s`
          })`,
      });
    }

    const finished = new Date();
    const partial = {
      tool: "parse-and-post bench" as const,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      elapsedS: round1((performance.now() - t0) / 1000),
      command: `deno task bench ${Deno.args.join(" ")}`.trim(),
      machine: {
        cpus: navigator.hardwareConcurrency,
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        os: `${Deno.build.os} ${Deno.build.arch}`,
      },
      options,
      importerFlags: flags.map((f) =>
        f.startsWith("--allow-net=") ? "--allow-net=<service port>" : f
      ),
      files: [small, large].map((f) => ({
        ...f,
        csv: rel(f.csv),
        bodies: rel(f.bodies),
      })),
      pipeline,
      loadTool: wrk ? loadTool : null,
      runs,
      defaultConcurrency,
      memory,
      bottleneck,
    };
    const results: BenchResults = {
      ...partial,
      targets: targetChecks(partial),
      checksPassed: runs.every((r) => Object.values(r.checks).every(Boolean)),
    };
    const stamp = started.toISOString().replace(/[:.]/g, "-");
    const text = JSON.stringify(results, null, 2) + "\n";
    await Deno.writeTextFile(`${options.out}/results-${stamp}.json`, text);
    await Deno.writeTextFile(`${options.out}/latest.json`, text);
    return results;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const options = parseBenchArgs(Deno.args);
  const results = await runBench(options);
  console.log(formatTable(results));
  console.log();
  console.log(formatSummary(results));
  console.log(`\nresults: ${rel(options.out)}/latest.json`);
  Deno.exit(results.checksPassed ? 0 : 1);
}
