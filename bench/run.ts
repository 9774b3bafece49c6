/**
 * `deno task bench`: the importer against two plain loops that share none
 * of its code, in one run and under the same conditions.
 *
 * - **importer**: `main.ts` as a subprocess, run as `deno task import` runs
 *   it (the task's permissions and V8 flags from deno.json, the port set to
 *   the service's), over a generated CSV, with empty outputs and resume
 *   state every round, so every round sends every row;
 * - **plain fetch** (`bench/plain_fetch.ts`) and **plain undici**
 *   (`bench/plain_undici.ts`): the importer's exact bodies (its dry run),
 *   the same concurrency, headers, retry policy and V8 flags;
 * - the local service in its own process, reset before every run; the
 *   requests are the ones it counted.
 *
 * Every client runs under `/usr/bin/time` with `--trace-gc` added to its V8
 * flags: CPU per request = the process's user + system CPU ÷ the service's
 * POST count; requests/s = that count ÷ the process's wall time; peak RSS
 * from time; collections per 1,000 requests from the trace. Rounds are
 * interleaved (importer, fetch, undici, importer, …); the table shows the
 * min and median per client.
 *
 * ```sh
 * deno task bench               # 50,000 rows × 3 rounds, 0 % and 20 % 503
 * deno task bench --quick       # a few thousand rows, 1 round (the test)
 * deno task bench --curve       # also concurrency 1, 4, 8, 16, 32, 64
 * deno task bench --rss         # also the importer's peak RSS, 100k and 1M rows
 * ```
 *
 * Options: `--rows N`, `--rounds N`, `--rates 0,0.2`, `--concurrency N`
 * (the importer's default), `--seed N` (42, the generator's), `--sink-seed
 * N` (1), `--rss-rows 100000,1000000`, `--out DIR` (out/bench, inside the
 * repository: the importer may only write there). Writes `DIR/latest.json`
 * ({@link BenchResults}); exits 1 when a check failed (a client did not
 * exit 0, the service's 201s are not the bodies sent, a 400).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dryRunBodies, ensureCsv } from "./_input.ts";
import {
  allowEnv,
  clientFlags,
  importerArgs,
  type ImporterDefaults,
  importerDefaults,
  parseImportTask,
  readImportTask,
  type StateFlag,
  stateFlagOf,
  type TaskFlags,
  unknownFlags,
} from "./_importer.ts";
import { hasGnuTime, runPlain } from "./_process.ts";
import {
  type ClientRun,
  resultLine,
  runClient,
  runImporterOnce,
  UNDICI_ENV,
} from "./_rounds.ts";
import { type SinkProcess, startSinkProcess } from "./_sink.ts";
import { type ServiceShape, serviceShape } from "./_shape.ts";
import {
  type ClientName,
  CLIENTS,
  type ClientSummary,
  formatShares,
  formatTable,
  type RoundFigures,
  summarise,
} from "./_summary.ts";

/** The repository root. */
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();
const CURVE = [1, 4, 8, 16, 32, 64];

/** The benchmark's settings. */
export interface BenchOptions {
  /** Rows of the generated CSV. @default 50000 (3000 with --quick) */
  rows: number;
  /** Rounds per client, rate and concurrency. @default 3 (1 with --quick) */
  rounds: number;
  /** The service's shares of 503. @default [0, 0.2] */
  rates: number[];
  /** Concurrencies measured. @default the importer's default (all of 1–64 with --curve) */
  concurrency: number[];
  /** The generator's seed. @default 42 */
  seed: number;
  /** The service's seed. @default 1 */
  sinkSeed: number;
  /** Rows of the `--rss` runs; empty: none. @default [] ([100000, 1000000] with --rss) */
  rssRows: number[];
  /** The smoke-test sizes. @default false */
  quick: boolean;
  /** Where files and results go (absolute, inside the repository). @default out/bench */
  out: string;
}

/** The importer's peak RSS over one file: a full run, then one resumed. */
export interface RssFigures {
  rows: number;
  /** Every row delivered. */
  fresh: { peakRssMB: number; requests: number; cpuS: number; wallMs: number };
  /** The same file again, the resume state kept: nothing left to send. */
  resumed: {
    peakRssMB: number;
    requests: number;
    cpuS: number;
    wallMs: number;
  };
}

/** A client's fixed cost: one run with nothing to send (start-up and exit). */
export interface StartupFigures {
  client: string;
  /** User + system CPU, s. */
  cpuS: number;
  peakRssMB: number;
  wallMs: number;
}

/** `DIR/latest.json`. */
export interface BenchResults {
  tool: "parse-and-post bench";
  startedAt: string;
  finishedAt: string;
  elapsedS: number;
  command: string;
  conditions: {
    rows: number;
    rowsRead: number | null;
    /** Bodies each client sends per round. */
    validRows: number;
    csv: string;
    seed: number;
    sinkSeed: number;
    rates: number[];
    concurrency: number[];
    rounds: number;
    clients: string[];
    /** The import task's V8 flags (every client gets them, plus --trace-gc). */
    v8Flags: string[];
    /** The `deno run` flags of every client (port of the run). */
    clientFlags: string[];
    /** Environment variables the plain undici loop may read on top. */
    undiciEnv: string[];
    importerArgs: string;
    retryPolicy: ImporterDefaults;
    service: ServiceShape;
    deno: string;
    v8: string;
    os: string;
    cpus: number;
    /** 1, 5 and 15-minute load averages at the start and the end. */
    loadAverage: { start: number[]; end: number[] };
  };
  /** Each client's start-up cost (included in every round's figures). */
  startup: StartupFigures[];
  rounds: RoundFigures[];
  summary: ClientSummary[];
  rss: RssFigures[] | null;
  checksPassed: boolean;
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(2);
}

const log = (line: string) => console.error(line);

/**
 * Reads the command line; a bad option is one line and exit 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBenchArgs } from "./run.ts";
 * const o = parseBenchArgs(["--quick", "--rates", "0.2"]);
 * assert.deepEqual(o.rates, [0.2]);
 * assert.equal(o.rounds, 1);
 * assert.deepEqual(parseBenchArgs(["--curve"]).concurrency, [1, 4, 8, 16, 32, 64]);
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        quick: { type: "boolean" },
        curve: { type: "boolean" },
        rss: { type: "boolean" },
        rows: { type: "string" },
        rounds: { type: "string" },
        rates: { type: "string" },
        concurrency: { type: "string" },
        seed: { type: "string" },
        "sink-seed": { type: "string" },
        "rss-rows": { type: "string" },
        out: { type: "string" },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const quick = values.quick ?? false;
  const list = (
    raw: string | undefined,
    name: string,
    ok: (n: number) => boolean,
  ) =>
    raw?.split(",").map((s) => {
      const n = Number(s.trim().replaceAll("_", ""));
      if (s.trim() === "" || !ok(n)) fail(`--${name}: ${s} is not allowed`);
      return n;
    });
  const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
  const one = (raw: string | undefined, name: string, min: number) =>
    list(raw, name, whole(min))?.[0];
  const concurrency =
    list(values.concurrency, "concurrency", (n) => whole(1)(n) && n <= 256) ??
      (values.curve ? CURVE : [importerDefaults().concurrency]);
  return {
    rows: one(values.rows, "rows", 1) ?? (quick ? 3000 : 50_000),
    rounds: one(values.rounds, "rounds", 1) ?? (quick ? 1 : 3),
    rates: list(values.rates, "rates", (n) => n >= 0 && n < 1) ?? [0, 0.2],
    concurrency,
    seed: one(values.seed, "seed", 0) ?? 42,
    sinkSeed: one(values["sink-seed"], "sink-seed", 0) ?? 1,
    rssRows: list(values["rss-rows"], "rss-rows", whole(1)) ??
      (values.rss ? [100_000, 1_000_000] : []),
    quick,
    out: resolvePath(values.out ?? "out/bench"),
  };
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
  if (!path.startsWith(ROOT + "/")) {
    fail(`${path} is outside ${ROOT}: the importer may only use files there`);
  }
  return path.slice(ROOT.length + 1);
}

/** What every round needs. */
interface Setup {
  options: BenchOptions;
  task: TaskFlags;
  defaults: ImporterDefaults;
  shape: ServiceShape;
  csv: string;
  bodies: string;
  valid: number;
  scratch: string;
  /** The importer's resume-state flag. */
  state: StateFlag;
}

/** Starts the service for one rate and warms it (and the caches) up. */
async function startSink(setup: Setup, rate: number): Promise<SinkProcess> {
  const sink = await startSinkProcess({
    root: ROOT,
    failRate: rate,
    seed: setup.options.sinkSeed,
    extraArgs: setup.shape.args,
  });
  const warm = await runPlain(DENO, [
    "run",
    ...allowEnv(clientFlags(setup.task, sink.port, []), UNDICI_ENV),
    "bench/plain_undici.ts",
    "--url",
    `${sink.url}/movies`,
    "--bodies",
    setup.bodies,
    "--count",
    String(Math.min(3000, setup.valid)),
    "--max-retries",
    "3",
  ], ROOT);
  // A few bodies may run out of their 3 retries at 20 % 503: only an
  // answerless service fails the warm-up.
  if (!((resultLine(warm.stderr)?.delivered as number) > 0)) {
    await sink.close();
    throw new Error(`the warm-up failed (exit ${warm.code}): ${warm.stderr}`);
  }
  return sink;
}

function clientRun(
  setup: Setup,
  sink: SinkProcess,
  client: ClientName,
  rate: number,
  concurrency: number,
  round: number,
): ClientRun {
  return {
    client,
    rate,
    concurrency,
    round,
    sink,
    flags: clientFlags(setup.task, sink.port, ["--trace-gc"]),
    csv: setup.csv,
    bodies: setup.bodies,
    valid: setup.valid,
    defaults: setup.defaults,
    stateDir: `${setup.scratch}/${client.replace(" ", "-")}`,
    state: setup.state,
  };
}

/** Each client once with nothing to send: its fixed cost. */
async function startupRuns(setup: Setup): Promise<StartupFigures[]> {
  const header =
    (await Deno.readTextFile(`${ROOT}/${setup.csv}`)).split("\n")[0];
  const csv = `${setup.scratch}/header-only.csv`;
  await Deno.writeTextFile(`${ROOT}/${csv}`, header + "\n");
  const sink = await startSink(setup, 0);
  const out: StartupFigures[] = [];
  try {
    for (const client of CLIENTS) {
      const run = clientRun(setup, sink, client, 0, 1, 0);
      const f = await runClient(ROOT, { ...run, csv, valid: 0, count: 0 });
      if (f.exitCode !== 0) {
        throw new Error(`${client} with nothing to send exited ${f.exitCode}`);
      }
      out.push({
        client,
        cpuS: Math.round((f.userS + f.sysS) * 100) / 100,
        peakRssMB: Math.round(f.peakRssKb * 1024 / 1e5) / 10,
        wallMs: f.wallMs,
      });
    }
  } finally {
    await sink.close();
  }
  return out;
}

/** Every round at one rate: rounds × concurrencies × clients, interleaved. */
async function roundsAt(setup: Setup, rate: number): Promise<RoundFigures[]> {
  const sink = await startSink(setup, rate);
  const out: RoundFigures[] = [];
  try {
    for (let round = 1; round <= setup.options.rounds; round++) {
      for (const concurrency of setup.options.concurrency) {
        for (const client of CLIENTS) {
          const run = clientRun(setup, sink, client, rate, concurrency, round);
          const figures = await runClient(ROOT, run);
          log(
            `  ${
              (rate * 100).toFixed(0)
            } % 503, c${concurrency}, round ${round}, ${client}: ${
              figures.cpuUsPerRequest.toFixed(1)
            } µs CPU/request, ${figures.requestsPerSecond} req/s, ${
              (figures.peakRssKb / 1000).toFixed(0)
            } MB${
              Object.values(figures.checks).every(Boolean)
                ? ""
                : "  CHECK FAILED"
            }`,
          );
          out.push(figures);
        }
      }
    }
  } finally {
    await sink.close();
  }
  return out;
}

/** The importer's peak RSS per file size: a full run, then a resumed one. */
async function rssRuns(setup: Setup): Promise<RssFigures[]> {
  const sink = await startSink(setup, 0);
  const out: RssFigures[] = [];
  try {
    for (const rows of setup.options.rssRows) {
      const csv = await ensureCsv(
        ROOT,
        setup.options.out,
        rows,
        setup.options.seed,
      );
      const stateDir = `${setup.scratch}/rss-${rows}`;
      const once = (resume: boolean) =>
        runImporterOnce(ROOT, {
          sink,
          flags: clientFlags(setup.task, sink.port, []),
          csv: rel(csv.path),
          concurrency: setup.defaults.concurrency,
          stateDir,
          resume,
          state: setup.state,
        });
      const fresh = await once(false);
      const resumed = await once(true);
      log(
        `  RSS ${rows} rows: ${fresh.peakRssMB} MB fresh, ${resumed.peakRssMB} MB resumed`,
      );
      out.push({ rows, fresh, resumed });
    }
  } finally {
    await sink.close();
  }
  return out;
}

/**
 * Checks the importer starts and still takes the flags the benchmark gives
 * it; returns its resume-state flag.
 */
async function checkImporterFlags(): Promise<StateFlag> {
  const help = await runPlain(DENO, ["run", "-A", "main.ts", "--help"], ROOT);
  if (help.code !== 0) {
    const why = help.stderr.trim();
    fail(
      `the importer does not start (main.ts --help exited ${help.code}): ${
        why.split("\n")[0]
      }`,
    );
  }
  const args = importerArgs({
    csv: "x.csv",
    url: "http://127.0.0.1:1/movies",
    concurrency: 1,
    stateDir: "x",
    resume: false,
    state: stateFlagOf(help.stdout),
  });
  const unknown = unknownFlags(help.stdout, args);
  if (unknown.length > 0) {
    fail(
      `the importer's --help no longer lists ${
        unknown.join(", ")
      }: update importerArgs in bench/_importer.ts`,
    );
  }
  return stateFlagOf(help.stdout);
}

/**
 * Runs the benchmark and returns its results (also written to
 * `options.out/latest.json`).
 *
 * @example
 * ```ts ignore
 * import { parseBenchArgs, runBench } from "./run.ts";
 * const results = await runBench(parseBenchArgs(["--quick"]));
 * console.log(results.summary.map((s) => s.cpuVsFetch));
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  if (!hasGnuTime()) {
    fail("needs GNU time at /usr/bin/time (apt-get install time)");
  }
  const started = new Date();
  const loadStart = Deno.loadavg();
  // Both exit on a mismatch, so before the scratch folder exists.
  rel(`${options.out}/latest.json`);
  const state = await checkImporterFlags();
  await Deno.mkdir(options.out, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: options.out, prefix: "tmp-" });
  try {
    const task = parseImportTask(await readImportTask(ROOT));
    const csv = await ensureCsv(ROOT, options.out, options.rows, options.seed);
    const bodies = await dryRunBodies(ROOT, rel(csv.path), rel(scratch));
    const setup: Setup = {
      options,
      task,
      defaults: importerDefaults(),
      shape: await serviceShape(ROOT),
      csv: rel(csv.path),
      bodies: rel(bodies.path),
      valid: bodies.valid,
      scratch: rel(scratch),
      state,
    };
    log(
      `bench: ${bodies.valid} bodies of ${csv.rows} rows; ${setup.shape.note}`,
    );
    const startup = await startupRuns(setup);
    const rounds: RoundFigures[] = [];
    for (const rate of options.rates) {
      rounds.push(...await roundsAt(setup, rate));
    }
    const rss = options.rssRows.length > 0 ? await rssRuns(setup) : null;
    const finished = new Date();
    const results: BenchResults = {
      tool: "parse-and-post bench",
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      elapsedS: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
      command: `deno task bench ${Deno.args.join(" ")}`.trim(),
      conditions: conditions(setup, bodies.rowsRead, loadStart),
      startup,
      rounds,
      summary: summarise(rounds),
      rss,
      checksPassed: rounds.every((r) => Object.values(r.checks).every(Boolean)),
    };
    await Deno.writeTextFile(
      `${options.out}/latest.json`,
      JSON.stringify(results, null, 2) + "\n",
    );
    return results;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

function conditions(
  setup: Setup,
  rowsRead: number | null,
  loadStart: number[],
): BenchResults["conditions"] {
  const { options } = setup;
  return {
    rows: options.rows,
    rowsRead,
    validRows: setup.valid,
    csv: setup.csv,
    seed: options.seed,
    sinkSeed: options.sinkSeed,
    rates: options.rates,
    concurrency: options.concurrency,
    rounds: options.rounds,
    clients: [...CLIENTS],
    v8Flags: setup.task.v8Flags,
    clientFlags: clientFlags(setup.task, 0, ["--trace-gc"]).map((f) =>
      f.replace(/:0\b/g, ":<port>")
    ),
    undiciEnv: UNDICI_ENV,
    importerArgs: [
      "main.ts",
      ...importerArgs({
        csv: setup.csv,
        url: "http://127.0.0.1:<port>/movies",
        concurrency: options.concurrency[0],
        stateDir: `${setup.scratch}/importer`,
        state: setup.state,
        resume: false,
      }),
    ].join(" "),
    retryPolicy: setup.defaults,
    service: setup.shape,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    cpus: navigator.hardwareConcurrency,
    loadAverage: { start: loadStart, end: Deno.loadavg() },
  };
}

function formatRss(rss: RssFigures[]): string {
  return rss.map((r) =>
    `importer peak RSS, ${
      r.rows.toLocaleString("en-US")
    } rows: ${r.fresh.peakRssMB} MB delivering every row (${r.fresh.requests} requests), ${r.resumed.peakRssMB} MB resumed with everything delivered (${r.resumed.requests} requests)`
  ).join("\n");
}

if (import.meta.main) {
  const options = parseBenchArgs(Deno.args);
  const results = await runBench(options);
  const c = results.conditions;
  console.log(
    `${c.validRows.toLocaleString("en-US")} bodies (${
      c.rows.toLocaleString("en-US")
    } rows) × ${c.rounds} round(s) per client; V8 flags ${
      c.v8Flags.join(",")
    },--trace-gc; ${c.service.note}; load ${
      c.loadAverage.start.map((x) => x.toFixed(2)).join(" ")
    } → ${c.loadAverage.end.map((x) => x.toFixed(2)).join(" ")}\n`,
  );
  console.log(formatTable(results.summary));
  console.log(
    "\n÷ plain fetch / ÷ plain undici: median CPU per request over that loop's (2.00 = twice the CPU per request).",
  );
  console.log(formatShares(results.summary));
  console.log(
    `start-up and exit with nothing to send (included above): ${
      results.startup.map((s) =>
        `${s.client} ${s.cpuS} s CPU, ${s.peakRssMB} MB`
      )
        .join("; ")
    }`,
  );
  if (results.rss) console.log(formatRss(results.rss));
  console.log(`\nresults: ${rel(options.out)}/latest.json`);
  if (!results.checksPassed) {
    console.log("CHECKS FAILED: see rounds[].checks in the JSON");
  }
  Deno.exit(results.checksPassed ? 0 : 1);
}
