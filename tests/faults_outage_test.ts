/**
 * Fault matrix, the service refusing or going away: every row refused
 * (STOP_ON_ERRORS), 503s for a while, and the service stopped and started
 * again on the same port, for less and for more than `--give-up`.
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import {
  account,
  assertNoCrash,
  caseDir,
  exportIn,
  importer,
  readReport,
  restartSink,
  sleep,
  storedBodies,
  waitUntil,
  writeExport,
} from "./_faults.ts";

/**
 * Many short retries: a row's retries outlast a few seconds' outage by far
 * (about 100 × 150 ms), and the backoff is short once it is over.
 */
const RETRIES = ["--max-retries", "100", "--retry-cap", "300ms"];

Deno.test("STOP_ON_ERRORS with every row refused (a service answering 400): stops within 2 × concurrency requests beyond the limit, exit 3, refused rows in the rejects file, the rest pending", async () => {
  let requests = 0;
  const stub = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      requests++;
      await request.body?.cancel();
      return new Response("title is required\n", { status: 400 });
    },
  );
  const dir = await caseDir();
  try {
    const csv = `${dir}/movies.csv`;
    await writeExport(csv, { rows: 2000, seed: 3 });
    const limit = 50, concurrency = 16;
    const out = await importer(dir, stub.addr.port, [
      "--csv-in",
      csv,
      "--url-out",
      `http://127.0.0.1:${stub.addr.port}/movies`,
      "--stop-on-errors",
      String(limit),
      "--concurrency",
      String(concurrency),
    ]).done;
    assert.equal(out.code, 3, out.stderr);
    assertNoCrash(out.stderr);
    assert.match(out.stderr, /STOP_ON_ERRORS=50 reached: stopping/);
    const report = await readReport(dir);
    const c = report.counts;
    assert.equal(report.end, "stopped_on_errors");
    assert.equal(c.requests, requests, "the report counts every request");
    assert.ok(
      requests <= limit + 2 * concurrency,
      `${requests} requests for a limit of ${limit}`,
    );
    assert.ok(c.refused + c.invalid >= limit);
    assert.equal(c.delivered, 0);
    assert.equal(
      c.refused + c.invalid + c.pending + c.alreadyDelivered,
      c.rowsRead,
      "every row read counted once",
    );
    const rejects = (await Deno.readTextFile(`${dir}/rejects.csv`)).trimEnd()
      .split("\n");
    assert.equal(rejects.length - 1, c.refused + c.invalid);
    assert.equal(
      rejects.filter((l) => l.includes("service refused it")).length,
      c.refused,
    );
  } finally {
    await stub.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the service answering 503 to everything for 2 s mid-run (--give-up 1s: 503s are answers, not silence): no give-up, every row delivered once", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0,
    log: false,
    store: true,
    downAfter: 300,
    downSeconds: 2,
  });
  const dir = await caseDir();
  try {
    const { csv, expected } = await exportIn(dir, { rows: 1000, seed: 27 });
    const out = await importer(dir, sink.port, [
      "--csv-in",
      csv,
      "--url-out",
      `${sink.url}/movies`,
      "--give-up",
      "1s",
      ...RETRIES,
    ]).done;
    assert.equal(out.code, 0, out.stderr);
    assert.ok((sink.counters().post["503"] ?? 0) > 16, "the outage happened");
    assert.deepEqual(
      account(storedBodies(sink), expected),
      { stored: expected.length, lost: 0, duplicates: 0 },
    );
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Imports while the service is stopped once ~30 % is stored and started
 * again `downMs` later on the same port, with `--give-up giveUp`.
 */
async function outage(downMs: number, giveUp: string) {
  const first = startSink({ port: 0, failRate: 0, log: false, store: true });
  const port = first.port;
  const sinks = [first];
  const dir = await caseDir();
  try {
    const { csv, expected } = await exportIn(dir, { rows: 2000, seed: 33 });
    const extra = [
      "--csv-in",
      csv,
      "--url-out",
      `${first.url}/movies`,
      "--give-up",
      giveUp,
      ...RETRIES,
    ];
    const run = importer(dir, port, extra);
    await waitUntil(
      () => first.accepted().length >= expected.length * 0.3,
      "30 % stored",
    );
    await first.close();
    const down = sleep(downMs).then(async () =>
      sinks.push(await restartSink(port))
    );
    const out = await run.done;
    await down;
    const report = await readReport(dir);
    return { out, report, expected, sinks, dir, extra, port };
  } catch (error) {
    for (const s of sinks) await s.close();
    throw error;
  }
}

Deno.test("the service stopped for 1.5 s and started again on the same port (--give-up 5s): no give-up, 0 lost, each duplicate an ambiguous row", async () => {
  const { out, report, expected, sinks, dir } = await outage(1500, "5s");
  try {
    assert.equal(out.code, 0, out.stderr);
    assertNoCrash(out.stderr);
    assert.equal(report.counts.pending + report.counts.refused, 0);
    assert.ok(report.counts.retries > 0, "requests failed while it was down");
    assert.ok(sinks.length === 2 && sinks[1].accepted().length > 0);
    const result = account(storedBodies(...sinks), expected);
    console.log(
      `service restarted: ${report.counts.ambiguous} ambiguous rows, ${result.duplicates} duplicates`,
    );
    assert.equal(result.lost, 0, "no row lost");
    assert.ok(
      result.duplicates <= report.counts.ambiguous,
      `${result.duplicates} duplicates, ${report.counts.ambiguous} ambiguous rows`,
    );
  } finally {
    for (const s of sinks) await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the service stopped for longer than --give-up (1s): gives up, exit 1, rows pending not rejected; the rerun once it is back: 0 lost", async () => {
  const { out, report, expected, sinks, dir, extra, port } = await outage(
    2500,
    "1s",
  );
  try {
    assert.equal(out.code, 1, out.stderr);
    assertNoCrash(out.stderr);
    assert.match(out.stderr, /gave up: every request has failed for \d+ s/);
    const c = report.counts;
    assert.equal(report.end, "gave_up");
    assert.ok(c.pending > 0, "rows pending");
    assert.equal(
      c.delivered + c.invalid + c.pending + c.refused + c.alreadyDelivered,
      c.rowsRead,
      "every row read is counted once (delivered, rejected or pending)",
    );
    assert.equal(c.refused, 0, "none rejected");
    const rejects = (await Deno.readTextFile(`${dir}/rejects.csv`)).trimEnd()
      .split("\n");
    assert.equal(rejects.length - 1, c.invalid, "only invalid rows rejected");
    const again = await importer(dir, port, extra).done;
    assert.equal(again.code, 0, again.stderr);
    const result = account(storedBodies(...sinks), expected);
    console.log(
      `gave up: ${c.pending} pending, ${c.ambiguous} ambiguous; after the rerun ${result.duplicates} duplicates`,
    );
    assert.equal(result.lost, 0, "no row lost");
    assert.ok(
      result.duplicates <= c.ambiguous,
      `${result.duplicates} duplicates, ${c.ambiguous} ambiguous rows`,
    );
  } finally {
    for (const s of sinks) await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});
