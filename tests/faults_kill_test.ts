/**
 * Fault matrix, sudden ends: the importer killed (-9) at several points, and
 * a second Ctrl-C while requests are in flight. After a rerun to the end no
 * row is lost, and the rows sent twice are only those the service stored
 * while the importer died (at most a few per kill at concurrency 16; none
 * when the service honours the Idempotency-Key).
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import type { Sink } from "../lib/sink/server.ts";
import {
  account,
  assertNoCrash,
  caseDir,
  exportIn,
  importer,
  ledgerKeys,
  readReport,
  restartSink,
  sleep,
  storedBodies,
  waitUntil,
} from "./_faults.ts";

/** The most rows a kill may leave stored but unrecorded, at concurrency 16. */
const PER_KILL = 40;

/**
 * Waits until the service has stored nothing new for `quietMs` (longer
 * than its latency: the requests it had read are finished).
 */
async function settled(sink: Sink, quietMs: number): Promise<void> {
  let last = -1;
  while (sink.accepted().length !== last) {
    last = sink.accepted().length;
    await sleep(quietMs);
  }
}

/** Rows the service holds (stored or answered from the key) beyond what the ledger records. */
async function unrecorded(
  sink: Sink,
  ledgerDir: string,
  quietMs = 150,
): Promise<number> {
  await settled(sink, quietMs);
  return sink.accepted().length + sink.counters().replayed -
    await ledgerKeys(ledgerDir);
}

/**
 * Kills the importer with SIGKILL once the service has stored 20 %, 50 %
 * and 80 % of the rows (each kill a new run resuming from the ledger),
 * then runs it to the end. Returns the rows each kill left unrecorded and
 * the final accounting.
 */
async function killChain(idempotency: boolean) {
  const sink = startSink({
    port: 0,
    failRate: 0.1,
    seed: 17,
    log: false,
    store: true,
    idempotency,
  });
  const dir = await caseDir();
  try {
    const { csv, expected } = await exportIn(dir, { rows: 1600, seed: 31 });
    const extra = ["--csv-in", csv, "--url-out", `${sink.url}/movies`];
    const perKill: number[] = [];
    let before = 0;
    for (const share of [0.2, 0.5, 0.8]) {
      const target = Math.ceil(expected.length * share);
      const run = importer(dir, sink.port, [...extra, "--concurrency", "16"]);
      await waitUntil(
        () => sink.accepted().length >= target,
        `${target} rows stored`,
      );
      run.kill("SIGKILL");
      const out = await run.done;
      assert.notEqual(out.code, 0, "killed before the end");
      const now = await unrecorded(sink, `${dir}/ledger`);
      perKill.push(now - before);
      before = now;
    }
    const last = await importer(dir, sink.port, extra).done;
    assert.equal(last.code, 0, last.stderr);
    assertNoCrash(last.stderr);
    const report = await readReport(dir);
    assert.equal(report.counts.pending + report.counts.refused, 0);
    const result = account(storedBodies(sink), expected);
    return { perKill, result, expected: expected.length, report };
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kill -9 at 20 %, 50 % and 80 %, service ignoring the key: 0 lost, at most 40 duplicates per kill, each one a row stored as the importer died", async () => {
  const { perKill, result, expected } = await killChain(false);
  console.log(
    `kill -9 (key ignored): rows stored but unrecorded per kill ${
      perKill.join(", ")
    }; duplicates after the rerun ${result.duplicates} of ${expected} rows`,
  );
  assert.equal(result.lost, 0, "no row lost");
  for (const n of perKill) {
    assert.ok(n >= 0 && n <= PER_KILL, `${n} unrecorded rows at one kill`);
  }
  assert.equal(
    result.duplicates,
    perKill.reduce((a, b) => a + b, 0),
    "the only duplicates are the rows stored while the importer died",
  );
});

Deno.test("kill -9 at 20 %, 50 % and 80 %, service honouring the Idempotency-Key: 0 lost, 0 duplicates", async () => {
  const { perKill, result, expected } = await killChain(true);
  console.log(
    `kill -9 (idempotency): rows re-sent and answered from the key per kill ${
      perKill.join(", ")
    }; duplicates ${result.duplicates} of ${expected} rows`,
  );
  assert.equal(result.lost, 0, "no row lost");
  assert.equal(result.duplicates, 0, "no row stored twice");
});

Deno.test("a second Ctrl-C while requests are in flight: exit 3 at once, the ledger holds every answered delivery; the rerun: 0 lost, at most 40 duplicates", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0.1,
    seed: 23,
    log: false,
    store: true,
    latencyMs: 400, // the drain outlasts the 40 ms between the two signals
  });
  const sinks = [sink];
  const dir = await caseDir();
  try {
    const { csv, expected } = await exportIn(dir, { rows: 500, seed: 8 });
    const extra = ["--csv-in", csv, "--url-out", `${sink.url}/movies`];
    const run = importer(dir, sink.port, extra);
    await waitUntil(() => sink.accepted().length >= 64, "64 rows stored");
    run.kill("SIGINT");
    await sleep(40);
    run.kill("SIGINT");
    const first = await run.done;
    assert.equal(first.code, 3, first.stderr);
    assert.match(
      first.stderr,
      /second SIGINT: exiting now; the ledger is written/,
    );
    assertNoCrash(first.stderr);
    const left = await unrecorded(sink, `${dir}/ledger`, 600);
    console.log(
      `second Ctrl-C: ${left} rows stored but unrecorded (in flight when it exited)`,
    );
    assert.ok(left >= 0 && left <= PER_KILL, `${left} rows unrecorded`);
    await sink.close();
    sinks.push(await restartSink(sink.port)); // the same service, without the latency
    const second = await importer(dir, sink.port, extra).done;
    assert.equal(second.code, 0, second.stderr);
    const report = await readReport(dir);
    assert.equal(report.counts.pending, 0);
    const result = account(storedBodies(...sinks), expected);
    assert.equal(result.lost, 0, "no row lost");
    assert.equal(
      result.duplicates,
      left,
      "duplicates: only the unrecorded rows",
    );
  } finally {
    for (const s of sinks) await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});
