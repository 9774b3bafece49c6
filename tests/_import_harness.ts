/** In-process import runs against a fake service, for tests. @module */

import {
  type ImportDeps,
  type ImportOptions,
  type ImportResult,
  runImport,
} from "../lib/importer/run.ts";
import type { Job, SendJob } from "../lib/importer/deliver.ts";
import { createLogger } from "../lib/importer/log.ts";
import type { Report } from "../lib/importer/report.ts";
import type { Attempt } from "../lib/importer/retry.ts";

/** A run's result plus everything it printed and wrote. */
export interface Run extends ImportResult {
  report: Report;
  logs: string[];
  summary: string;
  stdout: string;
  rejects: string;
  dir: string;
}

/** 201 Created, with no body. */
const created: Attempt = {
  kind: "response",
  status: 201,
  body: "",
  retryAfter: null,
};

/**
 * A fake service recording every body and key it was sent, answering each
 * with `answer` (after a microtask, like a real client).
 */
export function recorder(
  answer: (body: string, n: number, job: Job) => Attempt = () => created,
) {
  const sent: string[] = [];
  const keys: string[] = [];
  const send: SendJob = (job, done) => {
    sent.push(job.body);
    keys.push(`${job.key.d0}:${job.key.d1}:${job.key.d2}:${job.key.k}`);
    const attempt = answer(job.body, sent.length, job);
    queueMicrotask(() => done(attempt));
    return () => {};
  };
  return { send, sent, keys };
}

/** Runs an import of `csv` (a path) with its outputs and ledger in a temp folder. */
export async function run(
  csv: string,
  options: Partial<ImportOptions> = {},
  deps: Partial<ImportDeps> & { dir?: string } = {},
): Promise<Run> {
  const dir = deps.dir ?? await Deno.makeTempDir({ prefix: "pp-import-" });
  const logs: string[] = [];
  let summary = "";
  let stdout = "";
  const result = await runImport({
    csvIn: csv,
    urlOut: "http://service.test/movies",
    rejectsPath: `${dir}/rejects.csv`,
    reportPath: `${dir}/report.json`,
    ledgerDir: `${dir}/ledger`,
    ...options,
  }, {
    log: createLogger({
      level: "DEBUG",
      write: (l) => logs.push(l),
      rowWarningsPerSecond: 1e9,
    }),
    send: recorder().send,
    random: () => 0,
    currentYear: 2026,
    stdout: (text) => {
      stdout += text;
      return Promise.resolve();
    },
    summary: (text) => summary = text,
    ...deps,
  });
  const rejectsFile = options.dryRun ? "rejects.dry-run.csv" : "rejects.csv";
  const rejects = await Deno.readTextFile(`${dir}/${rejectsFile}`).catch(() =>
    ""
  );
  return {
    ...result,
    report: result.report!,
    logs,
    summary,
    stdout,
    rejects,
    dir,
  };
}

/** Writes text (or bytes) to a temp CSV file and returns its path. */
export async function csvFile(content: string | Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "pp-", suffix: ".csv" });
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/** The `line` column of a rejects file, as numbers. */
export function rejectedLines(rejects: string): number[] {
  return rejects.trimEnd().split(/\r?\n/).slice(1).map((l) =>
    Number(l.split(/[;,]/)[0])
  );
}
