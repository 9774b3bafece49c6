/**
 * The local service in the real service's shape: the exercise's Go service
 * has `ReadTimeout` and `WriteTimeout` of 2 s and no `IdleTimeout` (which
 * then is the read timeout), so it closes a keep-alive connection idle for
 * 2 s and cuts a request or an answer slower than 2 s (shared/SINK.md).
 * Each of those timeouts that `sink.ts --help` lists is passed explicitly;
 * one it does not list is named in the note, so the results say so.
 *
 * @module
 */

import { runPlain } from "./_process.ts";

/** The service's timeouts during the benchmark. */
export interface ServiceShape {
  /** Flags given to sink.ts. */
  args: string[];
  /** In words, for the printed conditions and the JSON. */
  note: string;
}

/** The Go service's server timeouts, as sink.ts flags. */
export const REAL_SHAPE: readonly [flag: string, value: string][] = [
  ["--read-timeout", "2s"],
  ["--write-timeout", "2s"],
  ["--idle-timeout", "2s"],
];

/**
 * The flags of {@link REAL_SHAPE} that a sink help text lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeFromHelp } from "./_shape.ts";
 * const help = "  --idle-timeout <duration>  Go's IdleTimeout\n  --seed <seed>  seed";
 * assert.deepEqual(shapeFromHelp(help).args, ["--idle-timeout", "2s"]);
 * assert.deepEqual(shapeFromHelp("  --seed <seed>").args, []);
 * ```
 */
export function shapeFromHelp(help: string): ServiceShape {
  const args: string[] = [];
  const missing: string[] = [];
  for (const [flag, value] of REAL_SHAPE) {
    if (new RegExp(`${flag}\\b`).test(help)) args.push(flag, value);
    else missing.push(flag);
  }
  const given = args.length > 0
    ? `the real service's shape: sink.ts ${args.join(" ")}`
    : "";
  const note = missing.length === 0
    ? given
    : `${given}${given ? "; " : ""}sink.ts has no ${
      missing.join(", ")
    }: unlike the real service, it keeps idle connections and slow requests open`;
  return { args, note };
}

/** {@link shapeFromHelp} of `sink.ts --help` in `root`. */
export async function serviceShape(root: string): Promise<ServiceShape> {
  const help = await runPlain(
    Deno.execPath(),
    ["run", "-A", "sink.ts", "--help"],
    root,
  );
  return shapeFromHelp(help.stdout + help.stderr);
}
