/**
 * One measured run of one client against the local service: reset the
 * service, run the client under `/usr/bin/time`, read what the service
 * counted, and turn it into {@link RoundFigures}.
 *
 * @module
 */

import {
  allowEnv,
  importerArgs,
  type ImporterDefaults,
  type StateFlag,
} from "./_importer.ts";
import { RESULT_MARK } from "./_plain.ts";
import { type Measured, runMeasured } from "./_process.ts";
import type { SinkProcess } from "./_sink.ts";
import { type ClientName, round, type RoundFigures } from "./_summary.ts";

const DENO = Deno.execPath();

/** The environment variables undici's Pool reads (its HTTP/1 parser's start). */
export const UNDICI_ENV = ["JEST_WORKER_ID", "UNDICI_NO_WASM_SIMD"];

/** Everything one round of one client needs (paths relative to the root). */
export interface ClientRun {
  client: ClientName;
  rate: number;
  concurrency: number;
  round: number;
  sink: SinkProcess;
  /** `deno run` flags (permissions, V8 flags). */
  flags: string[];
  csv: string;
  bodies: string;
  /** Bodies to deliver (the CSV's valid rows). */
  valid: number;
  /** Plain loops: send only the first N bodies. @default every body */
  count?: number;
  defaults: ImporterDefaults;
  /** The importer's outputs and resume state (emptied first). */
  stateDir: string;
  /** The importer's resume-state flag. */
  state: StateFlag;
}

/**
 * The last result line a plain loop printed on stderr, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultLine } from "./_rounds.ts";
 * assert.deepEqual(resultLine('x\nbench-result {"delivered":3}\n'), { delivered: 3 });
 * assert.equal(resultLine("nothing"), null);
 * ```
 */
export function resultLine(stderr: string): Record<string, unknown> | null {
  const line = stderr.split("\n").reverse().find((l) =>
    l.startsWith(RESULT_MARK)
  );
  return line ? JSON.parse(line.slice(RESULT_MARK.length)) : null;
}

async function emptyDir(root: string, dir: string): Promise<void> {
  await Deno.remove(`${root}/${dir}`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${root}/${dir}`, { recursive: true });
}

/** The client's `deno run` arguments. */
function argsOf(run: ClientRun): string[] {
  const url = `${run.sink.url}/movies`;
  if (run.client === "importer") {
    return [
      "run",
      ...run.flags,
      "main.ts",
      ...importerArgs({
        csv: run.csv,
        url,
        concurrency: run.concurrency,
        stateDir: run.stateDir,
        state: run.state,
        resume: false,
      }),
    ];
  }
  const fetch = run.client === "plain fetch";
  const script = fetch ? "bench/plain_fetch.ts" : "bench/plain_undici.ts";
  const flags = fetch ? run.flags : allowEnv(run.flags, UNDICI_ENV);
  const d = run.defaults;
  return ["run", ...flags, script, "--url", url, "--bodies", run.bodies]
    .concat(["--concurrency", String(run.concurrency)])
    .concat(["--max-retries", String(d.maxRetries)])
    .concat(["--retry-base-ms", String(d.retryBaseMs)])
    .concat(["--retry-cap-ms", String(d.retryCapMs)])
    .concat(run.count === undefined ? [] : ["--count", String(run.count)]);
}

/** Runs `args` with the service reset first; returns what both saw. */
async function measuredAgainst(
  root: string,
  sink: SinkProcess,
  args: string[],
): Promise<{ m: Measured; post: Record<string, number>; serviceCpuS: number }> {
  await sink.reset();
  const cpuBefore = sink.cpuSeconds();
  const m = await runMeasured(DENO, args, root);
  const serviceCpuS = round(sink.cpuSeconds() - cpuBefore, 2);
  return { m, post: await sink.postCounts(), serviceCpuS };
}

async function selfReport(root: string, run: ClientRun, m: Measured) {
  if (run.client !== "importer") return resultLine(m.stderrTail);
  try {
    const report = JSON.parse(
      await Deno.readTextFile(`${root}/${run.stateDir}/report.json`),
    );
    return { elapsedMs: report.elapsedMs, ...report.counts };
  } catch {
    return null;
  }
}

/**
 * One round of one client: its figures and checks.
 *
 * @example
 * ```ts ignore
 * import { runClient } from "./_rounds.ts";
 * const figures = await runClient("/repo", run);
 * console.log(figures.cpuUsPerRequest);
 * ```
 */
export async function runClient(
  root: string,
  run: ClientRun,
): Promise<RoundFigures> {
  await emptyDir(root, run.stateDir);
  const { m, post, serviceCpuS } = await measuredAgainst(
    root,
    run.sink,
    argsOf(run),
  );
  const self = await selfReport(root, run, m);
  if (m.code !== 0) console.error(m.stderrTail.slice(-2000));
  const requests = Object.values(post).reduce((a, b) => a + b, 0);
  const per1k = (n: number) => requests > 0 ? round(n / requests * 1000, 3) : 0;
  return {
    client: run.client,
    rate: run.rate,
    concurrency: run.concurrency,
    round: run.round,
    exitCode: m.code,
    wallMs: Math.round(m.wallMs),
    userS: m.userS,
    sysS: m.sysS,
    requests,
    post,
    serviceCpuS,
    cpuUsPerRequest: requests > 0
      ? round((m.userS + m.sysS) * 1e6 / requests, 1)
      : 0,
    requestsPerSecond: Math.round(requests / (m.wallMs / 1000)),
    peakRssKb: m.peakRssKb,
    gc: m.gc,
    scavengesPer1k: per1k(m.gc.scavenges),
    fullGcsPer1k: per1k(m.gc.fullGcs),
    self,
    checks: {
      exited0: m.code === 0,
      every201: (post["201"] ?? 0) === run.valid,
      no400: (post["400"] ?? 0) === 0,
    },
  };
}

/** One importer run for the memory figures. */
export interface ImporterOnce {
  sink: SinkProcess;
  flags: string[];
  csv: string;
  concurrency: number;
  stateDir: string;
  /** Keep the resume state of the previous run in `stateDir`. */
  resume: boolean;
  state: StateFlag;
}

/**
 * Runs the importer once over `csv` and returns its peak RSS, the requests
 * the service counted, its CPU and wall time.
 *
 * @example
 * ```ts ignore
 * import { runImporterOnce } from "./_rounds.ts";
 * const fresh = await runImporterOnce("/repo", { ...once, resume: false });
 * const resumed = await runImporterOnce("/repo", { ...once, resume: true });
 * ```
 */
export async function runImporterOnce(root: string, run: ImporterOnce) {
  if (!run.resume) await emptyDir(root, run.stateDir);
  const args = [
    "run",
    ...run.flags,
    "main.ts",
    ...importerArgs({
      csv: run.csv,
      url: `${run.sink.url}/movies`,
      concurrency: run.concurrency,
      stateDir: run.stateDir,
      state: run.state,
      resume: run.resume,
    }),
  ];
  const { m, post } = await measuredAgainst(root, run.sink, args);
  if (m.code !== 0) {
    throw new Error(`the importer exited ${m.code}: ${m.stderrTail}`);
  }
  return {
    peakRssMB: round(m.peakRssKb * 1024 / 1e6),
    requests: Object.values(post).reduce((a, b) => a + b, 0),
    cpuS: round(m.userS + m.sysS, 2),
    wallMs: Math.round(m.wallMs),
  };
}
