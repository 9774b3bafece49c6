#!/usr/bin/env -S deno run --allow-read=. --allow-write=. --allow-net=localhost:9009,127.0.0.1:9009 --allow-env --no-prompt --v8-flags=--max-semi-space-size=4,--max-old-space-size=256
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

import { relative, resolve } from "node:path";
import { type Config, loadConfig } from "./lib/importer/config.ts";
import { createLogger, type Logger } from "./lib/importer/log.ts";
import {
  createImportMetrics,
  type ImportMetrics,
  type MetricsServer,
  pushMetrics,
  serveMetrics,
} from "./lib/importer/metrics.ts";
import {
  missingPermissions,
  type Needs,
  permissionHint,
  permissionMessage,
} from "./lib/importer/permissions.ts";
import { createProgress, type Progress } from "./lib/importer/progress.ts";
import type { SettingInEffect } from "./lib/importer/report.ts";
import { runImport } from "./lib/importer/run.ts";
import { SETTINGS } from "./lib/importer/settings.ts";

const encoder = new TextEncoder();

function printErr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/** The files, hosts and ports a run with this configuration touches, and what each is for. */
function needs(
  config: Config,
): { needs: Needs; names: Record<string, string> } {
  const ledger = config.dryRun ? [] : [config.ledgerDir];
  const names: Record<string, string> = {
    [config.csvIn]: "CSV_IN",
    [config.rejectsPath]: "REJECTS_OUT",
    [config.reportPath]: "REPORT_OUT",
    [config.ledgerDir]: "LEDGER_DIR",
  };
  const net = config.dryRun ? [] : [config.urlOut];
  if (config.pushgateway !== "") net.push(config.pushgateway);
  for (const url of net) {
    names[new URL(url).host] = url === config.urlOut
      ? "URL_OUT"
      : "PUSHGATEWAY_URL";
  }
  return {
    needs: {
      read: [config.csvIn, ...ledger],
      write: [config.rejectsPath, config.reportPath, ...ledger],
      net,
      listen: config.metricsPort > 0 ? [config.metricsPort] : [],
    },
    names,
  };
}

/** Every setting's value and where it came from, for the report and DEBUG. */
function settingsInEffect(
  config: Config,
  sources: Record<string, string>,
): SettingInEffect[] {
  return SETTINGS.filter((s) => s.key !== "envFile").map((s) => ({
    name: s.env ?? s.flag,
    value: String(config[s.key as keyof Config]),
    source: sources[s.key] ?? "default",
  }));
}

/** The logger, writing through the progress line (so log lines print above it). */
function outputs(config: Config): { log: Logger; progress: Progress } {
  let progress: Progress | null = null;
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write: (line) => progress ? progress.log(line) : printErr(line),
  });
  // A dry run printing its bodies on the terminal would write through a bar.
  const mode =
    config.progress === "auto" && config.dryRun && Deno.stdout.isTerminal()
      ? "lines"
      : config.progress;
  progress = createProgress({ mode, info: (message) => log.info(message) });
  return { log, progress };
}

/** Prometheus metrics when asked for (prom-client is loaded only then). */
async function startMetrics(
  config: Config,
): Promise<{ metrics?: ImportMetrics; server?: MetricsServer }> {
  if (config.metricsPort === 0 && config.pushgateway === "") return {};
  const metrics = await createImportMetrics();
  const server = config.metricsPort > 0
    ? serveMetrics(metrics, { port: config.metricsPort })
    : undefined;
  return { metrics, server };
}

/** Ctrl-C and SIGTERM: the first stops the run; a second writes the ledger and exits. */
function listenForSignals(log: Logger, progress: Progress) {
  const interrupt = new AbortController();
  let emergency = () => {};
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (!interrupt.signal.aborted) return interrupt.abort(signal);
      emergency();
      progress.done();
      log.error(
        `second ${signal}: exiting now; the ledger is written; rows in flight stay pending (the next run sends them)`,
      );
      Deno.exit(3);
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  return {
    signal: interrupt.signal,
    onEmergency: (flush: () => void) => emergency = flush,
    remove: () => handlers.forEach((remove) => remove()),
  };
}

/** A hint when a relative CSV path would have been found from where `deno task` was started. */
function taskFolderHint(config: Config): string | null {
  let from: string | undefined;
  try {
    from = Deno.env.get("INIT_CWD");
  } catch {
    return null;
  }
  if (
    !from || resolve(from) === Deno.cwd() ||
    resolve(config.csvIn) === config.csvIn
  ) return null;
  try {
    Deno.statSync(resolve(from, config.csvIn));
  } catch {
    return null;
  }
  return `deno task runs in the project folder (${Deno.cwd()}): give the path from there, e.g. ${
    relative(Deno.cwd(), resolve(from, config.csvIn))
  }`;
}

/** Whether the run has every permission it needs; if not, says what to run instead. */
function permitted(config: Config, args: string[], log: Logger): boolean {
  const required = needs(config);
  const missing = missingPermissions(required.needs, required.names);
  if (missing.length === 0) return true;
  const [what, command, see] = permissionHint(missing, args);
  log.error(what);
  // The command is printed as it is, to copy (in JSON logs, as a message).
  if (config.logFormat === "json") log.error(command.trim());
  else printErr(command);
  log.error(see);
  return false;
}

/** Pushes the final metrics (one attempt; a failure is one line). */
async function push(
  metrics: ImportMetrics,
  url: string,
  log: Logger,
): Promise<void> {
  const pushed = await pushMetrics(metrics, { url });
  if (!pushed.ok) log.error(pushed.message);
  else log.info(`metrics pushed to ${pushed.url}`);
}

/**
 * Runs the importer with these arguments and returns its exit code: 0 every
 * valid row delivered; 1 valid rows left pending or refused; 2 usage,
 * configuration, set-up or input error; 3 stopped early.
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
  const { log, progress } = outputs(config);
  for (const warning of loaded.warnings) log.warn(warning);
  if (!permitted(config, args, log)) return 2;
  const settings = settingsInEffect(config, loaded.sources);
  for (const s of settings) {
    log.debug(`setting ${s.name}=${s.value} (from ${s.source})`);
  }
  const { metrics, server } = await startMetrics(config);
  if (server) log.info(`metrics on ${server.url}`);
  const signals = listenForSignals(log, progress);
  try {
    const { exitCode, report } = await runImport(config, {
      log,
      progress,
      metrics,
      settings,
      signal: signals.signal,
      onEmergency: signals.onEmergency,
      summary: printErr,
    });
    if (report === null) {
      const hint = taskFolderHint(config);
      if (hint) log.error(hint);
    }
    if (metrics && config.pushgateway !== "") {
      await push(metrics, config.pushgateway, log);
    }
    return exitCode;
  } catch (error) {
    progress.done();
    const message = permissionMessage(error) ??
      `unexpected error: ${error instanceof Error ? error.message : error}`;
    log.critical(message);
    return permissionMessage(error) ? 2 : 1;
  } finally {
    signals.remove();
    await server?.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
