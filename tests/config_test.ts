import assert from "node:assert/strict";
import {
  type Config,
  type ConfigDeps,
  type ConfigResult,
  defaultConfig,
  loadConfig,
} from "../lib/importer/config.ts";
import { ENV_KEYS, helpText, SETTINGS } from "../lib/importer/settings.ts";

/** The exercise's own `.env`, spaces around `=` and all. */
const EXERCISE_ENV = `LOG_LEVEL = INFO
CSV_IN = backup.csv
URL_OUT = http://localhost:9009/movies
STOP_ON_ERRORS = 0
`;

interface Fake {
  env?: Record<string, string>;
  /** `.env` contents by path; a missing path throws NotFound. */
  files?: Record<string, string>;
  mode?: number | null;
}

/** Injected I/O: no real environment, files only from `files`. */
function fake({ env = {}, files = {}, mode = 0o600 }: Fake = {}): ConfigDeps & {
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    getEnv: (key) => {
      asked.push(key);
      return env[key];
    },
    readTextFile: (path) =>
      Object.hasOwn(files, path)
        ? Promise.resolve(files[path])
        : Promise.reject(new Deno.errors.NotFound(`no ${path}`)),
    stat: () => Promise.resolve({ mode }),
  };
}

function ok(result: ConfigResult): Extract<ConfigResult, { kind: "ok" }> {
  if (result.kind !== "ok") {
    throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  }
  return result;
}

function errorOf(result: ConfigResult): string {
  if (result.kind !== "error") {
    throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  }
  assert.ok(!result.message.includes("\n"), "one line");
  assert.ok(!/\bat .*:\d+:\d+/.test(result.message), "no stack trace");
  return result.message;
}

Deno.test("nothing set: defaults, no env file, no warnings", async () => {
  const deps = fake();
  const result = ok(await loadConfig([], deps));
  assert.deepEqual(result.config, defaultConfig());
  assert.deepEqual(result.warnings, []);
  assert.ok(Object.values(result.sources).every((s) => s === "default"));
  // Only the known variables are read, each once.
  assert.deepEqual(deps.asked, [...ENV_KEYS]);
});

Deno.test("the exercise's .env, with spaces around =", async () => {
  const result = ok(
    await loadConfig([], fake({ files: { ".env": EXERCISE_ENV } })),
  );
  assert.deepEqual(result.config, { ...defaultConfig(), envFile: ".env" });
  assert.equal(result.sources.logLevel, ".env");
  assert.equal(result.sources.csvIn, ".env");
  assert.equal(result.sources.urlOut, ".env");
  assert.equal(result.sources.stopOnErrors, ".env");
  assert.equal(result.sources.concurrency, "default");
  assert.deepEqual(result.warnings, []);
});

Deno.test(".env: comments, quotes, inline comments, CRLF, export", async () => {
  const text = [
    "# a comment line",
    "   # an indented comment",
    "CSV_IN = 'my movies.csv'   # single quotes keep spaces",
    'URL_OUT = "http://localhost:9009/movies#frag"',
    "LOG_LEVEL = debug # inline comment",
    "export CONCURRENCY = 4",
    "MAX_RETRIES=3",
    "  RETRY_BASE   =   250ms  ",
    "REQUEST_TIMEOUT = `2s`",
    "STOP_ON_ERRORS =",
    "",
  ].join("\r\n");
  const { config, sources } = ok(
    await loadConfig([], fake({ files: { ".env": text } })),
  );
  assert.equal(config.csvIn, "my movies.csv");
  assert.equal(config.urlOut, "http://localhost:9009/movies#frag");
  assert.equal(config.logLevel, "DEBUG");
  assert.equal(config.concurrency, 4);
  assert.equal(config.maxRetries, 3);
  assert.equal(config.retryBaseMs, 250);
  assert.equal(config.timeoutMs, 2000);
  // An empty value counts as unset.
  assert.equal(config.stopOnErrors, 0);
  assert.equal(sources.stopOnErrors, "default");
});

Deno.test(".env: an unquoted # starts a comment even inside a value", async () => {
  const { config } = ok(
    await loadConfig(
      [],
      fake({
        files: { ".env": "CSV_IN = a#b.csv\nREPORT_OUT = 'r#1.json'\n" },
      }),
    ),
  );
  assert.equal(config.csvIn, "a");
  assert.equal(config.reportPath, "r#1.json");
});

Deno.test("precedence: flag > environment > .env > default", async () => {
  const files = {
    ".env": [
      "CONCURRENCY = 2",
      "LOG_LEVEL = ERROR",
      "REQUEST_TIMEOUT = 3s",
      "CSV_IN = dotenv.csv",
      "FRESH = yes",
      "CSV_DELIMITER = ,",
    ].join("\n"),
  };
  const env = {
    CONCURRENCY: "3",
    LOG_LEVEL: "WARNING",
    CSV_IN: "env.csv",
    DRY_RUN: "1",
  };
  const args = ["--concurrency", "4", "--csv-in=flag.csv"];
  const { config, sources } = ok(await loadConfig(args, fake({ env, files })));
  // flag over env over .env
  assert.equal(config.concurrency, 4);
  assert.equal(sources.concurrency, "flag");
  assert.equal(config.csvIn, "flag.csv");
  // env over .env
  assert.equal(config.logLevel, "WARNING");
  assert.equal(sources.logLevel, "environment");
  assert.equal(config.dryRun, true);
  // .env over default
  assert.equal(config.timeoutMs, 3000);
  assert.equal(sources.timeoutMs, ".env");
  assert.equal(config.fresh, true);
  assert.equal(config.delimiter, ",");
  // default
  assert.equal(config.maxRetries, 15);
  assert.equal(sources.maxRetries, "default");

  // Each level, one key at a time.
  const level = async (args: string[], e: Record<string, string>) =>
    ok(await loadConfig(args, fake({ env: e, files }))).config;
  assert.equal((await level([], {})).concurrency, 2);
  assert.equal((await level([], { CONCURRENCY: "3" })).concurrency, 3);
  assert.equal(
    (await level(["--concurrency", "5"], { CONCURRENCY: "3" })).concurrency,
    5,
  );
  assert.equal((await level([], {})).csvIn, "dotenv.csv");
  assert.equal(
    (await level(["pos.csv"], { CSV_IN: "e.csv" })).csvIn,
    "pos.csv",
  );
  assert.equal((await level([], { FRESH: "false" })).fresh, false);
  assert.equal((await level(["--fresh"], { FRESH: "no" })).fresh, true);
});

Deno.test("an empty environment variable counts as unset", async () => {
  const { config, sources } = ok(
    await loadConfig(
      [],
      fake({ env: { CONCURRENCY: "" }, files: { ".env": "CONCURRENCY = 7" } }),
    ),
  );
  assert.equal(config.concurrency, 7);
  assert.equal(sources.concurrency, ".env");
});

Deno.test("every flag sets its setting", async () => {
  const args = [
    "--url-out",
    "https://example.test/m",
    "--log-level",
    "critical",
    "--log-format",
    "JSON",
    "--log-rows",
    "no",
    "--progress",
    "lines",
    "--stop-on-errors",
    "5",
    "--concurrency",
    "1",
    "--timeout",
    "500ms",
    "--max-retries",
    "0",
    "--retry-base",
    "0",
    "--retry-cap",
    "2m",
    "--rejects",
    "r.csv",
    "--report",
    "r.json",
    "--ledger-dir",
    "state",
    "--fresh",
    "--dedupe",
    "--dry-run",
    "--delimiter",
    "semicolon",
    "--encoding",
    "LATIN1",
    "--drain-timeout",
    "1.5",
    "--give-up",
    "2m",
    "--connect-timeout",
    "3s",
    "--metrics-port",
    "9464",
    "--pushgateway",
    "http://pushgateway.test:9091",
    "in.csv",
  ];
  const { config, sources } = ok(await loadConfig(args, fake()));
  const expected: Config = {
    csvIn: "in.csv",
    urlOut: "https://example.test/m",
    logLevel: "CRITICAL",
    logFormat: "json",
    logRows: false,
    progress: "lines",
    stopOnErrors: 5,
    concurrency: 1,
    timeoutMs: 500,
    maxRetries: 0,
    retryBaseMs: 0,
    retryCapMs: 120_000,
    rejectsPath: "r.csv",
    reportPath: "r.json",
    ledgerDir: "state",
    fresh: true,
    dedupe: true,
    dryRun: true,
    delimiter: ";",
    encoding: "windows-1252",
    drainTimeoutMs: 1_500,
    giveUpMs: 120_000,
    connectTimeoutMs: 3_000,
    metricsPort: 9464,
    pushgateway: "http://pushgateway.test:9091",
    envFile: null,
  };
  assert.deepEqual(config, expected);
  assert.ok(
    Object.entries(sources).every(([k, s]) =>
      s === (k === "envFile" ? "default" : "flag")
    ),
  );
});

Deno.test("every variable sets its setting", async () => {
  const env = {
    CSV_IN: "e.csv",
    URL_OUT: "http://127.0.0.1:9/x",
    LOG_LEVEL: "warn",
    LOG_FORMAT: "text",
    LOG_ROWS: "1",
    PROGRESS: "OFF",
    STOP_ON_ERRORS: "2",
    CONCURRENCY: "256",
    REQUEST_TIMEOUT: "1m",
    MAX_RETRIES: "100",
    RETRY_BASE: "1s",
    RETRY_CAP: "30s",
    REJECTS_OUT: "rej.csv",
    REPORT_OUT: "rep.json",
    LEDGER_DIR: "/var/lib/pp",
    FRESH: "TRUE",
    DEDUPE: "no",
    DRY_RUN: "Yes",
    CSV_DELIMITER: "tab",
    CSV_ENCODING: "utf8",
    DRAIN_TIMEOUT: "0",
    GIVE_UP_AFTER: "45",
    CONNECT_TIMEOUT: "1m",
    METRICS_PORT: "9100",
    PUSHGATEWAY_URL: "http://127.0.0.1:9091",
  };
  assert.deepEqual(Object.keys(env), [...ENV_KEYS]);
  const { config, sources } = ok(await loadConfig([], fake({ env })));
  assert.deepEqual(config, {
    csvIn: "e.csv",
    urlOut: "http://127.0.0.1:9/x",
    logLevel: "WARNING",
    logFormat: "text",
    logRows: true,
    progress: "off",
    stopOnErrors: 2,
    concurrency: 256,
    timeoutMs: 60_000,
    maxRetries: 100,
    retryBaseMs: 1_000,
    retryCapMs: 30_000,
    rejectsPath: "rej.csv",
    reportPath: "rep.json",
    ledgerDir: "/var/lib/pp",
    fresh: true,
    dedupe: false,
    dryRun: true,
    delimiter: "\t",
    encoding: "utf-8",
    drainTimeoutMs: 0,
    giveUpMs: 45_000,
    connectTimeoutMs: 60_000,
    metricsPort: 9100,
    pushgateway: "http://127.0.0.1:9091",
    envFile: null,
  });
  assert.ok(
    Object.entries(sources).every(([k, s]) =>
      s === (k === "envFile" ? "default" : "environment")
    ),
  );
});

Deno.test("positional csv; the same as --csv-in is fine, another is not", async () => {
  assert.equal(ok(await loadConfig(["a.csv"], fake())).config.csvIn, "a.csv");
  assert.equal(
    ok(await loadConfig(["a.csv", "--csv-in", "a.csv"], fake())).config.csvIn,
    "a.csv",
  );
  const message = errorOf(
    await loadConfig(["a.csv", "--csv-in", "b.csv"], fake()),
  );
  assert.match(message, /--csv-in b\.csv.*argument a\.csv/);
  assert.match(
    errorOf(await loadConfig(["a.csv", "b.csv"], fake())),
    /too many arguments/,
  );
  // After --, a dash-word is the csv.
  assert.equal(
    ok(await loadConfig(["--", "--odd.csv"], fake())).config.csvIn,
    "--odd.csv",
  );
});

Deno.test("bad values: one line naming setting, value, source, allowed", async () => {
  const cases: [string[], Record<string, string>, string, RegExp][] = [
    [
      ["--concurrency", "0"],
      {},
      "",
      /^--concurrency=0 \(from the command line; variable CONCURRENCY\): must be a whole number from 1 to 256$/,
    ],
    [
      [],
      { CONCURRENCY: "abc" },
      "",
      /^CONCURRENCY=abc \(from the environment; flag --concurrency\): must be a whole number from 1 to 256$/,
    ],
    [
      [],
      {},
      "CONCURRENCY = abc",
      /^CONCURRENCY=abc \(from \.env; flag --concurrency\): must be a whole number from 1 to 256$/,
    ],
    [["--concurrency=1.5"], {}, "", /^--concurrency=1\.5 .*1 to 256$/],
    [["--concurrency", "257"], {}, "", /^--concurrency=257 .*1 to 256$/],
    [
      ["--url-out", "not a url"],
      {},
      "",
      /^--url-out="not a url" .*variable URL_OUT.*http:\/\/ or https:\/\/ URL$/,
    ],
    [
      [],
      { URL_OUT: "ftp://localhost/movies" },
      "",
      /^URL_OUT=ftp:\/\/localhost\/movies \(from the environment; flag --url-out\): must be an http/,
    ],
    [
      [],
      {},
      "LOG_LEVEL = LOUD",
      /^LOG_LEVEL=LOUD \(from \.env; flag --log-level\): must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL/,
    ],
    [
      ["--stop-on-errors", "-1"],
      {},
      "",
      /^--stop-on-errors=-1 .*STOP_ON_ERRORS.*0 or more$/,
    ],
    [[], {}, "STOP_ON_ERRORS = 1e3", /^STOP_ON_ERRORS=1e3 \(from \.env/],
    [["--max-retries", "101"], {}, "", /^--max-retries=101 .*0 to 100$/],
    [
      ["--timeout", "soon"],
      {},
      "",
      /^--timeout=soon .*REQUEST_TIMEOUT.*must be a duration/,
    ],
    [["--timeout", "0"], {}, "", /^--timeout=0 .*from 1ms/],
    [
      [],
      { RETRY_BASE: "-5ms" },
      "",
      /^RETRY_BASE=-5ms .*--retry-base.*duration/,
    ],
    [
      [],
      {},
      "RETRY_CAP = 2d",
      /^RETRY_CAP=2d \(from \.env; flag --retry-cap\)/,
    ],
    [[], {}, "DRAIN_TIMEOUT = 25h", /^DRAIN_TIMEOUT=25h .*24h/],
    [
      ["--delimiter", "#"],
      {},
      "",
      /^--delimiter=# .*CSV_DELIMITER.*must be auto, ";", ",", tab or "\|"/,
    ],
    [
      [],
      { CSV_ENCODING: "utf-16" },
      "",
      /^CSV_ENCODING=utf-16 .*--encoding.*utf-8 or windows-1252/,
    ],
    [
      [],
      { FRESH: "maybe" },
      "",
      /^FRESH=maybe \(from the environment; flag --fresh\): must be true\/false/,
    ],
    [[], {}, "DRY_RUN = 2", /^DRY_RUN=2 \(from \.env; flag --dry-run\)/],
    [
      ["--rejects", ""],
      {},
      "",
      /^--rejects="" .*REJECTS_OUT.*file path \(not empty, no control characters\)$/,
    ],
    [
      ["--env-file", ""],
      {},
      "",
      /^--env-file="" \(from the command line\): must be a file path \(not empty, no control characters\)$/,
    ],
    [[], {}, 'CSV_IN = "two\\nlines"', /^CSV_IN="two\\nlines" \(from \.env/],
  ];
  for (const [args, env, dotenv, pattern] of cases) {
    const files: Record<string, string> = dotenv === ""
      ? {}
      : { ".env": dotenv };
    const message = errorOf(await loadConfig(args, fake({ env, files })));
    assert.match(message, pattern, JSON.stringify([args, env, dotenv]));
  }
});

Deno.test("a bad value from --env-file names that file", async () => {
  const files = { "conf/prod.env": "CONCURRENCY = 0" };
  const message = errorOf(
    await loadConfig(["--env-file", "conf/prod.env"], fake({ files })),
  );
  assert.match(message, /^CONCURRENCY=0 \(from conf\/prod\.env; flag/);
});

Deno.test("unknown flags and missing flag values: one line", async () => {
  assert.match(
    errorOf(await loadConfig(["--bogus"], fake())),
    /^unknown option '--bogus'; see --help$/,
  );
  assert.match(
    errorOf(await loadConfig(["--concurency", "4"], fake())),
    /^unknown option '--concurency' \(Did you mean --concurrency\?\); see --help$/,
  );
  assert.match(
    errorOf(await loadConfig(["-x"], fake())),
    /unknown option '-x'/,
  );
  assert.match(
    errorOf(await loadConfig(["--fresh=1"], fake())),
    /unknown option '--fresh=1'/,
  );
  assert.match(
    errorOf(await loadConfig(["--csv-in"], fake())),
    /option '--csv-in <PATH>' argument missing/,
  );
});

Deno.test("--help and --version, anywhere before --", async () => {
  const help = await loadConfig(["--concurrency", "0", "--help"], fake());
  assert.deepEqual(help, { kind: "help", text: helpText() });
  assert.equal((await loadConfig(["-h"], fake())).kind, "help");
  const version = await loadConfig(["--bogus", "--version"], fake());
  assert.deepEqual(version, { kind: "version", text: "parse-and-post 0.2.0" });
  assert.equal((await loadConfig(["-V"], fake())).kind, "version");
  assert.equal((await loadConfig(["-V", "-h"], fake())).kind, "help");
  // After --, it is the csv argument.
  assert.equal(
    ok(await loadConfig(["--", "--help"], fake())).config.csvIn,
    "--help",
  );
  const text = helpText();
  for (const s of SETTINGS) {
    assert.ok(text.includes(s.flag) && text.includes(s.default), s.flag);
    if (s.env !== null) assert.ok(text.includes(s.env), s.env);
  }
});

Deno.test("--env-file: read instead of .env; missing is an error", async () => {
  const files = { ".env": "CONCURRENCY = 2", "other.env": "CONCURRENCY = 3" };
  const result = ok(
    await loadConfig(["--env-file", "other.env"], fake({ files })),
  );
  assert.equal(result.config.concurrency, 3);
  assert.equal(result.config.envFile, "other.env");
  assert.equal(result.sources.envFile, "flag");
  assert.equal(
    errorOf(await loadConfig(["--env-file", "nope.env"], fake({ files }))),
    "cannot read --env-file nope.env: no such file",
  );
  // A missing default .env is fine, silently.
  const none = ok(await loadConfig([], fake()));
  assert.equal(none.config.envFile, null);
  assert.deepEqual(none.warnings, []);
});

Deno.test("unknown keys in .env: ignored, one warning naming them", async () => {
  const text = EXERCISE_ENV + "CONCURENCY = 4\nHOME = /root\n";
  const result = ok(await loadConfig([], fake({ files: { ".env": text } })));
  assert.equal(result.config.concurrency, 16);
  assert.deepEqual(result.warnings, [
    ".env: ignoring unknown keys CONCURENCY, HOME (known: see .env.example or --help)",
  ]);
});

Deno.test("permission errors become one line naming the flag", async () => {
  const refuse = (error: Error): Partial<ConfigDeps> => ({
    ...fake(),
    readTextFile: () => Promise.reject(error),
  });
  assert.equal(
    errorOf(
      await loadConfig([], refuse(new Deno.errors.NotCapable("Requires read"))),
    ),
    "cannot read .env: run with --allow-read=.env",
  );
  assert.equal(
    errorOf(
      await loadConfig(
        ["--env-file", "my env"],
        refuse(new Deno.errors.NotCapable("Requires read")),
      ),
    ),
    `cannot read --env-file "my env": run with --allow-read='my env'`,
  );
  assert.match(
    errorOf(
      await loadConfig([], refuse(new Deno.errors.PermissionDenied("EACCES"))),
    ),
    /^cannot read \.env: permission denied .*--allow-read=\.env\)$/,
  );
  assert.equal(
    errorOf(await loadConfig([], refuse(new Error("disk\non fire")))),
    "cannot read .env: disk on fire",
  );
});

Deno.test("environment variables without --allow-env: one warning", async () => {
  const deps = fake({ env: { CSV_IN: "x.csv" } });
  const result = ok(
    await loadConfig([], {
      ...deps,
      getEnv: (key) => {
        if (key !== "CSV_IN") throw new Deno.errors.NotCapable(key);
        return deps.getEnv(key);
      },
    }),
  );
  assert.equal(result.config.csvIn, "x.csv");
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0],
    /^ignoring environment variables URL_OUT, .*, PUSHGATEWAY_URL: no permission/,
  );
});

Deno.test("loadConfig never throws", async () => {
  const result = await loadConfig([], {
    ...fake(),
    getEnv: () => {
      throw new TypeError("boom\nat somewhere");
    },
  });
  assert.equal(
    errorOf(result),
    "cannot load the configuration: boom at somewhere",
  );
});

Deno.test("mode warning: a real file, 0644 warns, 0600 does not", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "config_test_" });
  try {
    const path = `${dir}/test.env`;
    await Deno.writeTextFile(path, EXERCISE_ENV);
    const getEnv = () => undefined;

    await Deno.chmod(path, 0o644);
    const open = ok(await loadConfig(["--env-file", path], { getEnv }));
    assert.equal(open.config.envFile, path);
    assert.deepEqual(open.warnings, [
      `${path} is accessible by group or others (mode 644): run chmod 600 ${path}`,
    ]);

    await Deno.chmod(path, 0o600);
    const closed = ok(await loadConfig(["--env-file", path], { getEnv }));
    assert.deepEqual(closed.warnings, []);
    assert.deepEqual(closed.config, { ...defaultConfig(), envFile: path });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no mode (e.g. Windows): no warning", async () => {
  const result = ok(
    await loadConfig([], fake({ files: { ".env": EXERCISE_ENV }, mode: null })),
  );
  assert.deepEqual(result.warnings, []);
});

Deno.test("under narrow permissions: --allow-env=ENV_KEYS, commander never asks for more", async () => {
  const dir = await Deno.makeTempDir({ prefix: "config_perm_" });
  const lock = `${import.meta.dirname}/../deno.lock`;
  try {
    const configUrl =
      new URL("../lib/importer/config.ts", import.meta.url).href;
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      script,
      `import { loadConfig } from ${JSON.stringify(configUrl)};
const out = [];
for (const args of [[], ["--help"], ["--bogus"], ["--concurrency", "x"]]) {
  const r = await loadConfig(args);
  out.push(r.kind === "ok" ? { kind: "ok", c: r.config.concurrency, w: r.warnings } : r.kind === "help" ? { kind: "help" } : r);
}
console.log(JSON.stringify(out));
`,
    );
    const run = async (allowEnv: string, allowRead: string) => {
      const command = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          // No deno.json (the probe must not lean on the project's settings),
          // but the project's lock and the cache this test run already holds:
          // without the lock, deno would ask the npm registry to resolve.
          "--no-config",
          `--lock=${lock}`,
          "--frozen",
          "--cached-only",
          `--allow-env=${allowEnv}`,
          ...(allowRead === "" ? [] : [`--allow-read=${allowRead}`]),
          script,
        ],
        cwd: dir,
        clearEnv: true,
        env: {
          CONCURRENCY: "3",
          ...Object.fromEntries(
            // What finds deno's cache: DENO_DIR, else the platform's cache folder.
            [
              "PATH",
              "HOME",
              "DENO_DIR",
              "XDG_CACHE_HOME",
              "LOCALAPPDATA",
              "SystemRoot",
            ].flatMap((key) => {
              const value = Deno.env.get(key);
              return value === undefined ? [] : [[key, value]];
            }),
          ),
        },
      });
      const { code, stdout, stderr } = await command.output();
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 0, err);
      return JSON.parse(new TextDecoder().decode(stdout));
    };
    const all = await run(ENV_KEYS.join(","), dir);
    assert.deepEqual(all, [
      { kind: "ok", c: 3, w: [] },
      { kind: "help" },
      { kind: "error", message: "unknown option '--bogus'; see --help" },
      {
        kind: "error",
        message:
          "--concurrency=x (from the command line; variable CONCURRENCY): must be a whole number from 1 to 256",
      },
    ]);
    const narrow = await run("CSV_IN", "");
    assert.equal(narrow[0].kind, "error");
    assert.equal(
      narrow[0].message,
      "cannot read .env: run with --allow-read=.env",
    );
    assert.deepEqual(narrow[2], all[2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
