/** Helpers of the end-to-end tests: the importer as a subprocess against the local service. @module */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import type { Report } from "../lib/importer/report.ts";
import { startSink } from "../lib/sink/server.ts";
import { execute, importerArgs } from "./_subprocess.ts";
import { dryRunBodies } from "./_faults.ts";

export async function readReport(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
}

/** A generated export like backup.csv (defects, blank lines, 4 copies of each movie). */
export async function generated(
  dir: string,
  rows: number,
  seed = 5,
): Promise<string> {
  const path = `${dir}/movies.csv`;
  await Deno.writeFile(
    path,
    generateCsvBytes({ rows, seed, coverAll: true }).bytes,
  );
  return path;
}

/** The bodies a first dry run would send, as the service stores them, sorted (the multiset of valid rows). */
export async function bodiesOf(csv: string): Promise<string[]> {
  return (await dryRunBodies(csv)).sort();
}

/** Imports `csv` at 20 % random 503s and checks every valid row was stored exactly once. */
export async function importOnce(csv: string, dir: string): Promise<Report> {
  const sink = startSink({
    port: 0,
    failRate: 0.2,
    seed: 2026,
    log: false,
    store: true,
  });
  try {
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        csv,
        "--url-out",
        `${sink.url}/movies`,
      ]),
    );
    assert.equal(out.code, 0, out.stderr);
    const report = await readReport(dir);
    const c = report.counts;
    const post = sink.counters().post;
    assert.equal(post["400"] ?? 0, 0, "the service never answered 400");
    assert.equal(
      post["201"],
      c.delivered,
      "service's 201s = summary's delivered",
    );
    assert.ok(
      (post["503"] ?? 0) > c.delivered * 0.15,
      "the 503s really happened",
    );
    assert.equal(c.requests, (post["201"] ?? 0) + (post["503"] ?? 0));
    assert.equal(c.pending + c.refused + c.ambiguous, 0);
    assert.equal(c.delivered + c.invalid, c.rowsRead);
    assert.equal(
      c.headerRows + c.typeRows + c.blankLines + c.rowsRead,
      c.lines,
    );
    const stored = sink.accepted().map((m) => JSON.stringify(m)).sort();
    assert.deepEqual(
      stored,
      await bodiesOf(csv),
      "every valid row stored exactly once, copies included",
    );
    return report;
  } finally {
    await sink.close();
  }
}
