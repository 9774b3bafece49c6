/**
 * `deno task demo`: the whole job on a fresh clone with nothing running.
 * Starts the local movie service in this process on a free port (with the
 * real service's 20 % random 503s), imports the project's own
 * `data/sample.csv` into it, and prints the importer's summary and the
 * service's counters. Outputs go to `out/demo/`. Exits with the importer's
 * exit code (0: every valid row delivered).
 *
 * @module
 */

import { runImport } from "./lib/importer/run.ts";
import { createLogger } from "./lib/importer/log.ts";
import { startSink } from "./lib/sink/server.ts";

/** Options for {@link demo}. */
export interface DemoOptions {
  /** The CSV to import. @default "data/sample.csv" */
  csv?: string;
  /** Where the rejects file, report and ledger go. @default "out/demo" */
  outDir?: string;
  /** The service's share of random 503s. @default 0.2 */
  failRate?: number;
  /** Where text goes. @default console.log */
  print?: (text: string) => void;
}

/**
 * Runs the demo and returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { demo } from "./demo.ts";
 * Deno.exit(await demo());
 * ```
 */
export async function demo(options: DemoOptions = {}): Promise<number> {
  const csv = options.csv ?? "data/sample.csv";
  const outDir = options.outDir ?? "out/demo";
  const print = options.print ?? console.log;
  // Each demo's service listens on a new port, so a new URL and ledger:
  // the last demo's ledger is of no use.
  await Deno.remove(`${outDir}/ledger`, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const sink = startSink({
    port: 0,
    host: "127.0.0.1",
    failRate: options.failRate ?? 0.2,
    log: false,
    store: true,
  });
  try {
    print(
      `local movie service on ${sink.url} (${
        Math.round(sink.settings.failRate * 100)
      } % of POSTs answered 503, like the real one)`,
    );
    print(`importing ${csv} into ${sink.url}/movies …\n`);
    const { exitCode, report } = await runImport({
      csvIn: csv,
      urlOut: `${sink.url}/movies`,
      rejectsPath: `${outDir}/rejects.csv`,
      reportPath: `${outDir}/report.json`,
      ledgerDir: `${outDir}/ledger`,
    }, {
      log: createLogger({ level: "WARNING", rowWarningsPerSecond: 5 }),
      summary: print,
    });
    if (report === null) return exitCode;
    const counts = sink.counters();
    const posts = Object.entries(counts.post).sort().map(([status, n]) =>
      `${status}: ${n}`
    ).join(", ");
    print(`\nthe service counted POSTs by status: ${posts || "none"}`);
    print(
      `stored movies: ${sink.accepted().length}; metrics: GET ${sink.url}/metrics while it runs`,
    );
    const created = counts.post["201"] ?? 0;
    if (created !== report.counts.delivered) {
      print(
        `MISMATCH: the service accepted ${created} movies, the importer counted ${report.counts.delivered}`,
      );
      return 1;
    }
    print(
      `\nrejected rows with their line and reason: ${outDir}/rejects.csv; report: ${outDir}/report.json`,
    );
    return exitCode;
  } finally {
    await sink.close();
  }
}

if (import.meta.main) {
  Deno.exit(await demo());
}
