/** In-process import runs against a fake service, for tests. @module */

import {
  type ImportOptions,
  type ImportResult,
  runImport,
} from "../lib/importer/import.ts";
import { createLogger } from "../lib/importer/log.ts";
import type { Send } from "../lib/importer/post.ts";
import type { Attempt } from "../lib/importer/retry.ts";

/** A run's result plus everything it printed and wrote. */
export interface Run extends ImportResult {
  logs: string[];
  summary: string;
  stdout: string;
  rejects: string;
  dir: string;
}

/** Answers 201 to everything. */
export const accept: Send = () =>
  Promise.resolve({
    kind: "response",
    status: 201,
    body: "",
    retryAfter: null,
  });

/** A fake service recording every body it was sent, answering with `answer`. */
export function recorder(answer: (body: string, n: number) => Attempt = () => ({
  kind: "response",
  status: 201,
  body: "",
  retryAfter: null,
})) {
  const sent: string[] = [];
  const keys: string[] = [];
  const send: Send = (_url, body, key) => {
    sent.push(body);
    keys.push(key);
    return Promise.resolve(answer(body, sent.length));
  };
  return { send, sent, keys };
}

/** Runs an import of `csv` (a path) with outputs in a temp folder. */
export async function run(
  csv: string,
  options: Partial<ImportOptions> = {},
  deps: { send?: Send; signal?: AbortSignal; dir?: string } = {},
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
    journalPath: `${dir}/import.journal`,
    ...options,
  }, {
    log: createLogger({
      level: "DEBUG",
      write: (l) => logs.push(l),
      rowWarningsPerSecond: 1e9,
    }),
    send: deps.send ?? accept,
    signal: deps.signal,
    random: () => 0,
    currentYear: 2026,
    stdout: (text) => {
      stdout += text;
      return Promise.resolve();
    },
    summary: (text) => summary = text,
  });
  const rejects = await Deno.readTextFile(`${dir}/rejects.csv`).catch(() => "");
  return { ...result, logs, summary, stdout, rejects, dir };
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
