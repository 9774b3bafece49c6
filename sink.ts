/**
 * `deno task sink`: the local stand-in for the movie service the importer
 * posts to (see `shared/SINK.md` and `lib/sink/server.ts`).
 *
 * Every setting has a flag and an environment variable (the flag wins);
 * `deno task sink --help` lists them with their defaults. A bad value
 * prints one line on stderr and exits with status 2. Ctrl-C or SIGTERM
 * closes the server, flushes the log and the store file, and exits 0.
 * Like the real service, it applies Go's 2-second read and write
 * timeouts (and the idle timeout, which follows the read timeout);
 * `--read-timeout 0 --write-timeout 0` turns them off.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSinkArgs } from "./sink.ts";
 * const parsed = parseSinkArgs(["--port", "0", "--fail-rate", "0", "--read-timeout", "500ms"]);
 * assert.ok(parsed.ok);
 * assert.equal(parsed.options.port, 0);
 * assert.equal(parsed.options.readTimeoutMs, 500);
 * ```
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "./lib/sink/_deps.ts";
import { SETTINGS } from "./lib/sink/options.ts";
import { type SinkOptions, startSink } from "./lib/sink/server.ts";

/**
 * The outcome of {@link parseSinkArgs}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ParsedSinkArgs } from "./sink.ts";
 * const help: ParsedSinkArgs = { ok: false, exitCode: 0, output: "Usage: sink [options]\n" };
 * assert.ok(!help.ok && help.exitCode === 0);
 * ```
 */
export type ParsedSinkArgs =
  | { ok: true; options: SinkOptions }
  | { ok: false; exitCode: number; output: string };

/**
 * Parses the command line (and the `SINK_*` environment variables for the
 * flags not given). On `--help` or an error, the text to print and the exit
 * status instead (0 for help, 2 for a bad value or an unknown flag).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSinkArgs } from "./sink.ts";
 * const bad = parseSinkArgs(["--fail-rate", "2"]);
 * assert.ok(!bad.ok && bad.exitCode === 2 && bad.output.includes("--fail-rate"));
 * ```
 */
export function parseSinkArgs(args: string[]): ParsedSinkArgs {
  let output = "";
  const program = new Command("sink")
    .description(
      "Local stand-in for the movie service (shared/SINK.md); answers like " +
        "the real one by default, with optional faults.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void (output += text),
      writeErr: (text) => void (output += text),
    })
    .allowExcessArguments(false);
  const attributes: [string, string][] = [];
  for (const setting of SETTINGS) {
    const option = new Option(
      setting.flag,
      `${setting.description}; ${setting.allowed}`,
    )
      .env(setting.env)
      .argParser((raw: string) => {
        try {
          return setting.parse(raw);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      });
    if (setting.defaultValue !== undefined) {
      option.default(setting.defaultValue, setting.defaultText);
    } else if (setting.defaultText !== undefined) {
      option.description += ` (default: ${setting.defaultText})`;
    }
    program.addOption(option);
    attributes.push([setting.key, option.attributeName()]);
  }
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    const exitCode = (error as { exitCode?: number }).exitCode;
    return {
      ok: false,
      exitCode: exitCode === 0 ? 0 : 2,
      output: output || `error: ${(error as Error).message}\n`,
    };
  }
  const values = program.opts();
  const options: Record<string, unknown> = {};
  for (const [key, attribute] of attributes) {
    if (values[attribute] !== undefined) options[key] = values[attribute];
  }
  return { ok: true, options: options as SinkOptions };
}

/**
 * Runs the sink until SIGINT/SIGTERM; returns the exit status (0 after a
 * signal, 2 for a bad setting, 1 when the port cannot be bound).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./sink.ts";
 * // `deno task sink` is `Deno.exit(await main(Deno.args))`; a bad value
 * // is one line on stderr and status 2, before anything listens
 * assert.equal(await main(["--read-timeout", "soon"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseSinkArgs(args);
  if (!parsed.ok) {
    const write = parsed.exitCode === 0 ? Deno.stdout : Deno.stderr;
    write.writeSync(new TextEncoder().encode(parsed.output));
    return parsed.exitCode;
  }
  let sink;
  try {
    sink = startSink(parsed.options);
  } catch (error) {
    const message = (error as Error).message;
    const where = `${parsed.options.host}:${parsed.options.port}`;
    const listening = error instanceof Deno.errors.AddrInUse ||
      error instanceof Deno.errors.AddrNotAvailable;
    console.error(
      error instanceof RangeError
        ? `sink: ${message}`
        : listening
        ? `sink: cannot listen on ${where}: ${message}`
        : `sink: cannot start: ${message}`,
    );
    return error instanceof RangeError ? 2 : 1;
  }
  const s = sink.settings;
  const timeouts = [s.readTimeoutMs, s.writeTimeoutMs, s.idleTimeoutMs]
    .map((ms) => ms > 0 ? `${ms / 1000}s` : "off").join("/");
  console.error(
    `sink: listening on ${sink.url} (fail-rate ${s.failRate}, seed ${
      s.seed ?? "random"
    }${
      s.store ? ", storing" : ""
    }, read/write/idle timeouts ${timeouts}); Ctrl-C to stop`,
  );
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => stop(signal);
    try {
      Deno.addSignalListener(signal, listener);
    } catch { /* SIGTERM is not available on every platform */ }
    return [signal, listener] as const;
  });
  const signal = await stopped;
  const force = () => Deno.exit(130); // a second Ctrl-C does not wait
  for (const [name, listener] of listeners) {
    try {
      Deno.removeSignalListener(name, listener);
      Deno.addSignalListener(name, force);
    } catch { /* see above */ }
  }
  await sink.close();
  console.error(`sink: ${signal}, stopped`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
