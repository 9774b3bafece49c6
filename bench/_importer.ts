/**
 * How the benchmark runs the importer, and what it takes from it: the
 * `import` task's `deno run` flags (permissions and V8 flags, read from
 * deno.json so they cannot drift; the plain loops get the same), the
 * importer's own arguments (built in {@link importerArgs}, the one place to
 * change when its flags change), and its defaults (concurrency and retry
 * policy, from `lib/importer/settings.ts`).
 *
 * @module
 */

import { parseDuration } from "../lib/shared/duration.ts";
import { SETTINGS } from "../lib/importer/settings.ts";

/** The `deno run` flags of the import task, split. */
export interface TaskFlags {
  /** Every flag but `--v8-flags` (permissions and the like). */
  flags: string[];
  /** The V8 flags, one per entry (e.g. `--max-old-space-size=256`). */
  v8Flags: string[];
}

/**
 * Splits the `import` task (`deno run <flags> main.ts`) into its flags and
 * its V8 flags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseImportTask } from "./_importer.ts";
 * const t = parseImportTask("deno run --allow-read=. --v8-flags=--a=1,--b main.ts");
 * assert.deepEqual(t, { flags: ["--allow-read=."], v8Flags: ["--a=1", "--b"] });
 * ```
 */
export function parseImportTask(task: string): TaskFlags {
  const tokens = task.trim().split(/\s+/);
  const end = tokens.indexOf("main.ts");
  if (tokens[0] !== "deno" || tokens[1] !== "run" || end < 0) {
    throw new Error(`the import task is not "deno run … main.ts": ${task}`);
  }
  const flags: string[] = [];
  const v8Flags: string[] = [];
  for (const token of tokens.slice(2, end)) {
    if (token.startsWith("--v8-flags=")) {
      v8Flags.push(...token.slice(11).split(",").filter((f) => f !== ""));
    } else flags.push(token);
  }
  return { flags, v8Flags };
}

/**
 * The `deno run` flags for a measured client: the task's flags with the
 * port of `--allow-net` set to the service's, and its V8 flags plus
 * `extraV8` (e.g. `--trace-gc`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientFlags } from "./_importer.ts";
 * const task = { flags: ["--allow-net=localhost:9009,127.0.0.1:9009"], v8Flags: ["--max-old-space-size=256"] };
 * assert.deepEqual(clientFlags(task, 4242, ["--trace-gc"]), [
 *   "--allow-net=localhost:4242,127.0.0.1:4242",
 *   "--v8-flags=--max-old-space-size=256,--trace-gc",
 * ]);
 * ```
 */
export function clientFlags(
  task: TaskFlags,
  port: number,
  extraV8: string[],
): string[] {
  const flags = task.flags.map((flag) =>
    flag.startsWith("--allow-net=")
      ? "--allow-net=" +
        flag.slice(12).split(",").map((host) =>
          host.replace(/:\d+$/, "") + `:${port}`
        ).join(",")
      : flag
  );
  const v8 = [...task.v8Flags, ...extraV8];
  return v8.length > 0 ? [...flags, `--v8-flags=${v8.join(",")}`] : flags;
}

/**
 * `flags` with the environment variables `names` allowed too (undici reads
 * `JEST_WORKER_ID`); unchanged when every variable is already allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowEnv } from "./_importer.ts";
 * assert.deepEqual(allowEnv(["--allow-env=A,B"], ["C"]), ["--allow-env=A,B,C"]);
 * assert.deepEqual(allowEnv(["--allow-env"], ["C"]), ["--allow-env"]);
 * assert.deepEqual(allowEnv(["--allow-read"], ["C"]), ["--allow-read", "--allow-env=C"]);
 * ```
 */
export function allowEnv(flags: string[], names: string[]): string[] {
  if (flags.includes("--allow-env") || flags.includes("-A")) return flags;
  if (flags.includes("--allow-all")) return flags;
  const at = flags.findIndex((f) => f.startsWith("--allow-env="));
  if (at < 0) return [...flags, `--allow-env=${names.join(",")}`];
  const out = [...flags];
  out[at] = `${flags[at]},${names.join(",")}`;
  return out;
}

/** Reads the `import` task from deno.json in `root`. */
export async function readImportTask(root: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const task = config.tasks?.import;
  if (typeof task !== "string") throw new Error("deno.json has no import task");
  return task;
}

/** One importer run's files and settings (paths relative to the repository). */
export interface ImporterRun {
  /** The CSV. */
  csv: string;
  /** Where to POST. */
  url: string;
  /** Requests in flight. */
  concurrency: number;
  /** A folder of its own for this run's outputs and resume state. */
  stateDir: string;
  /** Keep the resume state (rows already delivered are skipped). */
  resume: boolean;
  /** Where the importer keeps its resume state ({@link stateFlagOf}). */
  state: StateFlag;
}

/** The importer's resume-state flag: the per-URL ledger, or the older journal. */
export type StateFlag = "--ledger-dir" | "--journal";

/**
 * Which resume-state flag the importer's `--help` lists: `--ledger-dir`
 * today, `--journal` before the per-URL ledger (so the benchmark also runs
 * against older commits, for before/after figures).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateFlagOf } from "./_importer.ts";
 * assert.equal(stateFlagOf("  --ledger-dir DIR   the folder"), "--ledger-dir");
 * assert.equal(stateFlagOf("  --journal PATH   the resume journal"), "--journal");
 * ```
 */
export function stateFlagOf(help: string): StateFlag {
  return /--ledger-dir\b/.test(help) ? "--ledger-dir" : "--journal";
}

/**
 * The importer's arguments after `main.ts`: the one place that knows its
 * flags. Each round gets an empty `stateDir` (its rejects, report and
 * delivery ledger), and `--fresh` unless resuming, so every round sends
 * every row; resuming keeps the ledger, so nothing is sent again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importerArgs } from "./_importer.ts";
 * const args = importerArgs({ csv: "a.csv", url: "http://127.0.0.1:1/movies", concurrency: 16, stateDir: "out/x", resume: false, state: "--ledger-dir" });
 * assert.ok(args.includes("--fresh"));
 * assert.ok(args.includes("out/x/ledger"));
 * assert.equal(args[0], "a.csv");
 * ```
 */
export function importerArgs(run: ImporterRun): string[] {
  return [
    run.csv,
    "--url-out",
    run.url,
    "--concurrency",
    String(run.concurrency),
    ...(run.state === "--ledger-dir"
      ? ["--ledger-dir", `${run.stateDir}/ledger`]
      : ["--journal", `${run.stateDir}/import.journal`]),
    ...(run.resume ? [] : ["--fresh"]),
    "--rejects",
    `${run.stateDir}/rejects.csv`,
    "--report",
    `${run.stateDir}/report.json`,
    "--log-level",
    "ERROR",
  ];
}

/**
 * The flags of `args` (words starting with `--`) that the importer's
 * `--help` text does not list: empty when {@link importerArgs} is current.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownFlags } from "./_importer.ts";
 * assert.deepEqual(unknownFlags("  --fresh   send every row again", ["x.csv", "--fresh", "--journal", "j"]), ["--journal"]);
 * ```
 */
export function unknownFlags(help: string, args: string[]): string[] {
  const listed = new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? []);
  return args.filter((a) => a.startsWith("--") && !listed.has(a));
}

/** The importer's defaults the plain loops copy. */
export interface ImporterDefaults {
  /** Requests in flight. */
  concurrency: number;
  /** Retries per row after the first attempt. */
  maxRetries: number;
  /** Backoff base, ms. */
  retryBaseMs: number;
  /** Backoff cap, ms. */
  retryCapMs: number;
}

/**
 * The importer's default concurrency and retry policy, from its settings
 * table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importerDefaults } from "./_importer.ts";
 * assert.ok(importerDefaults().concurrency >= 1);
 * ```
 */
export function importerDefaults(): ImporterDefaults {
  const value = (key: string) => {
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting) throw new Error(`the importer has no setting ${key}`);
    return setting.default;
  };
  const duration = (key: string) => {
    const ms = parseDuration(value(key));
    if (ms === null) throw new Error(`unreadable default of ${key}`);
    return ms;
  };
  return {
    concurrency: Number(value("concurrency")),
    maxRetries: Number(value("maxRetries")),
    retryBaseMs: duration("retryBaseMs"),
    retryCapMs: duration("retryCapMs"),
  };
}
