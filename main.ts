#!/usr/bin/env -S deno run --allow-read=. --allow-write=. --allow-net=localhost:9009,127.0.0.1:9009 --allow-env --v8-flags=--max-semi-space-size=4,--max-old-space-size=256
/**
 * parse-and-post: imports a movie CSV into a web service, one JSON object
 * per POST, and accounts for every row.
 *
 * ```sh
 * deno task import                 # CSV_IN → URL_OUT, as configured
 * deno task import data/sample.csv --dry-run
 * deno run --allow-read=. --allow-write=. --allow-net=localhost:9009 --allow-env main.ts --help
 * ```
 *
 * @module
 */

import { type Config, loadConfig } from "./lib/importer/config.ts";
import { runImport } from "./lib/importer/import.ts";
import { createLogger } from "./lib/importer/log.ts";
import {
  missingPermissions,
  permissionMessage,
} from "./lib/importer/permissions.ts";

const encoder = new TextEncoder();

function printErr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/** The files and hosts a run with this configuration touches. */
function needs(config: Config) {
  return {
    read: [config.csvIn, ...(config.dryRun ? [] : [config.journalPath])],
    write: [
      config.rejectsPath,
      config.reportPath,
      ...(config.dryRun ? [] : [config.journalPath]),
    ],
    net: config.dryRun ? [] : [config.urlOut],
  };
}

/**
 * Runs the importer with these arguments and returns its exit code: 0 every
 * valid row delivered; 1 some valid rows could not be delivered; 2 usage,
 * configuration or input error before anything was sent; 3 stopped early.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const loaded = await loadConfig(args);
  if (loaded.kind === "help" || loaded.kind === "version") {
    console.log(loaded.text);
    return 0;
  }
  if (loaded.kind === "error") {
    printErr(`parse-and-post: ${loaded.message}`);
    return 2;
  }
  const { config } = loaded;
  const log = createLogger({ level: config.logLevel });
  for (const warning of loaded.warnings) log.warn(warning);
  const missing = missingPermissions(needs(config));
  if (missing.length > 0) {
    for (const line of missing) log.error(line);
    return 2;
  }
  const interrupt = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) interrupt.abort();
    else {
      log.error("second interrupt: exiting now (rows in flight are unknown)");
      Deno.exit(3);
    }
  };
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const { exitCode } = await runImport(config, {
      log,
      signal: interrupt.signal,
      summary: printErr,
    });
    return exitCode;
  } catch (error) {
    const message = permissionMessage(error) ??
      `unexpected error: ${error instanceof Error ? error.message : error}`;
    log.critical(message);
    return permissionMessage(error) ? 2 : 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
