/**
 * End to end, the operator's side: set-up mistakes told apart from bad data
 * (the service down, a wrong path, the wrong shape, missing permissions, bad
 * settings), and the outputs meant for people and machines (JSON logs,
 * metrics) — the importer as a subprocess against the local service.
 */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import { startSink } from "../lib/sink/server.ts";
import { execute, importerArgs, ROOT } from "./_subprocess.ts";
import { generated, readReport } from "./_e2e.ts";

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

Deno.test("metrics: /metrics is served during the run, and the final figures are pushed to a Pushgateway", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0.2,
    seed: 4,
    log: false,
    latencyMs: 5,
  });
  const pushes: { method: string; path: string; body: string }[] = [];
  const gateway = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      pushes.push({
        method: req.method,
        path: new URL(req.url).pathname,
        body: await req.text(),
      });
      return new Response(null, { status: 200 });
    },
  );
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const metricsPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const dir = await Deno.makeTempDir({ prefix: "pp-e2e-" });
  try {
    const args = importerArgs(dir, sink.port, [
      "--csv-in",
      `${ROOT}/data/sample.csv`,
      "--url-out",
      `${sink.url}/movies`,
      "--concurrency",
      "2",
      "--metrics-port",
      String(metricsPort),
      "--pushgateway",
      `http://127.0.0.1:${gateway.addr.port}`,
    ]).map((a) =>
      a.startsWith("--allow-net=")
        ? `${a},127.0.0.1:${metricsPort},127.0.0.1:${gateway.addr.port}`
        : a
    );
    const child = new Deno.Command("deno", {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let scraped = "";
    for (
      let i = 0;
      i < 200 && !scraped.includes("parse_and_post_requests_total");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
      scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => "",
      );
    }
    const out = await output;
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(
      scraped,
      /parse_and_post_requests_in_flight/,
      "scraped during the run",
    );
    const report = await readReport(dir);
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0].method, "PUT");
    assert.equal(pushes[0].path, "/metrics/job/parse_and_post");
    const delivered = Number(
      pushes[0].body.match(
        /parse_and_post_rows_total\{outcome="delivered"\} (\d+)/,
      )?.[1],
    );
    assert.equal(delivered, report.counts.delivered);
    const created = Number(
      pushes[0].body.match(
        /parse_and_post_requests_total\{status="201"\} (\d+)/,
      )?.[1],
    );
    assert.equal(created, sink.counters().post["201"]);
  } finally {
    await sink.close();
    await gateway.shutdown();
  }
});
