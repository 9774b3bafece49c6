/**
 * The local service's "real shape": the exercise's Go service closes an idle
 * keep-alive connection after 2 s and cuts a request or an answer that takes
 * longer than 2 s (`ReadTimeout`, `WriteTimeout`, no `IdleTimeout`; see
 * shared/SINK.md). When `sink.ts --help` lists those timeouts, the
 * benchmark passes each one explicitly, with the value its help gives as
 * the default (the Go service's); when it does not, the result says so.
 *
 * @module
 */

import { runPlain } from "./_process.ts";

/** The service's timeouts during the benchmark. */
export interface ServiceShape {
  /** Flags given to sink.ts. */
  args: string[];
  /** In words, for the table's heading and the JSON. */
  note: string;
}

const TIMEOUTS = ["--idle-timeout", "--read-timeout", "--write-timeout"];

/**
 * The flags for the timeouts a sink help text lists, each with its stated
 * default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeFromHelp } from "./_shape.ts";
 * const help = '  --idle-timeout <duration>  close idle keep-alive connections\n' +
 *   '                             (default: "2s", env: SINK_IDLE_TIMEOUT)\n  --seed <seed>  seed';
 * assert.deepEqual(shapeFromHelp(help).args, ["--idle-timeout", "2s"]);
 * assert.deepEqual(shapeFromHelp("  --seed <seed>").args, []);
 * ```
 */
export function shapeFromHelp(help: string): ServiceShape {
  const args: string[] = [];
  const missing: string[] = [];
  for (const flag of TIMEOUTS) {
    const at = help.indexOf(`${flag} `);
    if (at < 0) {
      missing.push(flag);
      continue;
    }
    const next = help.slice(at + flag.length).search(/\n\s+--[a-z]/);
    const text = help.slice(at, next < 0 ? undefined : at + flag.length + next);
    const value = /\(default:\s*"?([^",)\s]+)"?/.exec(text)?.[1];
    if (value === undefined) missing.push(flag);
    else args.push(flag, value);
  }
  const given = args.length > 0 ? `service timeouts ${args.join(" ")}` : "";
  const note = missing.length === 0
    ? given
    : `${given}${given ? "; " : ""}sink.ts has no ${
      missing.join(", ")
    } (or no default for it): its keep-alive connections never time out, unlike the real service's 2 s`;
  return { args, note };
}

/** {@link shapeFromHelp} of `sink.ts --help` in `root`. */
export async function serviceShape(root: string): Promise<ServiceShape> {
  const help = await runPlain(Deno.execPath(), [
    "run",
    "-A",
    "sink.ts",
    "--help",
  ], root);
  return shapeFromHelp(help.stdout + help.stderr);
}
