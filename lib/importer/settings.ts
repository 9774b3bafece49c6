/**
 * Every setting of the importer in one table, {@link SETTINGS}: its flag,
 * environment variable, default, meaning and allowed values. The help text,
 * `.env.example` and the README's table are all rendered from it (and tests
 * check them against it); `config.ts` validates values against the same
 * `allowed` words.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { NAME, VERSION } from "../shared/version.ts";
import { DELIMITER_ALLOWED } from "./csv/dialect.ts";

/** One setting: how to give it, its default, and what it means. */
export interface Setting {
  /** The field of {@link Config} it fills. */
  key: keyof Config | "envFile";
  /** The long flag, e.g. `--csv-in`. */
  flag: string;
  /** The flag's value placeholder, e.g. `PATH`; `null` for a switch. */
  arg: string | null;
  /** The environment (and `.env`) variable, or `null` when there is none. */
  env: string | null;
  /** The default, as text, exactly as it could be written in `.env`. */
  default: string;
  /** What it does, in a few words. */
  meaning: string;
  /** What values are allowed, as a noun phrase after "must be". */
  allowed: string;
}

const PATH_ALLOWED = "a file path (not empty, no control characters)";
const BOOL_ALLOWED = "true/false, 1/0 or yes/no (any case)";
const DURATION_EXAMPLES = "e.g. 500ms, 10s, 2m (a bare number means seconds)";

/**
 * The settings, in the order `--help`, `.env.example` and the README list
 * them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SETTINGS } from "./settings.ts";
 * const concurrency = SETTINGS.find((s) => s.key === "concurrency")!;
 * assert.equal(concurrency.env, "CONCURRENCY");
 * assert.equal(concurrency.default, "16");
 * ```
 */
export const SETTINGS: readonly Setting[] = [
  {
    key: "csvIn",
    flag: "--csv-in",
    arg: "PATH",
    env: "CSV_IN",
    default: "backup.csv",
    meaning: "the CSV to import; also accepted as the optional argument [csv]",
    allowed: PATH_ALLOWED,
  },
  {
    key: "urlOut",
    flag: "--url-out",
    arg: "URL",
    env: "URL_OUT",
    default: "http://localhost:9009/movies",
    meaning: "where each movie is POSTed as JSON",
    allowed: "an http:// or https:// URL",
  },
  {
    key: "logLevel",
    flag: "--log-level",
    arg: "LEVEL",
    env: "LOG_LEVEL",
    default: "INFO",
    meaning: "the least severe level that is logged",
    allowed: "one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)",
  },
  {
    key: "logFormat",
    flag: "--log-format",
    arg: "FORMAT",
    env: "LOG_FORMAT",
    default: "text",
    meaning:
      "text: `time LEVEL message` lines; json: one JSON object per event (time, level, msg, line, field, reason, status, attempt)",
    allowed: "text or json",
  },
  {
    key: "logRows",
    flag: "--log-rows",
    arg: "BOOL",
    env: "LOG_ROWS",
    default: "yes",
    meaning:
      "log one line per rejected or pending row (no: progress and errors only; every such row is in the rejects file or the report anyway)",
    allowed: "true/false, 1/0 or yes/no (any case)",
  },
  {
    key: "progress",
    flag: "--progress",
    arg: "MODE",
    env: "PROGRESS",
    default: "auto",
    meaning:
      "live progress: bar (one status line redrawn on a terminal), lines (an INFO line every 5 s), off; auto = bar on a terminal, else lines",
    allowed: "auto, bar, lines or off",
  },
  {
    key: "stopOnErrors",
    flag: "--stop-on-errors",
    arg: "N",
    env: "STOP_ON_ERRORS",
    default: "0",
    meaning:
      "stop once N rows have failed (invalid, refused by the service, or out of retries), counted as answers arrive; 0 never stops",
    allowed: "a whole number, 0 or more",
  },
  {
    key: "concurrency",
    flag: "--concurrency",
    arg: "N",
    env: "CONCURRENCY",
    default: "16",
    meaning: "requests in flight at once; 1 = sequential",
    allowed: "a whole number from 1 to 256",
  },
  {
    key: "timeoutMs",
    flag: "--timeout",
    arg: "DURATION",
    env: "REQUEST_TIMEOUT",
    default: "10s",
    meaning:
      "per-request timeout: no answer within it and the attempt is retried, as ambiguous (checked about twice a second: it may fire up to 1 s late)",
    allowed: `a duration from 1ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "maxRetries",
    flag: "--max-retries",
    arg: "N",
    env: "MAX_RETRIES",
    default: "15",
    meaning: "retries per row after the first attempt, for transient failures",
    allowed: "a whole number from 0 to 100",
  },
  {
    key: "retryBaseMs",
    flag: "--retry-base",
    arg: "DURATION",
    env: "RETRY_BASE",
    default: "10ms",
    meaning: "base of the exponential backoff between retries (full jitter)",
    allowed: `a duration from 0ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "retryCapMs",
    flag: "--retry-cap",
    arg: "DURATION",
    env: "RETRY_CAP",
    default: "10s",
    meaning: "longest single backoff wait",
    allowed: `a duration from 0ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "rejectsPath",
    flag: "--rejects",
    arg: "PATH",
    env: "REJECTS_OUT",
    default: "rejects.csv",
    meaning: "where rejected rows are written (CSV)",
    allowed: PATH_ALLOWED,
  },
  {
    key: "reportPath",
    flag: "--report",
    arg: "PATH",
    env: "REPORT_OUT",
    default: "report.json",
    meaning: "where the JSON report is written",
    allowed: PATH_ALLOWED,
  },
  {
    key: "ledgerDir",
    flag: "--ledger-dir",
    arg: "DIR",
    env: "LEDGER_DIR",
    default: "ledger",
    meaning:
      "the folder of the delivery ledgers, one per destination URL: rows they record are never sent again",
    allowed: PATH_ALLOWED,
  },
  {
    key: "fresh",
    flag: "--fresh",
    arg: null,
    env: "FRESH",
    default: "false",
    meaning:
      "send every row again, even those the ledger says were delivered (it says first how many)",
    allowed: BOOL_ALLOWED,
  },
  {
    key: "dedupe",
    flag: "--dedupe",
    arg: null,
    env: "DEDUPE",
    default: "false",
    meaning:
      "skip a row whose JSON body equals an earlier row's in the input (counted as a duplicate of that line)",
    allowed: BOOL_ALLOWED,
  },
  {
    key: "dryRun",
    flag: "--dry-run",
    arg: null,
    env: "DRY_RUN",
    default: "false",
    meaning:
      "read and validate only, no network; prints the JSON bodies to stdout",
    allowed: BOOL_ALLOWED,
  },
  {
    key: "delimiter",
    flag: "--delimiter",
    arg: "DELIM",
    env: "CSV_DELIMITER",
    default: "auto",
    meaning: "the CSV's field delimiter; auto detects it",
    allowed: DELIMITER_ALLOWED,
  },
  {
    key: "encoding",
    flag: "--encoding",
    arg: "ENC",
    env: "CSV_ENCODING",
    default: "auto",
    meaning: "the CSV's text encoding; auto detects it",
    allowed:
      "auto, utf-8 or windows-1252 (also utf8, cp1252, latin1, iso-8859-1)",
  },
  {
    key: "drainTimeoutMs",
    flag: "--drain-timeout",
    arg: "DURATION",
    env: "DRAIN_TIMEOUT",
    default: "10s",
    meaning: "on Ctrl-C, how long to wait for requests in flight",
    allowed: `a duration from 0ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "giveUpMs",
    flag: "--give-up",
    arg: "DURATION",
    env: "GIVE_UP_AFTER",
    default: "30s",
    meaning:
      "stop when every request has failed, without an HTTP answer, for this long (from the first failure); the rows stay pending",
    allowed: `a duration from 1ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "connectTimeoutMs",
    flag: "--connect-timeout",
    arg: "DURATION",
    env: "CONNECT_TIMEOUT",
    default: "10s",
    meaning:
      "at the start, how long to keep probing a service that never answers before stopping (exit 1)",
    allowed: `a duration from 1ms to 24h, ${DURATION_EXAMPLES}`,
  },
  {
    key: "metricsPort",
    flag: "--metrics-port",
    arg: "N",
    env: "METRICS_PORT",
    default: "0",
    meaning:
      "serve Prometheus metrics on http://127.0.0.1:N/metrics during the run; 0 = off",
    allowed: "a whole number from 0 to 65535",
  },
  {
    key: "pushgateway",
    flag: "--pushgateway",
    arg: "URL",
    env: "PUSHGATEWAY_URL",
    default: "",
    meaning:
      "push the final metrics to this Prometheus Pushgateway at the end (job parse_and_post); empty = off",
    allowed: "an http:// or https:// URL, or empty",
  },
  {
    key: "envFile",
    flag: "--env-file",
    arg: "PATH",
    env: null,
    default: ".env",
    meaning: "the dotenv file to read; a missing default .env is fine",
    allowed: PATH_ALLOWED,
  },
];

/**
 * Every environment variable the importer reads, in {@link SETTINGS} order:
 * exactly the list for `deno run --allow-env=…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENV_KEYS } from "./settings.ts";
 * assert.ok(ENV_KEYS.includes("CSV_IN"));
 * assert.ok(!ENV_KEYS.includes("ENV_FILE"));
 * const allowEnv = `--allow-env=${ENV_KEYS.join(",")}`;
 * assert.ok(allowEnv.startsWith("--allow-env=CSV_IN,URL_OUT,"));
 * ```
 */
export const ENV_KEYS: readonly string[] = SETTINGS.flatMap((s) =>
  s.env === null ? [] : [s.env]
);

/** The variables the exercise's own `.env` sets; uncommented in the example. */
const EXERCISE_KEYS: readonly string[] = [
  "LOG_LEVEL",
  "CSV_IN",
  "URL_OUT",
  "STOP_ON_ERRORS",
];

/** Options of {@link helpText}. */
export interface HelpOptions {
  /**
   * Width to wrap the text at.
   * @default {80}
   */
  width?: number;
}

/** Word-wraps `text` to lines of `width - indent`, each indented. */
function wrap(text: string, indent: number, width: number): string[] {
  const room = Math.max(20, width - indent);
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l);
}

/**
 * A setting's default as the help shows it: `none` when it is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SETTINGS, shownDefault } from "./settings.ts";
 * assert.equal(shownDefault(SETTINGS.find((s) => s.key === "pushgateway")!), "none");
 * assert.equal(shownDefault(SETTINGS.find((s) => s.key === "concurrency")!), "16");
 * ```
 */
export function shownDefault(s: Setting): string {
  return s.default === "" ? "none" : s.default;
}

/** `--flag ARG` as the help and the README show it. */
function usage(s: Setting): string {
  return s.arg === null ? s.flag : `${s.flag} ${s.arg}`;
}

/**
 * The `--help` text (no trailing newline): usage, precedence, and for every
 * setting its flag, meaning, allowed values, variable and default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpText, SETTINGS } from "./settings.ts";
 * const help = helpText();
 * assert.ok(SETTINGS.every((s) => help.includes(s.flag)));
 * assert.ok(help.includes("env CONCURRENCY, default 16"));
 * ```
 */
export function helpText(options: HelpOptions = {}): string {
  const width = options.width ?? 80;
  const column = 2 + Math.max(...SETTINGS.map((s) => usage(s).length)) + 3;
  const entry = (left: string, body: string[]): string[] => {
    const first = `  ${left}`.padEnd(column);
    const [head, ...rest] = body;
    return [first + head.trimStart(), ...rest];
  };
  const lines = [
    `${NAME} ${VERSION}: stream a movie CSV and POST each valid row as JSON.`,
    "",
    `Usage: ${NAME} [options] [csv]`,
    "   or: deno task import [options] [csv]",
    "",
    ...wrap(
      "Each setting is taken from, first to last: its flag, its environment " +
        "variable, the .env file (KEY = VALUE lines, see --env-file), its " +
        "default. An empty value in the environment or .env counts as unset.",
      0,
      width,
    ),
    "",
    "Options:",
  ];
  for (const s of SETTINGS) {
    const where = s.env === null ? "no variable" : `env ${s.env}`;
    lines.push(
      ...entry(usage(s), [
        ...wrap(s.meaning, column, width),
        ...wrap(
          s.arg === null
            ? `a switch, no value; in env or .env: ${s.allowed}`
            : `allowed: ${s.allowed}`,
          column,
          width,
        ),
        ...wrap(`${where}, default ${shownDefault(s)}`, column, width),
      ]),
    );
  }
  lines.push(
    ...entry("-h, --help", wrap("show this help and exit", column, width)),
    ...entry(
      "-V, --version",
      wrap(`print "${NAME} ${VERSION}" and exit`, column, width),
    ),
  );
  return lines.join("\n");
}

/** Quotes a `.env` value when dotenv would otherwise cut or trim it. */
function dotenvValue(value: string): string {
  return /^[^\s#'"`]*$/.test(value) ? value : JSON.stringify(value);
}

/**
 * The text of `.env.example`: every setting with a variable, each with its
 * meaning, allowed values, flag and default; the exercise's four keys set to
 * their defaults, the rest commented out. A test checks the file equals it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envExampleText } from "./settings.ts";
 * const text = envExampleText();
 * assert.ok(text.includes("\nCSV_IN = backup.csv\n"));
 * assert.ok(text.includes("\n# CONCURRENCY = 16\n"));
 * ```
 */
export function envExampleText(): string {
  const lines = [
    `# ${NAME} settings: copy this file to .env and edit it.`,
    "#",
    "# Format: KEY = VALUE, one per line; # starts a comment, also after a",
    '# value, so quote a value that contains #: KEY = "a # b".',
    "# An empty value counts as unset. Unknown keys are ignored, with one",
    "# warning naming them. Keep the file private (chmod 600 .env).",
    "# Precedence: command-line flag > environment variable > this file >",
    "# default. Run with --help for the same list.",
  ];
  for (const s of SETTINGS) {
    if (s.env === null) continue;
    lines.push(
      "",
      ...wrap(`${s.meaning[0].toUpperCase()}${s.meaning.slice(1)}.`, 0, 78)
        .map((l) => `# ${l}`),
      ...wrap(`Allowed: ${s.allowed}.`, 0, 78).map((l) => `# ${l}`),
      `# Flag: ${usage(s)}. Default: ${shownDefault(s)}`,
    );
    const line = `${s.env} = ${dotenvValue(s.default)}`;
    lines.push(EXERCISE_KEYS.includes(s.env) ? line : `# ${line}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The settings as a Markdown table (flag, variable, default, meaning,
 * allowed), for the README.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingsMarkdown } from "./settings.ts";
 * const table = settingsMarkdown();
 * assert.ok(table.includes("| `--concurrency N` | `CONCURRENCY` | `16` |"));
 * ```
 */
export function settingsMarkdown(): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const lines = [
    "| Flag | Variable | Default | Meaning | Allowed |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const s of SETTINGS) {
    const env = s.env === null ? "(none)" : `\`${s.env}\``;
    lines.push(
      `| \`${usage(s)}\` | ${env} | ${
        s.default === "" ? "(none)" : `\`${s.default}\``
      } | ${cell(s.meaning)} | ${cell(s.allowed)} |`,
    );
  }
  return lines.join("\n") + "\n";
}
