/**
 * End to end, for real: the importer as a subprocess, the local service in
 * this process, over loopback — with the project's own generated data
 * (always) and the exercise's backup.csv (when it is beside the clone).
 * Set-up mistakes and the operator's outputs are in e2e_setup_test.ts.
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import { execute, importerArgs, ROOT } from "./_subprocess.ts";
import { BACKUP, backupCsv } from "./_shared_data.ts";
import { bodiesOf, generated, importOnce, readReport } from "./_e2e.ts";

Deno.test("a generated export at 20 % random 503s: zero 400s, 201s = delivered, every valid row stored exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  const report = await importOnce(await generated(dir, 7000), dir);
  assert.ok(
    report.counts.invalid > 0 && report.counts.duplicates > 0,
    "the data has defects and copies",
  );
});

backupCsv.test("backup.csv at 20 % random 503s: zero 400s, 201s = delivered, every valid row stored exactly once", async () => {
  const report = await importOnce(
    BACKUP,
    await Deno.makeTempDir({ prefix: "pp-e2e-" }),
  );
  assert.equal(report.counts.delivered, 6447);
  assert.equal(report.counts.invalid, 232);
});

Deno.test("Ctrl-C mid-run: exit 3, reading stops, the rest pending; the rerun sends the rest and no row twice", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0.2,
    seed: 7,
    log: false,
    store: true,
    latencyMs: 2,
  });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const csv = await generated(dir, 4000);
    const args = importerArgs(dir, sink.port, [
      "--csv-in",
      csv,
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
    }).spawn();
    const output = child.output();
    for (let i = 0; i < 600 && (sink.counters().post["201"] ?? 0) < 300; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGINT");
    const first = await output;
    assert.equal(first.code, 3, new TextDecoder().decode(first.stderr));
    const a = await readReport(dir);
    assert.equal(a.end, "interrupted");
    assert.ok(a.notReadFrom !== null, "reading stopped at once");
    assert.equal(
      a.counts.delivered + a.counts.invalid + a.counts.pending,
      a.counts.rowsRead,
    );
    assert.equal(sink.counters().post["201"], a.counts.delivered);
    const second = await execute("deno", args);
    assert.equal(second.code, 0, second.stderr);
    const b = await readReport(dir);
    assert.equal(b.counts.alreadyDelivered, a.counts.delivered);
    const stored = sink.accepted().map((m) => JSON.stringify(m)).sort();
    assert.deepEqual(
      stored,
      await bodiesOf(csv),
      "each valid row stored exactly once over both runs",
    );
  } finally {
    await sink.close();
  }
});

Deno.test("every fault at once (429 + Retry-After, dropped connections, slow answers after storing, a down window): each valid row stored exactly once by a service that honours the key", async () => {
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
    const csv = `${ROOT}/data/sample.csv`;
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        csv,
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
    assert.equal(c.pending + c.refused, 0);
    assert.ok(
      c.ambiguous > 0,
      "slow answers past the timeout are counted as ambiguous",
    );
    assert.equal(
      report.ambiguous.items.length,
      c.ambiguous,
      "with their lines in the report",
    );
    const stored = sink.accepted().map((m) => JSON.stringify(m)).sort();
    assert.deepEqual(
      stored,
      await bodiesOf(csv),
      "stored once per valid row, despite timeouts after storing",
    );
    const post = sink.counters().post;
    for (const status of ["201", "429", "503"]) {
      assert.ok((post[status] ?? 0) > 0, `saw ${status}`);
    }
  } finally {
    await sink.close();
  }
});
