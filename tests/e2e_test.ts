/**
 * End to end, for real: the importer as a subprocess, the local service in
 * this process, over loopback, with the exercise's own backup.csv.
 */
import assert from "node:assert/strict";
import { Papa } from "../lib/importer/_deps.ts";
import { parseJournal } from "../lib/importer/journal.ts";
import type { Report } from "../lib/importer/report.ts";
import { startSink } from "../lib/sink/server.ts";
import { execute, importerArgs, ROOT } from "./_subprocess.ts";
import { BACKUP, backupCsv, skipWithoutBackup } from "./_shared_data.ts";

async function readReport(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
}

async function rejectsLines(dir: string): Promise<number[]> {
  const text = await Deno.readTextFile(`${dir}/rejects.csv`);
  const rows = Papa.parse<string[]>(text.trimEnd(), { delimiter: ";" }).data;
  assert.deepEqual(rows[0].slice(0, 2), ["line", "reason"]);
  return rows.slice(1).map((r) => Number(r[0]));
}

async function journalLines(dir: string): Promise<number[]> {
  const text = await Deno.readTextFile(`${dir}/import.journal`);
  assert.ok(parseJournal(text), "a journal");
  return text.trimEnd().split("\n").slice(1).map(Number);
}

// The exercise's file is beside the clone, not in it: without it, the tests
// that need it are ignored (the reason is printed) and nothing is read.
const backupText = skipWithoutBackup() ? "" : await Deno.readTextFile(BACKUP);
const physical = backupText.split("\n");
if (physical.at(-1) === "") physical.pop();
const blankLines = physical.flatMap((l, i) => l.trim() === "" ? [i + 1] : []);

backupCsv.test("backup.csv at 20 % random 503s: zero 400s, 201s = delivered, every line accounted for once", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0.2,
    seed: 2026,
    log: false,
    store: true,
  });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        BACKUP,
        "--url-out",
        `${sink.url}/movies`,
      ]),
    );
    assert.equal(out.code, 0, out.stderr);
    const report = await readReport(dir);
    const c = report.counts;
    const counters = sink.counters();
    assert.equal(
      counters.post["400"] ?? 0,
      0,
      "the service never answered 400",
    );
    assert.equal(
      counters.post["201"],
      c.delivered,
      "service's 201s = summary's delivered",
    );
    assert.equal(sink.accepted().length, c.delivered);
    assert.ok(
      (counters.post["503"] ?? 0) > c.delivered * 0.15,
      "the 503s really happened",
    );
    assert.equal(
      c.requests,
      (counters.post["201"] ?? 0) + (counters.post["503"] ?? 0),
    );
    assert.equal(c.failed + c.refused + c.notReached, 0);
    assert.equal(c.lines, physical.length);
    assert.equal(c.blankLines, blankLines.length);
    assert.equal(
      c.headerRows + c.blankLines + c.delivered + c.invalid,
      physical.length,
    );
    // Each line is in exactly one place: header, blank, delivered (journal) or rejects.
    const delivered = await journalLines(dir);
    const rejected = await rejectsLines(dir);
    assert.equal(delivered.length, c.delivered);
    assert.equal(rejected.length, c.invalid);
    const all = [1, ...blankLines, ...delivered, ...rejected].sort((a, b) =>
      a - b
    );
    assert.deepEqual(all, physical.map((_, i) => i + 1));
    // The rejects file keeps each rejected line's original fields.
    const rejects = Papa.parse<string[]>(
      (await Deno.readTextFile(`${dir}/rejects.csv`)).trimEnd(),
      {
        delimiter: ";",
      },
    ).data.slice(1);
    for (const row of rejects.slice(0, 50)) {
      const original =
        Papa.parse<string[]>(physical[Number(row[0]) - 1], { delimiter: ";" })
          .data[0];
      assert.deepEqual(row.slice(2), original);
    }
    assert.match(out.stderr, /delivered\s+\d+/);
  } finally {
    await sink.close();
  }
});

backupCsv.test("Ctrl-C mid-run: exit 3, rows not reached counted; the rerun resumes and no row is sent twice", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0.2,
    seed: 7,
    log: false,
    latencyMs: 2,
  });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const args = importerArgs(dir, sink.port, [
      "--csv-in",
      BACKUP,
      "--url-out",
      `${sink.url}/movies`,
      "--concurrency",
      "4",
    ]);
    const child = new Deno.Command("deno", {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    })
      .spawn();
    const output = child.output();
    for (let i = 0; i < 600 && (sink.counters().post["201"] ?? 0) < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGINT");
    const first = await output;
    const stderr = new TextDecoder().decode(first.stderr);
    assert.equal(first.code, 3, stderr);
    const a = await readReport(dir);
    assert.equal(a.end, "interrupted");
    assert.ok(a.counts.notReached > 0);
    assert.equal(
      a.counts.delivered + a.counts.invalid + a.counts.notReached,
      a.counts.rowsRead,
    );
    assert.equal(
      a.counts.rowsRead + a.counts.blankLines + a.counts.headerRows,
      physical.length,
    );
    assert.equal(sink.counters().post["201"], a.counts.delivered);

    const second = await execute("deno", args);
    assert.equal(second.code, 0, second.stderr);
    const b = await readReport(dir);
    assert.equal(b.counts.alreadyDelivered, a.counts.delivered);
    assert.equal(
      sink.counters().post["201"],
      a.counts.delivered + b.counts.delivered,
      "each valid row was accepted exactly once over both runs",
    );
    assert.equal(
      a.counts.delivered + b.counts.delivered + b.counts.invalid,
      b.counts.rowsRead,
    );
  } finally {
    await sink.close();
  }
});

Deno.test("service not running: a clear failure, no stack trace, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // a port nobody listens on
  const csv = `${ROOT}/data/sample.csv`;
  const out = await execute(
    "deno",
    importerArgs(dir, port, [
      "--csv-in",
      csv,
      "--url-out",
      `http://127.0.0.1:${port}/movies`,
      "--give-up",
      "1s",
    ]),
  );
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /gave up: no answer from the service for \d+ s \(last error: connection refused\)/,
  );
  assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");
  const report = await readReport(dir);
  assert.equal(report.end, "gave_up");
  assert.equal(report.counts.delivered, 0);
});

Deno.test("a host outside the permissions: one line naming the flag, exit 2, nothing sent", async () => {
  const sink = startSink({ port: 0, failRate: 0, log: false });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const args = importerArgs(dir, null, [
      "--csv-in",
      `${ROOT}/data/sample.csv`,
      "--url-out",
      `${sink.url}/movies`,
    ]);
    const out = await execute("deno", [
      "run",
      "--allow-net=127.0.0.1:1",
      ...args.slice(1),
    ]);
    assert.equal(out.code, 2);
    const lines = out.stderr.trim().split("\n");
    assert.equal(lines.length, 1, out.stderr);
    assert.match(
      lines[0],
      new RegExp(`run with --allow-net=127\\.0\\.0\\.1:${sink.port}`),
    );
    assert.deepEqual(sink.counters().post, {});
  } finally {
    await sink.close();
  }
});

Deno.test("bad settings: one line naming the setting and the value, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  const out = await execute(
    "deno",
    importerArgs(dir, null, ["--concurrency", "lots"]),
  );
  assert.equal(out.code, 2);
  assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  assert.match(out.stderr, /concurrency.*lots/i);
});

Deno.test("every fault at once (429 + Retry-After, dropped connections, slow answers after storing, a down window): each valid row stored exactly once", async () => {
  const sink = startSink({
    port: 0,
    seed: 11,
    log: false,
    store: true,
    idempotency: true,
    failRate: 0.1,
    rate429: 0.1,
    retryAfterSeconds: 1,
    dropRate: 0.1,
    slowRate: 0.05,
    slowMs: 400,
    downAfter: 100,
    downSeconds: 1,
  });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        `${ROOT}/data/sample.csv`,
        "--url-out",
        `${sink.url}/movies`,
        "--timeout",
        "150ms",
        "--retry-cap",
        "500ms",
        "--max-retries",
        "25",
      ]),
    );
    assert.equal(out.code, 0, out.stderr);
    const report = await readReport(dir);
    const c = report.counts;
    assert.equal(c.failed + c.refused + c.notReached, 0);
    assert.equal(
      sink.accepted().length,
      c.delivered,
      "stored once per delivered row, despite timeouts after storing",
    );
    assert.equal(sink.counters().post["400"] ?? 0, 0);
    const post = sink.counters().post;
    for (const status of ["201", "429", "503"]) {
      assert.ok((post[status] ?? 0) > 0, `saw ${status}`);
    }
    assert.ok(c.retries > 0);
  } finally {
    await sink.close();
  }
});
