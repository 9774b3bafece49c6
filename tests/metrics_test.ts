/**
 * The importer's metrics: the figures as scraped from `/metrics`, the push
 * to a (local, fake) Pushgateway, the push's failures as values, and
 * prom-client staying out of the importer until metrics are created.
 */

import assert from "node:assert/strict";
// A test-only dependency, pinned here as in tests/sink_server_test.ts.
// deno-lint-ignore no-import-prefix
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import {
  createImportMetrics,
  type ImportMetrics,
  pushMetrics,
  pushUrl,
  serveMetrics,
} from "../lib/importer/metrics.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const T0 = 1_780_000_000_000; // ms since the epoch

interface Family {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

/** The families of a text exposition, by name. */
function families(text: string): Map<string, Family> {
  const list = parsePrometheus(text) as Family[];
  return new Map(list.map((f) => [f.name, f]));
}

/** The value of a family's sample with these labels (`undefined` if none). */
function value(
  all: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = all.get(name);
  assert.ok(family, `no family ${name}`);
  const sample = family.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
}

/** Metrics of a small run: 3 delivered, 1 invalid, 1 duplicate, … */
async function sampleRun(): Promise<{ metrics: ImportMetrics; at: number[] }> {
  const at = [T0];
  const metrics = await createImportMetrics({ now: () => at[0] });
  for (const o of ["delivered", "delivered", "delivered"] as const) {
    metrics.row(o);
  }
  metrics.row("invalid");
  metrics.row("duplicate");
  metrics.request(201, 0.004); // ≤ 0.005
  metrics.request(201, 0.004);
  metrics.request(201, 0.03); // ≤ 0.05
  metrics.request(503, 0.0004); // ≤ 0.0005
  metrics.request("network", 10.5); // only +Inf
  metrics.retry();
  metrics.retry();
  metrics.inFlight(7);
  return { metrics, at };
}

Deno.test("metrics: a scrape of /metrics shows every figure", async () => {
  const { metrics } = await sampleRun();
  const server = serveMetrics(metrics, { port: 0 });
  try {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}/metrics`);
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const all = families(await res.text());
    const rows = (outcome: string) =>
      value(all, "parse_and_post_rows_total", { outcome });
    assert.equal(all.get("parse_and_post_rows_total")?.type, "COUNTER");
    assert.equal(rows("delivered"), 3);
    assert.equal(rows("invalid"), 1);
    assert.equal(rows("duplicate"), 1);
    assert.equal(rows("ambiguous"), 0); // every outcome shows, 0 included
    assert.equal(rows("already_delivered"), 0);
    const requests = (status: string) =>
      value(all, "parse_and_post_requests_total", { status });
    assert.equal(requests("201"), 3);
    assert.equal(requests("503"), 1);
    assert.equal(requests("network"), 1);
    assert.equal(requests("404"), undefined); // unseen statuses are absent
    assert.equal(value(all, "parse_and_post_retries_total"), 2);
    assert.equal(value(all, "parse_and_post_requests_in_flight"), 7);
    assert.equal(
      value(all, "parse_and_post_run_start_timestamp_seconds"),
      T0 / 1000,
    );
  } finally {
    await server.close();
  }
});

Deno.test("metrics: the duration histogram has cumulative buckets, sum and count", async () => {
  const { metrics } = await sampleRun();
  const all = families(await metrics.text());
  const family = all.get("parse_and_post_request_duration_seconds");
  assert.equal(family?.type, "HISTOGRAM");
  const h = family!.metrics[0];
  assert.equal(h.buckets?.["0.0005"], "1");
  assert.equal(h.buckets?.["0.002"], "1");
  assert.equal(h.buckets?.["0.005"], "3");
  assert.equal(h.buckets?.["0.05"], "4");
  assert.equal(h.buckets?.["10"], "4");
  assert.equal(h.buckets?.["+Inf"], "5");
  assert.equal(h.count, "5");
  assert.ok(Math.abs(Number(h.sum) - 10.5384) < 1e-9);
});

Deno.test("metrics: end, duration and last success appear when the run finishes", async () => {
  const { metrics, at } = await sampleRun();
  let all = families(await metrics.text());
  assert.equal(metrics.state(), "running");
  for (
    const name of [
      "parse_and_post_run_end_timestamp_seconds",
      "parse_and_post_run_duration_seconds",
      "parse_and_post_last_success_timestamp_seconds",
    ]
  ) {
    // No sample (not a misleading 0) until the run ends.
    assert.equal(all.get(name)?.metrics.length ?? 0, 0, name);
  }
  at[0] = T0 + 90_500;
  metrics.finish(true);
  at[0] = T0 + 999_999;
  metrics.finish(false); // a second call changes nothing
  assert.equal(metrics.state(), "succeeded");
  all = families(await metrics.text());
  const end = (T0 + 90_500) / 1000;
  assert.equal(value(all, "parse_and_post_run_end_timestamp_seconds"), end);
  assert.equal(value(all, "parse_and_post_run_duration_seconds"), 90.5);
  assert.equal(
    value(all, "parse_and_post_last_success_timestamp_seconds"),
    end,
  );
});

Deno.test("metrics: a failed run has an end but no last success", async () => {
  const { metrics } = await sampleRun();
  metrics.finish(false);
  assert.equal(metrics.state(), "failed");
  const all = families(await metrics.text());
  assert.equal(
    value(all, "parse_and_post_run_end_timestamp_seconds"),
    T0 / 1000,
  );
  assert.equal(
    all.get("parse_and_post_last_success_timestamp_seconds")?.metrics.length ??
      0,
    0,
  );
});

Deno.test("metrics: the server answers 404 off /metrics and 405 to other methods", async () => {
  const metrics = await createImportMetrics();
  const server = serveMetrics(metrics);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const notFound = await fetch(`${base}/`);
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  } finally {
    await server.close();
  }
});

Deno.test("metrics: a port in use is one clear line, not a stack", async () => {
  const metrics = await createImportMetrics();
  const first = serveMetrics(metrics);
  try {
    assert.throws(
      () => serveMetrics(metrics, { port: first.port }),
      (e: Error) =>
        e.message.startsWith(
          `cannot serve metrics on 127.0.0.1:${first.port}: `,
        ) && !e.message.includes("\n"),
    );
  } finally {
    await first.close();
  }
});

interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** A stand-in Pushgateway on loopback that records what it is sent. */
function fakeGateway(status = 200, answer = "") {
  const received: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      received.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: req.headers,
        body: await req.text(),
      });
      return new Response(answer, { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    close: () => server.shutdown(),
  };
}

Deno.test("metrics: a finished run is PUT to /metrics/job/<job>/<label>/<value> with its counters", async () => {
  const gateway = fakeGateway();
  try {
    const { metrics } = await sampleRun();
    metrics.finish(true);
    const result = await pushMetrics(metrics, {
      url: gateway.url,
      job: "movies_import",
      grouping: { instance: "host-1" },
    });
    const expected = `${gateway.url}/metrics/job/movies_import/instance/host-1`;
    assert.deepEqual(result, { ok: true, status: 200, url: expected });
    assert.equal(gateway.received.length, 1);
    const [got] = gateway.received;
    assert.equal(got.method, "PUT");
    assert.equal(got.path, "/metrics/job/movies_import/instance/host-1");
    assert.equal(
      got.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const all = families(got.body);
    assert.equal(
      value(all, "parse_and_post_rows_total", { outcome: "delivered" }),
      3,
    );
    assert.equal(
      value(all, "parse_and_post_requests_total", { status: "503" }),
      1,
    );
    assert.equal(
      value(all, "parse_and_post_last_success_timestamp_seconds"),
      T0 / 1000,
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("metrics: a failed run is POSTed without a last success (the gateway keeps the old one)", async () => {
  const gateway = fakeGateway(202);
  try {
    const { metrics } = await sampleRun();
    metrics.finish(false);
    const result = await pushMetrics(metrics, { url: `${gateway.url}/` });
    assert.ok(result.ok);
    const [got] = gateway.received;
    assert.equal(got.method, "POST");
    assert.equal(got.path, "/metrics/job/parse_and_post"); // the default job
    assert.ok(!/^parse_and_post_last_success\S* /m.test(got.body));
    assert.match(got.body, /^parse_and_post_run_end_timestamp_seconds /m);
  } finally {
    await gateway.close();
  }
});

Deno.test("metrics: a user:password in the gateway URL is sent as basic auth, not in the path", async () => {
  const gateway = fakeGateway();
  try {
    const metrics = await createImportMetrics();
    const url = gateway.url.replace("http://", "http://ops:s%3Acret@");
    const result = await pushMetrics(metrics, { url });
    assert.ok(result.ok && !result.url.includes("s%3Acret"));
    assert.equal(
      gateway.received[0].headers.get("authorization"),
      `Basic ${btoa("ops:s:cret")}`,
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("metrics: a push to a closed port is an error value naming the refusal", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const metrics = await createImportMetrics();
  const result = await pushMetrics(metrics, {
    url: `http://127.0.0.1:${port}`,
    timeoutMs: 30_000,
  });
  assert.ok(!result.ok);
  // Refused at once: the message is the refusal, not the 30 s timeout.
  assert.equal(
    result.message,
    `metrics push to http://127.0.0.1:${port}/metrics/job/parse_and_post failed: connection refused`,
  );
});

Deno.test("metrics: a gateway that never answers is an error value after the timeout", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async () => {
      await held;
      return new Response("late");
    },
  );
  try {
    const metrics = await createImportMetrics();
    const result = await pushMetrics(metrics, {
      url: `http://127.0.0.1:${server.addr.port}`,
      timeoutMs: 100,
    });
    assert.ok(!result.ok);
    assert.match(result.message, /failed: no answer within 100 ms$/);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("metrics: a gateway's refusal is an error value with its status and first line", async () => {
  const gateway = fakeGateway(400, "text format parsing error in line 3\nmore");
  try {
    const metrics = await createImportMetrics();
    const result = await pushMetrics(metrics, { url: gateway.url });
    assert.ok(!result.ok);
    assert.match(
      result.message,
      /failed: HTTP 400: text format parsing error in line 3$/,
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("metrics: bad push settings are error values, not exceptions", async () => {
  const metrics = await createImportMetrics();
  for (
    const [options, words] of [
      [{ url: "ftp://gw:21" }, "not an http:// or https:// URL"],
      [{ url: "not a url" }, "metrics push: "],
      [{ url: "http://gw", grouping: { "bad-name": "x" } }, "bad-name"],
      [{ url: "http://gw", grouping: { job: "x" } }, "grouping label"],
    ] as const
  ) {
    const result = await pushMetrics(metrics, options);
    assert.ok(!result.ok && result.message.includes(words), words);
    assert.ok(!result.message.includes("\n"));
  }
});

Deno.test("metrics: grouping values are written the Pushgateway's way", () => {
  assert.equal(
    pushUrl("https://gw.example:9091/prefix/", "import", {
      instance: "db:5432",
      empty: "",
      path: "/data/movies.csv",
    }),
    "https://gw.example:9091/prefix/metrics/job/import" +
      "/instance/db%3A5432" + // URI-escaped
      "/empty@base64/=" + // the only way to write an empty value
      "/path@base64/L2RhdGEvbW92aWVzLmNzdg", // a '/' needs base64url
  );
  assert.equal(
    pushUrl("http://gw:9091", "a/b"),
    "http://gw:9091/metrics/job@base64/YS9i",
  );
});

/** `deno info --json` of a module, as the graph the module loads. */
async function importGraph(entry: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: {
        specifier: string;
        code?: { specifier: string };
        isDynamic?: boolean;
      }[];
    }[];
    redirects: Record<string, string>;
  };
}

/** The specifiers reached from the root by static imports only. */
async function staticImports(entry: string): Promise<Set<string>> {
  const graph = await importGraph(entry);
  const byName = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...graph.roots];
  while (todo.length > 0) {
    const name = todo.pop()!;
    const resolved = graph.redirects[name] ?? name;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const dep of byName.get(resolved)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) todo.push(dep.code.specifier);
    }
  }
  return seen;
}

Deno.test("metrics: prom-client is only a dynamic import, for this module and for main.ts", async () => {
  for (const entry of ["lib/importer/metrics.ts", "main.ts"]) {
    const reached = [...await staticImports(entry)];
    assert.deepEqual(
      reached.filter((s) => s.includes("prom-client")),
      [],
      entry,
    );
    assert.ok(reached.some((s) => s.endsWith(entry)), entry);
  }
  const graph = await importGraph("lib/importer/metrics.ts");
  const self = graph.modules.find((m) => m.specifier.endsWith("metrics.ts"));
  const prom = self?.dependencies?.find((d) =>
    d.specifier.includes("prom-client")
  );
  assert.equal(prom?.isDynamic, true);
});

Deno.test("metrics: importing the module loads prom-client only when metrics are created", async () => {
  const script = `
    import Module from "node:module";
    import { createImportMetrics } from "./lib/importer/metrics.ts";
    const loaded = () => Object.keys(Module._cache).some((k) => k.includes("prom-client"));
    const before = loaded();
    await createImportMetrics();
    console.log(JSON.stringify({ before, after: loaded() }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", "--no-check", script],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    before: false,
    after: true,
  });
});
