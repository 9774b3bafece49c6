/**
 * Loads the importer's configuration from, first to last, the command-line
 * flags, the process environment, the `.env` file and the defaults of
 * {@link SETTINGS}, and validates every value with zod before anything is
 * read or sent. Never prints and never throws: the outcome, including help,
 * version and a one-line error, is a {@link ConfigResult}.
 *
 * @module
 */

import { Command, Option, parseDotenv, z } from "./_deps.ts";
import { parseDuration } from "../shared/duration.ts";
import { ENV_KEYS, helpText, type Setting, SETTINGS } from "./settings.ts";
import { versionText } from "../shared/version.ts";
import { type Delimiter, parseDelimiter } from "./csv/dialect.ts";

import { LEVELS as LOG_LEVELS, type LogLevel } from "./log.ts";

export { LOG_LEVELS, type LogLevel };

/** The validated settings; see {@link SETTINGS} for each one's meaning. */
export interface Config {
  /** The CSV to import. @default {"backup.csv"} */
  csvIn: string;
  /** Where each movie is POSTed (http or https). @default {"http://localhost:9009/movies"} */
  urlOut: string;
  /** The least severe level logged. @default {"INFO"} */
  logLevel: LogLevel;
  /** Stop once this many rows have failed; 0 never stops. @default {0} */
  stopOnErrors: number;
  /** Requests in flight at once (1..256). @default {16} */
  concurrency: number;
  /** Per-request timeout in milliseconds. @default {10000} */
  timeoutMs: number;
  /** Retries per row after the first attempt (0..100). @default {15} */
  maxRetries: number;
  /** Base of the exponential backoff, in milliseconds. @default {10} */
  retryBaseMs: number;
  /** Longest single backoff wait, in milliseconds. @default {10000} */
  retryCapMs: number;
  /** Where rejected rows go. @default {"rejects.csv"} */
  rejectsPath: string;
  /** Where the JSON report goes. @default {"report.json"} */
  reportPath: string;
  /** The folder of the delivery ledgers (one per URL). @default {"ledger"} */
  ledgerDir: string;
  /** Send every row again, even those the ledger holds. @default {false} */
  fresh: boolean;
  /** Skip rows whose body an earlier row of the input has. @default {false} */
  dedupe: boolean;
  /** Read and validate only; print the JSON bodies. @default {false} */
  dryRun: boolean;
  /** The CSV's field delimiter, or `auto` to detect it. @default {"auto"} */
  delimiter: "auto" | Delimiter;
  /** The CSV's encoding, or `auto` to detect it. @default {"auto"} */
  encoding: "auto" | "utf-8" | "windows-1252";
  /** On Ctrl-C, how long to wait for requests in flight, in ms. @default {10000} */
  drainTimeoutMs: number;
  /** Stop when every request has failed for this long, in ms. @default {30000} */
  giveUpMs: number;
  /** At the start, how long to probe a service that never answers, in ms. @default {10000} */
  connectTimeoutMs: number;
  /** Live progress. @default {"auto"} */
  progress: "auto" | "bar" | "lines" | "off";
  /** How log lines are written. @default {"text"} */
  logFormat: "text" | "json";
  /** One log line per rejected or pending row. @default {true} */
  logRows: boolean;
  /** Serve Prometheus metrics on this port during the run; 0 = off. @default {0} */
  metricsPort: number;
  /** Push the final metrics to this Pushgateway; "" = off. @default {""} */
  pushgateway: string;
  /** The dotenv file actually read, if any. @default {null} */
  envFile: string | null;
}

/**
 * Where a setting's value came from: a command-line flag (or the `[csv]`
 * argument), the process environment, the `.env` file (or `--env-file`), or
 * the default.
 */
export type Source = "flag" | "environment" | ".env" | "default";

/** What {@link loadConfig} decided. */
export type ConfigResult =
  | {
    kind: "ok";
    config: Config;
    /** One-line warnings for the log (e.g. a group-readable `.env`). */
    warnings: string[];
    /** Where each setting came from, e.g. for a DEBUG log line. */
    sources: Record<keyof Config, Source>;
  }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "error"; message: string };

/** The I/O {@link loadConfig} needs; each has a Deno default. */
export interface ConfigDeps {
  /**
   * Reads one environment variable (only the names in `ENV_KEYS` are asked).
   * @default {(key) => Deno.env.get(key)}
   */
  getEnv(key: string): string | undefined;
  /**
   * Reads the dotenv file.
   * @default {(path) => Deno.readTextFile(path)}
   */
  readTextFile(path: string): Promise<string>;
  /**
   * The file's permission bits, `null` where the platform has none.
   * @default {async (path) => ({ mode: (await Deno.stat(path)).mode })}
   */
  stat(path: string): Promise<{ mode: number | null }>;
}

const DENO_DEPS: ConfigDeps = {
  getEnv: (key) => Deno.env.get(key),
  readTextFile: (path) => Deno.readTextFile(path),
  stat: async (path) => ({ mode: (await Deno.stat(path)).mode }),
};

const DEFAULT_ENV_FILE = ".env";
const DAY_MS = 24 * 3_600_000;

/** A whole number in `[min, max]`, written in decimal digits. */
function wholeNumber(min: number, max: number) {
  return z.string().trim().regex(/^\d+$/).transform(Number).pipe(
    z.number().int().min(min).max(max),
  );
}

/** A duration (see `parseDuration`) in `[min, max]` milliseconds. */
function duration(min: number, max: number) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms !== null) return ms;
    ctx.addIssue({ code: "custom", message: "not a duration" });
    return z.NEVER;
  }).pipe(z.number().min(min).max(max));
}

/** Text in any case, mapped through `aliases`, then one of `values`. */
function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  aliases: Record<string, T[number]> = {},
  normalise: (text: string) => string = (text) => text.toLowerCase(),
) {
  return z.string().trim().transform((text) => {
    const key = normalise(text);
    return Object.hasOwn(aliases, key) ? aliases[key] : key;
  }).pipe(z.enum(values));
}

// deno-lint-ignore no-control-regex
const filePath = z.string().min(1).regex(/^[^\x00-\x1f\x7f]*$/);

const httpUrl = z.string().trim().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") &&
      url.hostname !== "";
  } catch {
    return false;
  }
});

const boolean = choice(["true", "false"], {
  "1": "true",
  "yes": "true",
  "0": "false",
  "no": "false",
}).transform((text) => text === "true");

/** One zod schema per setting (but `envFile`), each reading text. */
const CONFIG_SCHEMA = z.object({
  csvIn: filePath,
  urlOut: httpUrl,
  logLevel: choice(LOG_LEVELS, { WARN: "WARNING" }, (t) => t.toUpperCase()),
  stopOnErrors: wholeNumber(0, Number.MAX_SAFE_INTEGER),
  concurrency: wholeNumber(1, 256),
  timeoutMs: duration(1, DAY_MS),
  maxRetries: wholeNumber(0, 100),
  retryBaseMs: duration(0, DAY_MS),
  retryCapMs: duration(0, DAY_MS),
  rejectsPath: filePath,
  reportPath: filePath,
  ledgerDir: filePath,
  fresh: boolean,
  dedupe: boolean,
  dryRun: boolean,
  delimiter: z.string().transform((text, ctx) => {
    const d = parseDelimiter(text);
    if (d !== null) return d;
    ctx.addIssue({ code: "custom", message: "not a delimiter" });
    return z.NEVER;
  }),
  encoding: choice(["auto", "utf-8", "windows-1252"], {
    utf8: "utf-8",
    cp1252: "windows-1252",
    latin1: "windows-1252",
    "iso-8859-1": "windows-1252",
  }),
  drainTimeoutMs: duration(0, DAY_MS),
  giveUpMs: duration(1, DAY_MS),
  connectTimeoutMs: duration(1, DAY_MS),
  progress: choice(["auto", "bar", "lines", "off"]),
  logFormat: choice(["text", "json"]),
  logRows: boolean,
  metricsPort: wholeNumber(0, 65535),
  pushgateway: z.string().trim().refine((text) =>
    text === "" || httpUrl.safeParse(text).success
  ),
});

type ValidatedKey = keyof z.input<typeof CONFIG_SCHEMA>;

/** A raw value and where it came from, to name it in an error. */
interface Raw {
  value: string;
  source: Source;
  /** How the user wrote it: `--concurrency`, `argument [csv]`, `CONCURRENCY`. */
  name: string;
  /** The `.env` file's path, for values from it. */
  file?: string;
}

/** Text on one line, quoted when it has spaces or odd characters. */
function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return /^[\x21-\x7e]+$/.test(cut) && !cut.includes('"')
    ? cut
    : JSON.stringify(cut);
}

/** A path as a shell word. */
function shellWord(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path)
    ? path
    : `'${path.replaceAll("'", `'\\''`)}'`;
}

/** An error's message on one line. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** The one-line error for a bad value of `setting`. */
function badValue(setting: Setting, raw: Raw): string {
  const also: string[] = [];
  if (raw.source !== "flag" || raw.name !== setting.flag) {
    also.push(`flag ${setting.flag}`);
  }
  if (setting.env !== null && raw.name !== setting.env) {
    also.push(`variable ${setting.env}`);
  }
  const from = raw.source === "flag"
    ? "the command line"
    : raw.source === "environment"
    ? "the environment"
    : raw.source === ".env"
    ? raw.file ?? DEFAULT_ENV_FILE
    : "the default";
  const written = raw.name.startsWith("argument")
    ? `${raw.name} ${shown(raw.value)}`
    : `${raw.name}=${shown(raw.value)}`;
  const names = also.length > 0 ? `; ${also.join(", ")}` : "";
  return `${written} (from ${from}${names}): must be ${setting.allowed}`;
}

const error = (message: string): ConfigResult => ({ kind: "error", message });

/** Is `e` a Deno permission refusal or an OS "permission denied"? */
function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable ||
    e instanceof Deno.errors.PermissionDenied;
}

/** Parses `args` with commander: flag values as text, and the `[csv]`. */
function parseFlags(
  args: string[],
): { flags: Map<Setting, string>; csv: string | undefined } | string {
  const byAttribute = new Map<string, Setting>();
  const command = new Command("parse-and-post")
    .helpOption(false)
    .argument("[csv]")
    .allowExcessArguments(false)
    .exitOverride()
    // Capture all output and never ask about colours: commander's colour
    // check reads CLICOLOR_FORCE, which throws under a narrow --allow-env.
    .configureOutput({
      writeOut: () => {},
      writeErr: () => {},
      outputError: () => {},
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  for (const setting of SETTINGS) {
    const option = new Option(
      setting.arg === null ? setting.flag : `${setting.flag} <${setting.arg}>`,
    );
    byAttribute.set(option.attributeName(), setting);
    command.addOption(option);
  }
  try {
    command.parse(args, { from: "user" });
  } catch (e) {
    const message = oneLine(e).replace(/^error:\s*/, "");
    return `${message}; see --help`;
  }
  const flags = new Map<Setting, string>();
  for (const [attribute, value] of Object.entries(command.opts())) {
    const setting = byAttribute.get(attribute);
    if (setting !== undefined && value !== undefined) {
      flags.set(setting, value === true ? "true" : String(value));
    }
  }
  const csv = command.args[0] as string | undefined;
  return { flags, csv };
}

/** Reads the known variables one by one; denied ones are listed. */
function readEnvironment(
  getEnv: ConfigDeps["getEnv"],
): { env: Map<string, string>; denied: string[] } {
  const env = new Map<string, string>();
  const denied: string[] = [];
  for (const key of ENV_KEYS) {
    let value: string | undefined;
    try {
      value = getEnv(key);
    } catch (e) {
      if (!isPermissionError(e)) throw e;
      denied.push(key);
    }
    if (value !== undefined && value !== "") env.set(key, value);
  }
  return { env, denied };
}

/** Reads and parses the dotenv file; `null` when the default one is absent. */
async function readEnvFile(
  path: string,
  explicit: boolean,
  deps: ConfigDeps,
  warnings: string[],
): Promise<Map<string, string> | null | string> {
  let text: string;
  try {
    text = await deps.readTextFile(path);
  } catch (e) {
    const flag = explicit ? `--env-file ${shown(path)}` : path;
    if (e instanceof Deno.errors.NotFound) {
      return explicit ? `cannot read ${flag}: no such file` : null;
    }
    if (e instanceof Deno.errors.NotCapable) {
      return `cannot read ${flag}: run with --allow-read=${shellWord(path)}`;
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      return `cannot read ${flag}: permission denied (check the file's ` +
        `owner and mode; under Deno run with --allow-read=${shellWord(path)})`;
    }
    return `cannot read ${flag}: ${oneLine(e)}`;
  }
  try {
    const { mode } = await deps.stat(path);
    if (mode !== null && (mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(3, "0");
      warnings.push(
        `${path} is accessible by group or others (mode ${octal}): ` +
          `run chmod 600 ${shellWord(path)}`,
      );
    }
  } catch {
    // No mode to check (e.g. the file went away after reading): no warning.
  }
  const parsed: Record<string, string> = parseDotenv(text);
  const values = new Map<string, string>();
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!ENV_KEYS.includes(key)) unknown.push(key);
    else if (value !== "") values.set(key, value);
  }
  if (unknown.length > 0) {
    warnings.push(
      `${path}: ignoring unknown keys ${unknown.join(", ")} ` +
        `(known: see .env.example or --help)`,
    );
  }
  return values;
}

/** Is `flag` (before any `--`) among `args`? */
function hasFlag(args: string[], ...flags: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) =>
    flags.includes(a)
  );
}

/** Where each value comes from: the flag, the `[csv]` argument, the environment, `.env`, the default. */
function rawValue(
  setting: Setting,
  sources: {
    flags: Map<Setting, string>;
    csv: string | undefined;
    env: Map<string, string>;
    dotenv: Map<string, string> | null;
    envFilePath: string;
  },
): Raw {
  const { flags, csv, env, dotenv, envFilePath } = sources;
  const flag = flags.get(setting);
  if (flag !== undefined) {
    return { value: flag, source: "flag", name: setting.flag };
  }
  if (setting.key === "csvIn" && csv !== undefined) {
    return { value: csv, source: "flag", name: "argument [csv]" };
  }
  if (setting.env !== null && env.has(setting.env)) {
    return {
      value: env.get(setting.env)!,
      source: "environment",
      name: setting.env,
    };
  }
  if (setting.env !== null && dotenv?.has(setting.env)) {
    return {
      value: dotenv.get(setting.env)!,
      source: ".env",
      name: setting.env,
      file: envFilePath,
    };
  }
  return { value: setting.default, source: "default", name: setting.flag };
}

/** The flags' own mistakes: an empty --env-file, the CSV given twice. */
function flagConflict(
  flags: Map<Setting, string>,
  csv: string | undefined,
): string | null {
  const envFileSetting = SETTINGS.find((s) => s.key === "envFile")!;
  const csvSetting = SETTINGS.find((s) => s.key === "csvIn")!;
  if (flags.get(envFileSetting) === "") {
    return badValue(envFileSetting, {
      value: "",
      source: "flag",
      name: envFileSetting.flag,
    });
  }
  const csvFlag = flags.get(csvSetting);
  if (csvFlag !== undefined && csv !== undefined && csvFlag !== csv) {
    return `the CSV is given twice, as ${csvSetting.flag} ${
      shown(csvFlag)
    } and ` +
      `as argument ${shown(csv)}: give one`;
  }
  return null;
}

async function load(args: string[], deps: ConfigDeps): Promise<ConfigResult> {
  if (hasFlag(args, "-h", "--help")) return { kind: "help", text: helpText() };
  if (hasFlag(args, "-V", "--version")) {
    return { kind: "version", text: versionText() };
  }
  const parsed = parseFlags(args);
  if (typeof parsed === "string") return error(parsed);
  const { flags, csv } = parsed;
  const conflict = flagConflict(flags, csv);
  if (conflict !== null) return error(conflict);
  const warnings: string[] = [];
  const { env, denied } = readEnvironment(deps.getEnv);
  if (denied.length > 0) {
    warnings.push(
      `ignoring environment variables ${denied.join(", ")}: no permission ` +
        `to read them (add them to --allow-env)`,
    );
  }
  const explicitEnvFile = flags.get(SETTINGS.find((s) => s.key === "envFile")!);
  const envFilePath = explicitEnvFile ?? DEFAULT_ENV_FILE;
  const dotenv = await readEnvFile(
    envFilePath,
    explicitEnvFile !== undefined,
    deps,
    warnings,
  );
  if (typeof dotenv === "string") return error(dotenv);
  const raws = new Map<ValidatedKey, Raw>();
  for (const setting of SETTINGS) {
    if (setting.key === "envFile") continue;
    raws.set(
      setting.key,
      rawValue(setting, { flags, csv, env, dotenv, envFilePath }),
    );
  }
  const input = Object.fromEntries(
    [...raws].map(([key, raw]) => [key, raw.value]),
  );
  const result = CONFIG_SCHEMA.safeParse(input);
  if (!result.success) {
    const bad = new Set(result.error.issues.map((issue) => issue.path[0]));
    const setting = SETTINGS.find((s) => bad.has(s.key))!;
    return error(badValue(setting, raws.get(setting.key as ValidatedKey)!));
  }
  const config: Config = {
    ...result.data,
    envFile: dotenv === null ? null : envFilePath,
  };
  const sources = Object.fromEntries([
    ...[...raws].map(([key, raw]) => [key, raw.source]),
    ["envFile", explicitEnvFile === undefined ? "default" : "flag"],
  ]) as Record<keyof Config, Source>;
  return { kind: "ok", config, warnings, sources };
}

/**
 * Builds the configuration from `args` (without the program name), the
 * process environment (only `ENV_KEYS`, one by one) and the dotenv file
 * (`--env-file`, else `.env` if present). Flags win over the environment,
 * which wins over the file, which wins over the defaults. `-h`/`--help` and
 * `-V`/`--version` anywhere before `--` win over everything.
 *
 * Never throws and never prints: bad input gives `{ kind: "error" }` with
 * one line naming the setting, its value, where it came from and what is
 * allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * const noFiles = {
 *   getEnv: (key: string) => ({ CONCURRENCY: "4" } as Record<string, string>)[key],
 *   readTextFile: () => Promise.resolve("CONCURRENCY = 2\nLOG_LEVEL = debug\n"),
 *   stat: () => Promise.resolve({ mode: 0o600 }),
 * };
 * const result = await loadConfig(["--timeout", "2s", "movies.csv"], noFiles);
 * if (result.kind !== "ok") throw new Error("expected a config");
 * assert.equal(result.config.csvIn, "movies.csv");
 * assert.equal(result.config.concurrency, 4); // environment over .env
 * assert.equal(result.config.logLevel, "DEBUG"); // from .env
 * assert.equal(result.config.timeoutMs, 2000); // flag
 * assert.equal(result.config.maxRetries, 15); // default
 *
 * const bad = await loadConfig(["--concurrency", "0"], noFiles);
 * assert.ok(bad.kind === "error" && bad.message.startsWith("--concurrency=0"));
 * ```
 */
export async function loadConfig(
  args: string[],
  deps: Partial<ConfigDeps> = {},
): Promise<ConfigResult> {
  try {
    return await load(args, { ...DENO_DEPS, ...deps });
  } catch (e) {
    return error(`cannot load the configuration: ${oneLine(e)}`);
  }
}

/**
 * The configuration when nothing is set: every default of {@link SETTINGS},
 * validated, and no env file. Handy as a base for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "./config.ts";
 * const config = { ...defaultConfig(), concurrency: 1 };
 * assert.equal(config.urlOut, "http://localhost:9009/movies");
 * assert.ok(config.retryBaseMs === 10 && config.envFile === null);
 * ```
 */
export function defaultConfig(): Config {
  const defaults = Object.fromEntries(
    SETTINGS.filter((s) => s.key !== "envFile").map((s) => [s.key, s.default]),
  );
  return { ...CONFIG_SCHEMA.parse(defaults), envFile: null };
}
