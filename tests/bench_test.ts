/**
 * The benchmark: its pure parts (GNU time's output, V8's `--trace-gc`
 * lines, the median, the summary, the plain loop's retries), and
 * `bench/run.ts --quick` as a subprocess (a few thousand rows, one round,
 * both 503 rates), whose JSON is checked for structure and sane values.
 * No speed is asserted: the machine's speed is not the test's business.
 */
import assert from "node:assert/strict";
import {
  countGc,
  GcCounter,
  gcKind,
  parseTimeOutput,
} from "../bench/_process.ts";
import { median, type RoundFigures, summarise } from "../bench/_summary.ts";
import { runPlainLoop } from "../bench/_plain.ts";
import {
  allowEnv,
  clientFlags,
  importerArgs,
  parseImportTask,
  unknownFlags,
} from "../bench/_importer.ts";
import { shapeFromHelp } from "../bench/_shape.ts";
import type { BenchResults } from "../bench/run.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Captured from `deno run --v8-flags=…,--trace-gc` (Deno 2.9.6, V8 15.0): a
 * small script's first collections, then two lines of an importer run. */
const TRACE_SAMPLE =
  `[8169:0x55b77b187000]       35 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, pooled: 0.0 MB, 2.21 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; 
[8169:0x55b77b187000]       48 ms: Scavenge 3.3 (5.4) -> 3.3 (6.4) MB, pooled: 0.0 MB, 13.09 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; 
[8169:0x55b77b187000]      218 ms: Incremental Mark-Compact 38.4 (43.5) -> 11.1 (19.1) MB, pooled: 22.8 MB, 4.74 / 0.00 ms (+ 4.7 ms in 93 steps since start of marking, biggest step 0.3 ms, walltime since start of marking 22 ms) (average mu = 0.957, current mu = 0.957) finalize incremental marking via stack guard; GC in old space requested
[8169:0x55b77b187000]      230 ms: Scavenge (during sweeping) 16.0 (19.7) -> 15.6 (23.0) MB, pooled: 19.2 MB, 7.73 / 0.00 ms (average mu = 0.957, current mu = 0.957) allocation failure; 
done
[29618:0x563891810000]      493 ms: Incremental Mark-Compact 18.5 (25.8) -> 12.8 (25.8) MB, pooled: 0.0 MB, 1.95 / 0.00 ms (+ 7.5 ms in 152 steps since start of marking, biggest step 0.2 ms, walltime since start of marking 13 ms) (average mu = 0.981, current mu = 0.981) finalize incremental marking via task; GC in old space requested
[29618:0x563891810000]     6045 ms: Scavenge (during sweeping) 18.3 (30.9) -> 15.4 (30.9) MB, pooled: 2.5 MB, 1.46 / 0.00 ms (average mu = 0.930, current mu = 0.908) allocation failure; 
`;

Deno.test("countGc counts scavenges and full collections of a captured --trace-gc sample", () => {
  assert.deepEqual(countGc(TRACE_SAMPLE), {
    scavenges: 4,
    fullGcs: 2,
    other: 0,
  });
  assert.deepEqual(countGc("no trace here\n"), {
    scavenges: 0,
    fullGcs: 0,
    other: 0,
  });
});

Deno.test("GcCounter gives the same counts whatever the chunks' boundaries", () => {
  for (const size of [1, 7, 64, 1000]) {
    const counter = new GcCounter();
    for (let i = 0; i < TRACE_SAMPLE.length; i += size) {
      counter.push(TRACE_SAMPLE.slice(i, i + size));
    }
    assert.deepEqual(counter.end(), countGc(TRACE_SAMPLE), `chunks of ${size}`);
  }
});

Deno.test("gcKind names young and full collections", () => {
  assert.equal(gcKind("Scavenge"), "scavenges");
  assert.equal(gcKind("Minor Mark-Sweep"), "scavenges");
  assert.equal(gcKind("Mark-Compact"), "fullGcs");
  assert.equal(gcKind("Incremental Mark-Compact (start)"), "fullGcs");
  assert.equal(gcKind("Mark-Sweep"), "fullGcs");
  assert.equal(gcKind("Memory reducer: started GC #"), "other");
});

Deno.test("parseTimeOutput reads GNU time's -f '%U %S %M' in each form", () => {
  assert.deepEqual(parseTimeOutput("3.41 0.52 106112\n"), {
    userS: 3.41,
    sysS: 0.52,
    maxRssKb: 106112,
    exitStatus: null,
    signal: null,
  });
  const exited = parseTimeOutput(
    "Command exited with non-zero status 3\n0.10 0.02 40100\n",
  );
  assert.equal(exited?.exitStatus, 3);
  assert.equal(exited?.maxRssKb, 40100);
  const killed = parseTimeOutput(
    "Command terminated by signal 9\n0.00 0.01 2048\n",
  );
  assert.equal(killed?.signal, 9);
  assert.equal(parseTimeOutput(""), null);
  assert.equal(parseTimeOutput("0.1 0.2\n"), null);
  assert.equal(parseTimeOutput("a b c\n"), null);
});

Deno.test("median of odd, even, unsorted and single lists", () => {
  assert.equal(median([5]), 5);
  assert.equal(median([9, 1, 5]), 5);
  assert.equal(median([1, 2, 3, 10]), 2.5);
  assert.equal(median([2, 2, 1, 100, 3]), 2);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("summarise: min and median per client, ratios to the plain loops' medians", () => {
  const r = (client: RoundFigures["client"], cpu: number, rps: number) =>
    ({
      client,
      rate: 0.2,
      concurrency: 16,
      cpuUsPerRequest: cpu,
      requestsPerSecond: rps,
      scavengesPer1k: 2,
      fullGcsPer1k: 0.1,
      peakRssKb: 100_000,
    }) as RoundFigures;
  const rounds = [
    r("importer", 110, 9000),
    r("plain fetch", 40, 20000),
    r("plain undici", 30, 24000),
    r("importer", 100, 10000),
    r("plain fetch", 50, 22000),
    r("plain undici", 34, 26000),
    r("importer", 74, 11000),
    r("plain fetch", 45, 21000),
    r("plain undici", 32, 25000),
  ];
  const [imp, fetch, undici] = summarise(rounds);
  assert.deepEqual(
    [imp.client, fetch.client, undici.client],
    ["importer", "plain fetch", "plain undici"],
  );
  assert.deepEqual(imp.cpuUsPerRequest, { min: 74, median: 100 });
  assert.equal(imp.rounds, 3);
  assert.equal(imp.cpuVsFetch, round2(100 / 45));
  assert.equal(imp.cpuVsUndici, round2(100 / 32));
  assert.equal(imp.requestsPerSecondVsFetch, round2(10000 / 21000));
  assert.equal(fetch.cpuVsFetch, 1);
  assert.equal(imp.peakRssMB.median, 102.4);
});

const round2 = (x: number) => Math.round(x * 100) / 100;

Deno.test("runPlainLoop retries 503s with backoff and never exceeds its concurrency", async () => {
  let inFlight = 0;
  let most = 0;
  const seen = new Map<number, number>();
  const result = await runPlainLoop((i, done) => {
    inFlight++;
    most = Math.max(most, inFlight);
    const n = (seen.get(i) ?? 0) + 1;
    seen.set(i, n);
    setTimeout(() => {
      inFlight--;
      done(i % 4 === 0 && n <= 2 ? 503 : i === 7 ? 400 : 201);
    }, 0);
  }, { count: 20, concurrency: 3, baseMs: 1, capMs: 2 });
  assert.equal(most, 3);
  assert.equal(result.refused, 1);
  assert.equal(result.delivered, 19);
  assert.equal(result.retries, 5 * 2);
  assert.equal(result.requests, 20 + 10);
  assert.equal(result.statuses["503"], 10);
});

Deno.test("runPlainLoop gives up after maxRetries", async () => {
  const result = await runPlainLoop(
    (_i, done) => queueMicrotask(() => done(0)),
    {
      count: 2,
      maxRetries: 3,
      baseMs: 0,
    },
  );
  assert.equal(result.failed, 2);
  assert.equal(result.requests, 2 * 4);
});

Deno.test("the import task's flags reach every client, with the service's port and --trace-gc", () => {
  const task = parseImportTask(
    "deno run --allow-read=. --allow-net=localhost:9009,127.0.0.1:9009 --allow-env=CSV_IN --v8-flags=--max-semi-space-size=4,--max-old-space-size=256 main.ts",
  );
  assert.deepEqual(task.v8Flags, [
    "--max-semi-space-size=4",
    "--max-old-space-size=256",
  ]);
  const flags = clientFlags(task, 5555, ["--trace-gc"]);
  assert.deepEqual(flags, [
    "--allow-read=.",
    "--allow-net=localhost:5555,127.0.0.1:5555",
    "--allow-env=CSV_IN",
    "--v8-flags=--max-semi-space-size=4,--max-old-space-size=256,--trace-gc",
  ]);
  assert.deepEqual(allowEnv(flags, ["X"])[2], "--allow-env=CSV_IN,X");
  assert.throws(() => parseImportTask("deno task other"));
});

Deno.test("importerArgs: the ledger (or an older importer's journal) in the round's folder, --fresh unless resuming", () => {
  const run = {
    csv: "out/bench/a.csv",
    url: "http://127.0.0.1:1/movies",
    concurrency: 8,
    stateDir: "out/bench/tmp/importer",
    resume: false,
    state: "--ledger-dir" as const,
  };
  const fresh = importerArgs(run);
  assert.deepEqual(
    fresh.slice(
      fresh.indexOf("--ledger-dir"),
      fresh.indexOf("--ledger-dir") + 2,
    ),
    ["--ledger-dir", `${run.stateDir}/ledger`],
  );
  const older = importerArgs({ ...run, state: "--journal" });
  assert.ok(older.includes(`${run.stateDir}/import.journal`));
  assert.ok(!older.includes("--ledger-dir"));
  assert.equal(fresh[0], run.csv);
  assert.ok(fresh.includes("--fresh"));
  assert.ok(fresh.includes(`${run.stateDir}/report.json`));
  assert.ok(!importerArgs({ ...run, resume: true }).includes("--fresh"));
  assert.deepEqual(unknownFlags("--url-out --fresh", ["--url-out", "--nope"]), [
    "--nope",
  ]);
});

Deno.test("shapeFromHelp passes the real service's 2 s timeouts that the sink's help lists, and names the others", () => {
  const help = [
    "  --read-timeout <duration>   Go's ReadTimeout (default: 2s, env: SINK_READ_TIMEOUT)",
    "  --idle-timeout <duration>   Go's IdleTimeout (default: the read timeout)",
    "  --seed <seed>               seed",
  ].join("\n");
  const shape = shapeFromHelp(help);
  assert.deepEqual(shape.args, [
    "--read-timeout",
    "2s",
    "--idle-timeout",
    "2s",
  ]);
  assert.match(shape.note, /no --write-timeout/);
  const none = shapeFromHelp("  --seed <seed>");
  assert.deepEqual(none.args, []);
  assert.match(none.note, /--idle-timeout/);
});

function positive(value: unknown, what: string): number {
  assert.equal(typeof value, "number", `${what} is a number`);
  const n = value as number;
  assert.ok(Number.isFinite(n) && n > 0, `${what} is finite and > 0: ${n}`);
  return n;
}

Deno.test("bench/run.ts --quick measures every client and writes latest.json", async () => {
  const out = `out/bench-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      // One rate (the 503s included) keeps the test short; the figures are not its point.
      args: [
        "run",
        "-A",
        "bench/run.ts",
        "--quick",
        "--rates",
        "0.2",
        "--rows",
        "1500",
        "--out",
        out,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    assert.equal(run.code, 0, text(run.stderr) + text(run.stdout));
    assert.match(text(run.stdout), /CPU µs\/request min \/ median/);

    const results: BenchResults = JSON.parse(
      await Deno.readTextFile(`${ROOT}/${out}/latest.json`),
    );
    const c = results.conditions;
    assert.ok(results.checksPassed);
    assert.deepEqual(c.rates, [0.2]);
    assert.equal(c.rounds, 1);
    assert.ok(c.rows <= 5000);
    positive(c.validRows, "bodies per round");
    assert.ok(c.v8Flags.length > 0, "the import task's V8 flags");
    assert.ok(c.clientFlags.some((f) => f.includes("--trace-gc")));
    assert.equal(c.deno, Deno.version.deno);
    assert.equal(c.loadAverage.start.length, 3);

    assert.equal(results.rounds.length, 3);
    for (const r of results.rounds) {
      const what = `${r.client} at ${r.rate}`;
      for (const [name, ok] of Object.entries(r.checks)) {
        assert.ok(ok, `${what}: ${name}`);
      }
      positive(r.requests, `${what} requests counted by the service`);
      assert.equal(r.post["201"], c.validRows, `${what}: every body stored`);
      if (r.rate > 0) positive(r.post["503"], `${what} 503s`);
      positive(r.cpuUsPerRequest, `${what} CPU per request`);
      positive(r.requestsPerSecond, `${what} requests/s`);
      positive(r.peakRssKb, `${what} peak RSS`);
      positive(r.wallMs, `${what} wall time`);
      positive(r.gc.scavenges, `${what} scavenges (the trace was read)`);
    }

    assert.equal(results.summary.length, 3);
    for (const s of results.summary) {
      const what = `${s.client} at ${s.rate}`;
      positive(s.cpuUsPerRequest.min, `${what} min CPU/request`);
      assert.ok(s.cpuUsPerRequest.min <= s.cpuUsPerRequest.median);
      positive(s.cpuVsFetch, `${what} ÷ plain fetch`);
      positive(s.cpuVsUndici, `${what} ÷ plain undici`);
      positive(s.requestsPerSecondVsFetch, `${what} requests/s ÷ plain fetch`);
      positive(
        s.requestsPerSecondVsUndici,
        `${what} requests/s ÷ plain undici`,
      );
      positive(s.peakRssMB.median, `${what} peak RSS`);
      if (s.client === "plain fetch") assert.equal(s.cpuVsFetch, 1);
    }
    assert.equal(results.rss, null);
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});
