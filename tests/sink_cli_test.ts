/**
 * `sink.ts`: flags, `SINK_*` environment variables, one-line errors with
 * exit status 2, and a clean stop on SIGINT.
 */

import assert from "node:assert/strict";
import { parseSinkArgs } from "../sink.ts";
import { resolveOptions, SETTINGS } from "../lib/sink/options.ts";

const ROOT = new URL("..", import.meta.url);

/** Runs `fn` with the given `SINK_*` variables set and all others unset. */
function withEnv(vars: Record<string, string>, fn: () => void): void {
  const saved = new Map<string, string | undefined>();
  for (const setting of SETTINGS) {
    saved.set(setting.env, Deno.env.get(setting.env));
    Deno.env.delete(setting.env);
  }
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

function parsedOptions(args: string[]) {
  const parsed = parseSinkArgs(args);
  if (!parsed.ok) assert.fail(`unexpected failure: ${parsed.output}`);
  return parsed.options;
}

function failure(args: string[]) {
  const parsed = parseSinkArgs(args);
  if (parsed.ok) assert.fail(`expected a failure for ${args.join(" ")}`);
  return parsed;
}

Deno.test("cli: no flags give the real service's defaults", () => {
  withEnv({}, () => {
    const options = parsedOptions([]);
    assert.deepEqual(options, {
      host: "127.0.0.1",
      port: 9009,
      failRate: 0.2,
      log: true,
      store: false,
      latencyMs: 0,
      jitterMs: 0,
      rate429: 0,
      retryAfterSeconds: 1,
      dropRate: 0,
      slowRate: 0,
      slowMs: 5000,
      downAfter: 0,
      downSeconds: 0,
      idempotency: false,
      storeDropRate: 0,
      readTimeoutMs: 2000,
      writeTimeoutMs: 2000,
    });
    // and the same as startSink's own defaults
    const resolved = resolveOptions({}) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(options)) {
      assert.equal(resolved[key], value, key);
    }
  });
});

Deno.test("cli: every flag sets its option", () => {
  withEnv({}, () => {
    const options = parsedOptions([
      "--host=0.0.0.0",
      "--port",
      "0",
      "--fail-rate",
      "0.5",
      "--seed",
      "42",
      "--log",
      "off",
      "--store",
      "--store-file",
      "out/movies.jsonl",
      "--latency-ms",
      "5",
      "--jitter-ms",
      "2.5",
      "--rate-429",
      "0.1",
      "--retry-after",
      "3",
      "--drop-rate",
      "0.05",
      "--slow-rate",
      "0.01",
      "--slow-ms",
      "2500",
      "--down-after",
      "100",
      "--down-seconds",
      "1.5",
      "--idempotency",
      "yes",
      "--store-drop-rate",
      "0.25",
      "--read-timeout",
      "500ms",
      "--write-timeout",
      "1.5",
      "--idle-timeout",
      "0",
    ]);
    assert.deepEqual(options, {
      host: "0.0.0.0",
      port: 0,
      failRate: 0.5,
      seed: 42,
      log: false,
      store: true,
      storeFile: "out/movies.jsonl",
      latencyMs: 5,
      jitterMs: 2.5,
      rate429: 0.1,
      retryAfterSeconds: 3,
      dropRate: 0.05,
      slowRate: 0.01,
      slowMs: 2500,
      downAfter: 100,
      downSeconds: 1.5,
      idempotency: true,
      storeDropRate: 0.25,
      readTimeoutMs: 500,
      writeTimeoutMs: 1500,
      idleTimeoutMs: 0,
    });
  });
});

Deno.test("cli: SINK_* variables apply when the flag is absent; the flag wins", () => {
  withEnv({
    SINK_PORT: "1234",
    SINK_FAIL_RATE: "0",
    SINK_STORE: "1",
    SINK_LOG: "false",
    SINK_IDEMPOTENCY: "0",
    SINK_READ_TIMEOUT: "250ms",
    SINK_IDLE_TIMEOUT: "1m",
    SINK_STORE_DROP_RATE: "0.5",
  }, () => {
    const fromEnv = parsedOptions([]);
    assert.equal(fromEnv.port, 1234);
    assert.equal(fromEnv.failRate, 0);
    assert.equal(fromEnv.store, true);
    assert.equal(fromEnv.log, false);
    assert.equal(fromEnv.idempotency, false);
    assert.equal(fromEnv.readTimeoutMs, 250);
    assert.equal(fromEnv.writeTimeoutMs, 2000);
    assert.equal(fromEnv.idleTimeoutMs, 60_000);
    assert.equal(fromEnv.storeDropRate, 0.5);
    assert.equal(parsedOptions(["--port", "4321"]).port, 4321);
  });
});

Deno.test("cli: a bad value is one line naming the setting, the value and what is allowed", () => {
  withEnv({}, () => {
    const cases: [string[], RegExp][] = [
      [["--port", "abc"], /--port.*'abc'.*integer from 0 to 65535/],
      [["--port", "65536"], /--port.*'65536'/],
      [["--fail-rate", "1.5"], /--fail-rate.*'1\.5'.*number from 0 to 1/],
      [["--fail-rate", ""], /--fail-rate.*''/],
      [["--seed", "1.5"], /--seed.*'1\.5'.*integer/],
      [["--latency-ms", "-1"], /--latency-ms.*'-1'.*milliseconds/],
      [["--store", "maybe"], /--store.*'maybe'.*true or false/],
      [["--read-timeout", "soon"], /--read-timeout.*'soon'.*duration/],
      [["--write-timeout", "-1s"], /--write-timeout.*'-1s'.*duration/],
      [["--idle-timeout", "25h"], /--idle-timeout.*'25h'.*24h/],
      [["--store-drop-rate", "2"], /--store-drop-rate.*'2'.*0 to 1/],
      [["--host", " "], /--host.*' '/],
      [["--bogus"], /unknown option '--bogus'/],
      [["extra"], /too many arguments/],
    ];
    for (const [args, pattern] of cases) {
      const parsed = failure(args);
      assert.equal(parsed.exitCode, 2, args.join(" "));
      assert.match(parsed.output, pattern);
      assert.equal(parsed.output.trimEnd().split("\n").length, 1);
    }
  });
  withEnv({ SINK_FAIL_RATE: "lots" }, () => {
    const parsed = failure([]);
    assert.equal(parsed.exitCode, 2);
    assert.match(
      parsed.output,
      /--fail-rate.*'lots'.*SINK_FAIL_RATE.*number from 0 to 1/,
    );
  });
});

Deno.test("cli: --help lists every flag with its variable and exits 0", () => {
  withEnv({}, () => {
    const parsed = failure(["--help"]);
    assert.equal(parsed.exitCode, 0);
    for (const setting of SETTINGS) {
      assert.ok(parsed.output.includes(setting.flag), setting.flag);
      assert.ok(parsed.output.includes(setting.env), setting.env);
    }
    // durations show their default as written, not in milliseconds
    const line = (flag: string) =>
      parsed.output.replace(/\n\s+/g, " ").split(flag)[1] ?? "";
    assert.match(line("--read-timeout"), /default: 2s\b/);
    assert.match(line("--idle-timeout"), /default: the read timeout/);
    assert.doesNotMatch(parsed.output, /default: 2000/);
  });
});

Deno.test("cli: the settings table is consistent", () => {
  const flags = new Set(SETTINGS.map((s) => s.flag.split(" ")[0]));
  const envs = new Set(SETTINGS.map((s) => s.env));
  assert.equal(flags.size, SETTINGS.length);
  assert.equal(envs.size, SETTINGS.length);
  for (const setting of SETTINGS) {
    assert.match(setting.env, /^SINK_[A-Z0-9_]+$/);
    if (setting.defaultValue !== undefined) {
      assert.ok(setting.check(setting.defaultValue), setting.key);
    }
  }
});

function runSink(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "sink.ts",
      ...args,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  return child;
}

Deno.test("cli: the process exits 2 with one line on stderr, no stack trace", async () => {
  const child = runSink(["--port", "abc"]);
  const { code, stderr, stdout } = await child.output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 2);
  assert.equal(text.trimEnd().split("\n").length, 1, text);
  assert.match(text, /--port.*'abc'.*0 to 65535/);
  assert.doesNotMatch(text, /\bat\b.*:\d+:\d+/);
  assert.equal(stdout.length, 0);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`cli: the process serves, then stops cleanly on ${signal}`, async () => {
    const child = runSink(["--port", "0", "--fail-rate", "0"]);
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let banner = "";
    while (!banner.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      banner += value;
    }
    const url = banner.match(/listening on (http:\/\/\S+)/)?.[1];
    assert.ok(url, banner);
    const res = await fetch(`${url}/movies`, {
      method: "POST",
      body: '{"title":"Heat","year":1995}',
    });
    assert.equal(res.status, 201);
    await res.body?.cancel();
    child.kill(signal);
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    const status = await child.status;
    const stdout = new TextDecoder().decode(
      new Uint8Array(await new Response(child.stdout).arrayBuffer()),
    );
    assert.equal(status.code, 0);
    assert.match(rest, new RegExp(`${signal}, stopped`));
    // the buffered log line was flushed before exit
    const line = JSON.parse(stdout.trim());
    assert.equal(line.msg, "POST request");
    assert.equal(line.path, "/movies");
  });
}
