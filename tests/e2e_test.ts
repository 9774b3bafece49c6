/**
 * End to end, for real: the importer as a subprocess, the local service in
 * this process, over loopback — with the project's own generated data
 * (always) and the exercise's backup.csv (when it is beside the clone).
 */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import type { Report } from "../lib/importer/report.ts";
import { startSink } from "../lib/sink/server.ts";
import { execute, importerArgs, ROOT } from "./_subprocess.ts";
import { BACKUP, backupCsv } from "./_shared_data.ts";

async function readReport(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
}

/** A generated export like backup.csv (defects, blank lines, 4 copies of each movie). */
async function generated(dir: string, rows: number, seed = 5): Promise<string> {
  const path = `${dir}/movies.csv`;
  await Deno.writeFile(
    path,
    generateCsvBytes({ rows, seed, coverAll: true }).bytes,
  );
  return path;
}

/** A body as the service stores it: Go reads `null` as the zero value. */
function asStored(body: string): string {
  return JSON.stringify(
    JSON.parse(body),
    (_key, value) => value === null ? 0 : value,
  );
}

/** The bodies a first dry run would send, as stored, sorted (the multiset of valid rows). */
async function bodiesOf(csv: string, dir: string): Promise<string[]> {
  const out = await execute(
    "deno",
    importerArgs(dir, null, [
      "--csv-in",
      csv,
      "--dry-run",
      "--ledger-dir",
      `${dir}/no-ledger`,
    ]),
  );
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trimEnd().split("\n").map(asStored).sort();
}

/** Imports `csv` at 20 % random 503s and checks every valid row was stored exactly once. */
async function importOnce(csv: string, dir: string): Promise<Report> {
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
      await bodiesOf(csv, dir),
      "every valid row stored exactly once, copies included",
    );
    return report;
  } finally {
    await sink.close();
  }
}

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
      await bodiesOf(csv, dir),
      "each valid row stored exactly once over both runs",
    );
  } finally {
    await sink.close();
  }
});

Deno.test("service not running: a probe with backoff, one line, exit 1 within the connect timeout, nothing rejected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // a port nobody listens on
  const started = Date.now();
  const out = await execute(
    "deno",
    importerArgs(dir, port, [
      "--csv-in",
      `${ROOT}/data/sample.csv`,
      "--url-out",
      `http://127.0.0.1:${port}/movies`,
      "--connect-timeout",
      "2s",
    ]),
  );
  const seconds = (Date.now() - started) / 1000;
  assert.equal(out.code, 1, out.stderr);
  assert.match(
    out.stderr,
    new RegExp(
      `cannot connect to 127\\.0\\.0\\.1:${port} \\(connection refused\\): is the service running\\? \\(URL_OUT=http://127\\.0\\.0\\.1:${port}/movies\\)`,
    ),
  );
  assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");
  const report = await readReport(dir);
  assert.equal(report.end, "unreachable");
  assert.ok(
    report.counts.requests <= 12,
    `${report.counts.requests} connection attempts`,
  );
  assert.equal(report.counts.refused, 0);
  assert.ok(seconds < 30, `${seconds} s`);
  const rejects = await Deno.readTextFile(`${dir}/rejects.csv`);
  assert.doesNotMatch(
    rejects,
    /connection refused|unreachable/,
    "no valid row in the rejects file",
  );
});

Deno.test("a wrong path (404 to every row): stops after the first 20 answers, one line naming URL and status, exit 2", async () => {
  const sink = startSink({ port: 0, failRate: 0.2, seed: 3, log: false });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const url = `${sink.url}/api/movies`;
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        await generated(dir, 2000),
        "--url-out",
        url,
      ]),
    );
    assert.equal(out.code, 2, out.stderr);
    assert.match(
      out.stderr,
      new RegExp(
        `${
          url.replaceAll(".", "\\.")
        } answered HTTP 404: 404 page not found to the first 20 requests`,
      ),
    );
    const report = await readReport(dir);
    assert.ok(
      report.counts.requests <= 20 + 2 * 16,
      `${report.counts.requests} requests`,
    );
    assert.equal(
      report.counts.refused,
      0,
      "the rows are not at fault: none in the rejects file",
    );
  } finally {
    await sink.close();
  }
});

Deno.test("tab- and pipe-separated exports are detected and import end to end", async () => {
  const sink = startSink({ port: 0, failRate: 0, log: false, store: true });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const text = new TextDecoder().decode(
      generateCsvBytes({ rows: 200, seed: 9 }).bytes,
    );
    for (const [name, delimiter] of [["tab", "\t"], ["pipe", "|"]]) {
      const path = `${dir}/${name}.csv`;
      await Deno.writeTextFile(path, text.replaceAll(";", delimiter));
      const before = sink.accepted().length;
      const out = await execute(
        "deno",
        importerArgs(dir, sink.port, [
          "--csv-in",
          path,
          "--url-out",
          `${sink.url}/${name}`,
        ]),
      );
      assert.equal(out.code, 0, out.stderr);
      const report = await readReport(dir);
      assert.ok(
        report.counts.delivered > 150,
        `${name}: ${report.counts.delivered} delivered`,
      );
      assert.equal(sink.accepted().length - before, report.counts.delivered);
    }
  } finally {
    await sink.close();
  }
});

Deno.test("JSON logs: one object per line with stable keys", async () => {
  const sink = startSink({ port: 0, failRate: 0, log: false });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const out = await execute(
      "deno",
      importerArgs(dir, sink.port, [
        "--csv-in",
        `${ROOT}/data/sample.csv`,
        "--url-out",
        `${sink.url}/movies`,
        "--log-format",
        "json",
        "--log-level",
        "DEBUG",
      ]),
    );
    assert.equal(out.code, 0, out.stderr);
    const events = out.stderr.split("\n").filter((l) => l.startsWith("{")).map((
      l,
    ) => JSON.parse(l));
    assert.ok(events.length > 50);
    for (const e of events) {
      assert.ok(
        typeof e.time === "string" && typeof e.level === "string" &&
          typeof e.msg === "string",
      );
    }
    const rejected = events.find((e) =>
      e.level === "WARNING" && typeof e.field === "string"
    );
    assert.ok(
      rejected && typeof rejected.line === "number" &&
        typeof rejected.reason === "string",
      "a rejected row with line, field, reason",
    );
    const attempt = events.find((e) =>
      e.level === "DEBUG" && typeof e.status === "number"
    );
    assert.ok(
      attempt && typeof attempt.attempt === "number" &&
        typeof attempt.line === "number",
      "an attempt with line, status, attempt",
    );
  } finally {
    await sink.close();
  }
});

Deno.test("a host outside the permissions: the task's command with the flag widened, which works as printed", async () => {
  const sink = startSink({ port: 0, failRate: 0, log: false });
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const csv = `${dir}/sample.csv`;
    await Deno.copyFile(`${ROOT}/data/sample.csv`, csv);
    const url = `http://127.0.0.1:${sink.port}/movies`;
    const args = [
      "--csv-in",
      "sample.csv",
      "--url-out",
      url,
      "--progress",
      "off",
    ];
    const task = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks
      .import.split(" ").slice(1);
    const denied = await execute("deno", [
      ...task.map((a: string) => a === "main.ts" ? `${ROOT}/main.ts` : a),
      ...args,
    ], { cwd: dir });
    assert.equal(denied.code, 2, denied.stderr);
    assert.deepEqual(sink.counters().post, {}, "nothing sent");
    assert.match(
      denied.stderr,
      new RegExp(
        `no permission to connect to 127\\.0\\.0\\.1:${sink.port} \\(URL_OUT\\)`,
      ),
    );
    assert.match(denied.stderr, /see README, "Permissions"/);
    const command = denied.stderr.split("\n").find((l) =>
      l.startsWith("  deno run ")
    )!.trim().split(/\s+/);
    assert.ok(
      command.includes(
        "--v8-flags=--max-semi-space-size=4,--max-old-space-size=256",
      ),
      "V8 flags kept",
    );
    const ok = await execute(
      command[0],
      command.slice(1).map((a) => a === "main.ts" ? `${ROOT}/main.ts` : a),
      { cwd: dir },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((sink.counters().post["201"] ?? 0) > 0);
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
      await bodiesOf(csv, dir),
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
