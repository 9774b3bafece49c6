/**
 * Writes a realistic test CSV in the movie export's shape (see `lib/gen.ts`):
 *
 * ```sh
 * deno task gen --rows 1000000 --seed 42 --out out/big.csv
 * deno task gen --rows 500 --encoding windows-1252 --no-header --crlf > x.csv
 * deno task gen --rows 200 --delimiter , --quote-all --clean --out clean.csv
 * ```
 *
 * The demo's committed `data/sample.csv` is exactly the output of:
 *
 * ```sh
 * deno task gen --rows 300 --seed 7 --cover-all --out data/sample.csv
 * ```
 *
 * (`tests/gen_test.ts` re-runs that command and fails if the file drifted.)
 * The tally of what was written goes to stderr as one line of `kind=count`;
 * a bad argument prints one line on stderr and exits with status 2.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "./lib/gen/_deps.ts";
import {
  generateCsv,
  type GenOptions,
  NO_DEFECTS,
  resolveGenOptions,
  type Tally,
  TALLY_KINDS,
  writeCsv,
} from "./lib/gen/generate.ts";

/** The command line parsed into generator options and an output path. */
interface CliArgs {
  options: Partial<GenOptions>;
  /** `undefined` or `-` for stdout. */
  out: string | undefined;
}

function wholeNumber(name: string, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(n <= max)) {
      throw new InvalidArgumentError(
        `${name} must be a whole number from 0 to ${max}.`,
      );
    }
    return n;
  };
}

function parseArgs(argv: string[]): CliArgs {
  const program = new Command()
    .name("gen")
    .description(
      "Write a realistic movie-export CSV with the real file's defects.",
    )
    .option(
      "--rows <n>",
      "lines after the header: data plus blank lines",
      wholeNumber("--rows", Number.MAX_SAFE_INTEGER),
      1000,
    )
    .option(
      "--seed <s>",
      "random seed (same seed, same bytes)",
      wholeNumber("--seed", 0xffffffff),
      1,
    )
    .option("--out <file>", "output file (default: stdout)")
    .addOption(
      new Option("--delimiter <d>", "field separator").choices([";", ","])
        .default(";"),
    )
    .addOption(
      new Option("--encoding <e>", "output encoding")
        .choices(["utf-8", "windows-1252"]).default("utf-8"),
    )
    .option("--no-header", "omit the header row(s)")
    .option("--crlf", "end lines with CRLF instead of LF")
    .option("--quote-all", "quote every field")
    .option("--clean", "no defects at all (each movie once)")
    .option("--cover-all", "at least one row of every defect kind")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      // Commander would look up colour settings in the environment.
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  program.parse(argv, { from: "user" });
  const opts = program.opts();
  return {
    out: opts.out,
    options: {
      rows: opts.rows,
      seed: opts.seed,
      header: opts.header,
      delimiter: opts.delimiter,
      encoding: opts.encoding,
      newline: opts.crlf ? "\r\n" : "\n",
      quoteAll: Boolean(opts.quoteAll),
      coverAll: Boolean(opts.coverAll),
      defects: opts.clean ? NO_DEFECTS : undefined,
    },
  };
}

/** The tally as one line: `rows=300 data=299 … movies=75`. */
function formatTally(tally: Tally): string {
  return TALLY_KINDS.map((kind) => `${kind}=${tally[kind]}`).join(" ");
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
    resolveGenOptions(args.options);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    // Commander has already printed its one-line message (or the help).
    if (code === "commander.helpDisplayed" || code === "commander.version") {
      return 0;
    }
    if (!code.startsWith("commander.")) {
      console.error(`error: ${(error as Error).message}`);
    }
    return 2;
  }
  const started = performance.now();
  let tally: Tally;
  try {
    if (args.out === undefined || args.out === "-") {
      const { stream, tally: done } = generateCsv(args.options);
      await stream.pipeTo(Deno.stdout.writable, { preventClose: true });
      tally = await done;
    } else {
      tally = await writeCsv(args.out, args.options);
    }
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  const seconds = (performance.now() - started) / 1000;
  console.error(`${formatTally(tally)} seconds=${seconds.toFixed(2)}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
