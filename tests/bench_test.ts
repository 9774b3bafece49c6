/**
 * The end-to-end benchmark's smoke test: `bench/run.ts --quick` as a
 * subprocess (tiny files, one concurrency, both 503 rates), then the JSON
 * it wrote is checked for every figure and every cross-check. No speed is
 * asserted: the machine's speed is not the test's business.
 */
import assert from "node:assert/strict";
import type { BenchResults } from "../bench/run.ts";
import { execute, ROOT } from "./_subprocess.ts";

function finite(value: unknown, what: string): number {
  assert.equal(typeof value, "number", `${what} is a number`);
  assert.ok(Number.isFinite(value as number), `${what} is finite: ${value}`);
  return value as number;
}

function positive(value: unknown, what: string): number {
  const n = finite(value, what);
  assert.ok(n > 0, `${what} is positive: ${n}`);
  return n;
}

function latency(l: { p50: number; p99: number; max: number }, what: string) {
  positive(l.p50, `${what} p50`);
  positive(l.p99, `${what} p99`);
  positive(l.max, `${what} max`);
  assert.ok(l.p99 >= l.p50, `${what} p99 ≥ p50`);
}

Deno.test("bench/run.ts --quick writes every figure, and the service's 201s match every run", async () => {
  const out = `out/bench-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const run = await execute(Deno.execPath(), [
      "run",
      "-A",
      "bench/run.ts",
      "--quick",
      "--out",
      out,
    ]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /imp deliv\/s/);

    const results: BenchResults = JSON.parse(
      await Deno.readTextFile(`${ROOT}/${out}/latest.json`),
    );
    const stamped = [...Deno.readDirSync(`${ROOT}/${out}`)]
      .filter((e) => /^results-.*\.json$/.test(e.name));
    assert.equal(stamped.length, 1);

    assert.ok(results.checksPassed);
    assert.deepEqual(results.options.rates, [0, 0.2]);
    assert.equal(results.options.concurrency.length, 1);
    const [concurrency] = results.options.concurrency;
    assert.equal(results.defaultConcurrency.value, concurrency);
    assert.ok(results.importerFlags.some((f) => f.startsWith("--v8-flags=")));

    // Two curve runs and two large runs, one per rate.
    assert.equal(results.runs.length, 4);
    for (const phase of ["curve", "large"] as const) {
      const rates = results.runs.filter((r) => r.phase === phase)
        .map((r) => r.rate).sort();
      assert.deepEqual(rates, [0, 0.2], phase);
    }
    for (const r of results.runs) {
      const what = r.id;
      for (const [name, ok] of Object.entries(r.checks)) {
        assert.ok(ok, `${what}: ${name}`);
      }
      assert.equal(r.importerService.post["201"], r.importer.delivered);
      assert.equal(r.importerService.post["400"] ?? 0, 0);
      assert.equal(r.ceilingService.post["201"], r.ceiling.rows);
      if (r.rate > 0) {
        positive(r.importerService.post["503"], `${what} importer 503s`);
        positive(r.importer.retries, `${what} importer retries`);
      }

      const i = r.importer;
      assert.equal(i.exitCode, 0, `${what} importer exit`);
      assert.equal(i.delivered, i.valid);
      for (
        const key of [
          "elapsedMs",
          "wallMs",
          "rowsRead",
          "valid",
          "delivered",
          "requests",
          "deliveredPerSecond",
          "readPerSecond",
          "requestsPerSecond",
          "peakRssKb",
          "peakRssMB",
          "cpuS",
          "cpuPct",
        ] as const
      ) positive(i[key], `${what} importer ${key}`);
      latency(i.latencyMs, `${what} importer latency`);

      const c = r.ceiling;
      assert.equal(c.rows, i.valid, `${what}: the ceiling sent every body`);
      for (
        const key of [
          "rows",
          "requests",
          "elapsedMs",
          "rowsPerSecond",
          "requestsPerSecond",
          "wallMs",
          "peakRssKb",
        ] as const
      ) positive(c[key], `${what} ceiling ${key}`);
      latency(c.latencyMs, `${what} ceiling latency`);

      positive(r.ratio, `${what} ratio`);
      positive(r.requestRatio, `${what} request ratio`);
      finite(r.importerService.cpuS, `${what} service CPU`);
    }

    assert.equal(results.memory.length, 2);
    for (const m of results.memory) {
      positive(m.smallMB, "small RSS");
      positive(m.largeMB, "large RSS");
      finite(m.growthPct, "RSS growth");
    }
    assert.equal(results.bottleneck.length, 2);
    for (const b of results.bottleneck) {
      positive(b.ceilingRequestsPerSecond, "bottleneck: ceiling requests/s");
      finite(b.serviceCpuPctCeiling, "bottleneck: service CPU");
      assert.ok(b.verdict.length > 0);
      if (b.headroom !== null) positive(b.headroom, "bottleneck: headroom");
    }
    for (const t of results.targets) {
      finite(t.value, t.target);
      assert.equal(typeof t.met, "boolean");
    }
    for (const block of results.loadTool ?? []) {
      for (const w of block.results) {
        positive(w.requestsPerSecond, "wrk requests/s");
        positive(w.latencyMs.p50, "wrk p50");
      }
    }
    for (const f of results.files) {
      positive(f.valid, `${f.csv} valid rows`);
      assert.ok(f.valid <= f.rowsRead);
    }
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});
