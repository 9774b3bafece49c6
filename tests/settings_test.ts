import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { defaultConfig, loadConfig } from "../lib/importer/config.ts";
import { formatDuration, parseDuration } from "../lib/shared/duration.ts";
import {
  ENV_KEYS,
  envExampleText,
  helpText,
  SETTINGS,
  settingsMarkdown,
  shownDefault,
} from "../lib/importer/settings.ts";
import { NAME, VERSION, versionText } from "../lib/shared/version.ts";

const EXAMPLE = new URL("../.env.example", import.meta.url);

/** Loads with no environment and `text` as the only `.env` content. */
function loadWithEnvText(text: string, args: string[] = []) {
  return loadConfig(args, {
    getEnv: () => undefined,
    readTextFile: () => Promise.resolve(text),
    stat: () => Promise.resolve({ mode: 0o600 }),
  });
}

Deno.test("VERSION equals deno.json's version", () => {
  assert.equal(VERSION, denoJson.version);
  assert.equal(NAME, denoJson.name);
  assert.equal(versionText(), `parse-and-post ${denoJson.version}`);
});

Deno.test("SETTINGS: keys, flags and variables are unique and well formed", () => {
  const keys = SETTINGS.map((s) => s.key);
  const flags = SETTINGS.map((s) => s.flag);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(new Set(flags).size, flags.length);
  assert.equal(new Set(ENV_KEYS).size, ENV_KEYS.length);
  for (const s of SETTINGS) {
    assert.match(s.flag, /^--[a-z][a-z-]*$/);
    if (s.env !== null) assert.match(s.env, /^[A-Z][A-Z_]*$/);
    assert.ok(s.meaning.length > 0 && s.allowed.length > 0, s.flag);
  }
  assert.deepEqual(
    ENV_KEYS,
    SETTINGS.filter((s) => s.env !== null).map((s) => s.env),
  );
  // Every Config field has exactly one setting.
  assert.deepEqual(
    [...keys].sort(),
    Object.keys({ ...defaultConfig() }).sort(),
  );
});

Deno.test("SETTINGS: the exercise's names and defaults", () => {
  const byEnv = Object.fromEntries(
    SETTINGS.map((s) => [s.env ?? s.flag, [s.flag, s.default]]),
  );
  assert.deepEqual(byEnv, {
    CSV_IN: ["--csv-in", "backup.csv"],
    URL_OUT: ["--url-out", "http://localhost:9009/movies"],
    LOG_LEVEL: ["--log-level", "INFO"],
    LOG_FORMAT: ["--log-format", "text"],
    LOG_ROWS: ["--log-rows", "yes"],
    PROGRESS: ["--progress", "auto"],
    STOP_ON_ERRORS: ["--stop-on-errors", "0"],
    CONCURRENCY: ["--concurrency", "16"],
    REQUEST_TIMEOUT: ["--timeout", "10s"],
    MAX_RETRIES: ["--max-retries", "15"],
    RETRY_BASE: ["--retry-base", "10ms"],
    RETRY_CAP: ["--retry-cap", "10s"],
    REJECTS_OUT: ["--rejects", "rejects.csv"],
    REPORT_OUT: ["--report", "report.json"],
    LEDGER_DIR: ["--ledger-dir", "ledger"],
    FRESH: ["--fresh", "false"],
    DEDUPE: ["--dedupe", "false"],
    DRY_RUN: ["--dry-run", "false"],
    CSV_DELIMITER: ["--delimiter", "auto"],
    CSV_ENCODING: ["--encoding", "auto"],
    DRAIN_TIMEOUT: ["--drain-timeout", "10s"],
    GIVE_UP_AFTER: ["--give-up", "30s"],
    CONNECT_TIMEOUT: ["--connect-timeout", "10s"],
    METRICS_PORT: ["--metrics-port", "0"],
    PUSHGATEWAY_URL: ["--pushgateway", ""],
    "--env-file": ["--env-file", ".env"],
  });
});

Deno.test("every default is valid and gives the documented Config", () => {
  assert.deepEqual(defaultConfig(), {
    csvIn: "backup.csv",
    urlOut: "http://localhost:9009/movies",
    logLevel: "INFO",
    logFormat: "text",
    logRows: true,
    progress: "auto",
    stopOnErrors: 0,
    concurrency: 16,
    timeoutMs: 10_000,
    maxRetries: 15,
    retryBaseMs: 10,
    retryCapMs: 10_000,
    rejectsPath: "rejects.csv",
    reportPath: "report.json",
    ledgerDir: "ledger",
    fresh: false,
    dedupe: false,
    dryRun: false,
    delimiter: "auto",
    encoding: "auto",
    drainTimeoutMs: 10_000,
    giveUpMs: 30_000,
    connectTimeoutMs: 10_000,
    metricsPort: 0,
    pushgateway: "",
    envFile: null,
  });
});

Deno.test("--help mentions every flag, variable and default", () => {
  const help = helpText();
  for (const s of SETTINGS) {
    assert.ok(help.includes(s.arg ? `${s.flag} ${s.arg}` : s.flag), s.flag);
    assert.ok(help.includes(shownDefault(s)), s.default);
    const where = s.env === null ? "no variable" : `env ${s.env}`;
    assert.ok(help.includes(`${where}, default ${shownDefault(s)}`), s.flag);
  }
  assert.ok(help.includes("--help") && help.includes("--version"));
  assert.ok(help.includes("[csv]"));
  for (const line of help.split("\n")) assert.ok(line.length <= 80, line);
  assert.ok(!help.endsWith("\n"));
});

Deno.test("settingsMarkdown has one row per setting", () => {
  const rows = settingsMarkdown().trimEnd().split("\n");
  assert.equal(rows.length, SETTINGS.length + 2);
  for (const [i, s] of SETTINGS.entries()) {
    const shown = s.default === "" ? "(none)" : `\`${s.default}\``;
    assert.ok(rows[i + 2].includes(`| ${shown} |`), s.flag);
    assert.ok(rows[i + 2].includes(s.env ?? "(none)"), s.flag);
  }
});

Deno.test(".env.example is exactly what SETTINGS renders", async () => {
  assert.equal(await Deno.readTextFile(EXAMPLE), envExampleText());
});

Deno.test(".env.example loads: the exercise's keys, set to defaults", async () => {
  const text = await Deno.readTextFile(EXAMPLE);
  const result = await loadWithEnvText(text);
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok") return;
  assert.deepEqual(result.warnings, []);
  assert.deepEqual({ ...result.config, envFile: null }, defaultConfig());
  const fromFile = Object.entries(result.sources)
    .filter(([, source]) => source === ".env")
    .map(([key]) => SETTINGS.find((s) => s.key === key)!.env);
  assert.deepEqual(fromFile.sort(), [
    "CSV_IN",
    "LOG_LEVEL",
    "STOP_ON_ERRORS",
    "URL_OUT",
  ]);
});

Deno.test(".env.example, all uncommented, names exactly ENV_KEYS", async () => {
  const text = (await Deno.readTextFile(EXAMPLE))
    .replace(/^# ([A-Z_]+ = )/gm, "$1");
  const assignments = [...text.matchAll(/^([A-Z_]+) = /gm)].map((m) => m[1]);
  assert.deepEqual(assignments, [...ENV_KEYS]);
  const result = await loadWithEnvText(text);
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok") return;
  assert.deepEqual(result.warnings, []);
  assert.deepEqual({ ...result.config, envFile: null }, defaultConfig());
  for (const s of SETTINGS) {
    // An empty value counts as unset: its source stays the default.
    const source = s.default === "" ? "default" : ".env";
    if (s.env !== null) assert.equal(result.sources[s.key], source, s.env);
  }
});

Deno.test("parseDuration / formatDuration", () => {
  const cases: [string, number | null][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["10", 10_000],
    ["0.25", 250],
    [" 1.5S ", 1_500],
    ["0", 0],
    ["", null],
    ["-1s", null],
    ["1d", null],
    ["ms", null],
    ["1e3", null],
    ["10 s", 10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  for (const ms of [0, 1, 100, 1_500, 10_000, 120_000, 3_600_000, 5_400_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
  assert.equal(formatDuration(90_000), "90s");
});
