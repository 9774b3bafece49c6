/**
 * The sink's settings: one table giving, for every option, its command-line
 * flag, its environment variable, its default and what values it allows.
 * `startSink` checks its options against the table and `sink.ts` builds its
 * command line from it, so the two cannot disagree.
 *
 * @module
 */

import { parseDuration } from "../shared/duration.ts";
import type { SinkOptions } from "./server.ts";

/**
 * The options of `startSink` that are plain values (not callbacks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SettingKey } from "./options.ts";
 * const key: SettingKey = "failRate";
 * assert.equal(key, "failRate");
 * ```
 */
export type SettingKey = Exclude<keyof SinkOptions, "now">;

/**
 * One setting of the sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Setting, SETTINGS } from "./options.ts";
 * const failRate: Setting = SETTINGS.find((s) => s.env === "SINK_FAIL_RATE")!;
 * assert.equal(failRate.parse("0.5"), 0.5);
 * assert.ok(!failRate.check(2));
 * ```
 */
export interface Setting {
  /** The `SinkOptions` key. */
  readonly key: SettingKey;
  /** The command-line flag with its value placeholder, e.g. `--port <port>`. */
  readonly flag: string;
  /** The environment variable read when the flag is absent. */
  readonly env: string;
  /** What the setting does, for `--help`. */
  readonly description: string;
  /** The default (undefined: none). */
  readonly defaultValue: string | number | boolean | undefined;
  /** How `--help` shows the default, when not as the value itself. */
  readonly defaultText?: string;
  /** What values are allowed, in words. */
  readonly allowed: string;
  /** Whether a typed value is allowed. */
  check(value: unknown): boolean;
  /** Converts a command-line or environment string; throws when invalid. */
  parse(raw: string): string | number | boolean;
}

const MAX_MS = 3_600_000;

const INTEGER = /^[+-]?\d+$/;

/** A number from text; NaN when it is not one (`Number("")` is 0). */
function toNumber(raw: string, integer: boolean): number {
  const text = raw.trim();
  if (integer) return INTEGER.test(text) ? Number(text) : NaN;
  return text === "" ? NaN : Number(text);
}

function numberSetting(
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: number | undefined,
  kind: "integer" | "number",
  min: number,
  max: number,
  allowed: string,
): Setting {
  const check = (value: unknown) =>
    typeof value === "number" && Number.isFinite(value) &&
    (kind === "number" || Number.isInteger(value)) && value >= min &&
    value <= max;
  return {
    key,
    flag,
    env,
    description,
    defaultValue,
    allowed,
    check,
    parse(raw) {
      const value = toNumber(raw, kind === "integer");
      if (!check(value)) throw new Error(`expected ${allowed}`);
      return value;
    },
  };
}

const rate = (
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: number,
) =>
  numberSetting(
    key,
    flag,
    env,
    description,
    defaultValue,
    "number",
    0,
    1,
    "a number from 0 to 1",
  );

const milliseconds = (
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: number,
) =>
  numberSetting(
    key,
    flag,
    env,
    description,
    defaultValue,
    "number",
    0,
    MAX_MS,
    `a number of milliseconds from 0 to ${MAX_MS}`,
  );

const DAY_MS = 86_400_000;

/**
 * A duration setting in milliseconds, written like the importer's
 * (`500ms`, `2s`, `1m`, `1h`, a bare number of seconds); 0 turns it off.
 */
function durationSetting(
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: number | undefined,
  defaultText: string,
): Setting {
  const allowed =
    "a duration from 0 to 24h, e.g. 500ms, 2s, 1m (a bare number means seconds; 0: off)";
  const check = (value: unknown) =>
    typeof value === "number" && Number.isFinite(value) && value >= 0 &&
    value <= DAY_MS;
  return {
    key,
    flag,
    env,
    description,
    defaultValue,
    defaultText,
    allowed,
    check,
    parse(raw) {
      const ms = parseDuration(raw) ?? NaN;
      if (!check(ms)) throw new Error(`expected ${allowed}`);
      return ms;
    },
  };
}

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

function booleanSetting(
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: boolean,
): Setting {
  const allowed = "true or false (or 1/0, yes/no, on/off)";
  return {
    key,
    flag,
    env,
    description,
    defaultValue,
    allowed,
    check: (value) => typeof value === "boolean",
    parse(raw) {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new Error(`expected ${allowed}`);
    },
  };
}

function textSetting(
  key: SettingKey,
  flag: string,
  env: string,
  description: string,
  defaultValue: string | undefined,
  allowed: string,
): Setting {
  const check = (value: unknown) =>
    typeof value === "string" && value.trim() !== "" && !value.includes("\0");
  return {
    key,
    flag,
    env,
    description,
    defaultValue,
    allowed,
    check,
    parse(raw) {
      if (!check(raw)) throw new Error(`expected ${allowed}`);
      return raw;
    },
  };
}

/**
 * Every setting, in the order of `--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SETTINGS } from "./options.ts";
 * const port = SETTINGS.find((s) => s.key === "port")!;
 * assert.equal(port.env, "SINK_PORT");
 * assert.equal(port.defaultValue, 9009);
 * assert.equal(port.parse("8080"), 8080);
 * const read = SETTINGS.find((s) => s.key === "readTimeoutMs")!;
 * assert.equal(read.parse("500ms"), 500);
 * assert.equal(read.parse("2s"), 2000);
 * assert.equal(read.parse("0"), 0);
 * assert.throws(() => read.parse("soon"));
 * ```
 */
export const SETTINGS: readonly Setting[] = [
  textSetting(
    "host",
    "--host <host>",
    "SINK_HOST",
    "address to listen on",
    "127.0.0.1",
    "a host name or IP address",
  ),
  numberSetting(
    "port",
    "--port <port>",
    "SINK_PORT",
    "port to listen on (0: any free port)",
    9009,
    "integer",
    0,
    65535,
    "an integer from 0 to 65535",
  ),
  rate(
    "failRate",
    "--fail-rate <rate>",
    "SINK_FAIL_RATE",
    "share of POSTs answered 503 before the body is read",
    0.2,
  ),
  numberSetting(
    "seed",
    "--seed <seed>",
    "SINK_SEED",
    "seed of the random faults (default: unseeded)",
    undefined,
    "integer",
    0,
    0xffffffff,
    "an integer from 0 to 4294967295",
  ),
  booleanSetting(
    "log",
    "--log [bool]",
    "SINK_LOG",
    "one JSON log line per request on stdout",
    true,
  ),
  booleanSetting(
    "store",
    "--store [bool]",
    "SINK_STORE",
    "keep accepted movies, listed at GET /_sink/movies",
    false,
  ),
  textSetting(
    "storeFile",
    "--store-file <path>",
    "SINK_STORE_FILE",
    "also append accepted movies to this JSON-lines file (implies --store)",
    undefined,
    "a file path",
  ),
  milliseconds(
    "latencyMs",
    "--latency-ms <ms>",
    "SINK_LATENCY_MS",
    "fixed delay before answering /{key}",
    0,
  ),
  milliseconds(
    "jitterMs",
    "--jitter-ms <ms>",
    "SINK_JITTER_MS",
    "extra random delay, uniform in [0, ms)",
    0,
  ),
  rate(
    "rate429",
    "--rate-429 <rate>",
    "SINK_RATE_429",
    "share of POSTs answered 429 with Retry-After",
    0,
  ),
  numberSetting(
    "retryAfterSeconds",
    "--retry-after <seconds>",
    "SINK_RETRY_AFTER",
    "Retry-After of the 429 answers",
    1,
    "integer",
    0,
    86400,
    "an integer number of seconds from 0 to 86400",
  ),
  rate(
    "dropRate",
    "--drop-rate <rate>",
    "SINK_DROP_RATE",
    "share of POSTs whose connection is closed without an answer",
    0,
  ),
  rate(
    "storeDropRate",
    "--store-drop-rate <rate>",
    "SINK_STORE_DROP_RATE",
    "share of accepted POSTs stored (counted 201), then closed without an answer",
    0,
  ),
  rate(
    "slowRate",
    "--slow-rate <rate>",
    "SINK_SLOW_RATE",
    "share of accepted POSTs stored at once but answered after --slow-ms",
    0,
  ),
  milliseconds(
    "slowMs",
    "--slow-ms <ms>",
    "SINK_SLOW_MS",
    "delay of the slow answers",
    5000,
  ),
  numberSetting(
    "downAfter",
    "--down-after <requests>",
    "SINK_DOWN_AFTER",
    "POSTs served before the down window opens",
    0,
    "integer",
    0,
    Number.MAX_SAFE_INTEGER,
    "a whole number of requests (0 or more)",
  ),
  numberSetting(
    "downSeconds",
    "--down-seconds <seconds>",
    "SINK_DOWN_SECONDS",
    "length of the down window, every POST answered 503 (0: never down)",
    0,
    "number",
    0,
    86400,
    "a number of seconds from 0 to 86400",
  ),
  booleanSetting(
    "idempotency",
    "--idempotency [bool]",
    "SINK_IDEMPOTENCY",
    "answer a repeated Idempotency-Key 201 without storing it again",
    false,
  ),
  durationSetting(
    "readTimeoutMs",
    "--read-timeout <duration>",
    "SINK_READ_TIMEOUT",
    "Go's ReadTimeout: a request (headers and body) must arrive within it",
    2000,
    "2s",
  ),
  durationSetting(
    "writeTimeoutMs",
    "--write-timeout <duration>",
    "SINK_WRITE_TIMEOUT",
    "Go's WriteTimeout: an answer not ready within it is never sent",
    2000,
    "2s",
  ),
  durationSetting(
    "idleTimeoutMs",
    "--idle-timeout <duration>",
    "SINK_IDLE_TIMEOUT",
    "Go's IdleTimeout: a kept-alive connection unused this long is closed",
    undefined,
    "the read timeout",
  ),
];

/**
 * `SinkOptions` with every default filled in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions, type ResolvedSinkOptions } from "./options.ts";
 * const resolved: ResolvedSinkOptions = resolveOptions({ port: 0 });
 * assert.equal(resolved.failRate, 0.2);
 * assert.equal(resolved.port, 0);
 * ```
 */
export interface ResolvedSinkOptions {
  /** See `SinkOptions.host`. */
  host: string;
  /** See `SinkOptions.port`. */
  port: number;
  /** See `SinkOptions.failRate`. */
  failRate: number;
  /** See `SinkOptions.seed`. */
  seed: number | undefined;
  /** See `SinkOptions.log`. */
  log: boolean | ((line: string) => void);
  /** See `SinkOptions.store` (true when `storeFile` is set). */
  store: boolean;
  /** See `SinkOptions.storeFile`. */
  storeFile: string | undefined;
  /** See `SinkOptions.latencyMs`. */
  latencyMs: number;
  /** See `SinkOptions.jitterMs`. */
  jitterMs: number;
  /** See `SinkOptions.rate429`. */
  rate429: number;
  /** See `SinkOptions.retryAfterSeconds`. */
  retryAfterSeconds: number;
  /** See `SinkOptions.dropRate`. */
  dropRate: number;
  /** See `SinkOptions.storeDropRate`. */
  storeDropRate: number;
  /** See `SinkOptions.slowRate`. */
  slowRate: number;
  /** See `SinkOptions.slowMs`. */
  slowMs: number;
  /** See `SinkOptions.downAfter`. */
  downAfter: number;
  /** See `SinkOptions.downSeconds`. */
  downSeconds: number;
  /** See `SinkOptions.idempotency`. */
  idempotency: boolean;
  /** See `SinkOptions.readTimeoutMs`. */
  readTimeoutMs: number;
  /** See `SinkOptions.writeTimeoutMs`. */
  writeTimeoutMs: number;
  /** See `SinkOptions.idleTimeoutMs` (the read timeout when not set). */
  idleTimeoutMs: number;
  /** See `SinkOptions.now`. */
  now: () => Date;
}

/**
 * Checks `options` and fills in the defaults; throws a `RangeError` naming
 * the option, its value and what is allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions } from "./options.ts";
 * assert.equal(resolveOptions({}).port, 9009);
 * assert.equal(resolveOptions({}).idleTimeoutMs, 2000); // the read timeout
 * assert.equal(resolveOptions({ readTimeoutMs: 500 }).idleTimeoutMs, 500);
 * assert.equal(resolveOptions({ storeFile: "m.jsonl" }).store, true);
 * assert.throws(
 *   () => resolveOptions({ failRate: 2 }),
 *   (e: unknown) => e instanceof RangeError && e.message.includes("failRate"),
 * );
 * ```
 */
export function resolveOptions(options: SinkOptions): ResolvedSinkOptions {
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = options[setting.key];
    if (value === undefined) {
      values[setting.key] = setting.defaultValue;
      continue;
    }
    const ok = setting.key === "log"
      ? typeof value === "boolean" || typeof value === "function"
      : setting.check(value);
    if (!ok) {
      throw new RangeError(
        `invalid sink option ${setting.key}: ${
          typeof value === "string" ? JSON.stringify(value) : String(value)
        } (expected ${setting.allowed})`,
      );
    }
    values[setting.key] = value;
  }
  const now = options.now ?? (() => new Date());
  if (typeof now !== "function") {
    throw new RangeError("invalid sink option now (expected a function)");
  }
  const resolved = { ...values, now } as unknown as ResolvedSinkOptions;
  if (resolved.storeFile !== undefined) resolved.store = true;
  resolved.idleTimeoutMs ??= resolved.readTimeoutMs; // Go's rule
  return resolved;
}
