/**
 * Speed of the CSV generator: 100,000 rows generated in memory per
 * iteration, so rows/s = iter/s × 100,000. Run with
 * `deno bench -A bench/gen_bench.ts`.
 *
 * @module
 */

import { generateCsvBytes, type GenOptions } from "../lib/gen/generate.ts";

const ROWS = 100_000;

function generate(options: Partial<GenOptions>): void {
  const { tally } = generateCsvBytes({ rows: ROWS, seed: 1, ...options });
  if (tally.rows !== ROWS) throw new Error("wrong row count");
}

Deno.bench({
  name: "100k rows, utf-8 ';' (export shape)",
  group: "generate 100k rows",
  baseline: true,
  fn: () => generate({}),
});

Deno.bench({
  name: "100k rows, windows-1252 with type row",
  group: "generate 100k rows",
  fn: () => generate({ encoding: "windows-1252" }),
});

Deno.bench({
  name: "100k rows, ',' every field quoted, CRLF",
  group: "generate 100k rows",
  fn: () => generate({ delimiter: ",", quoteAll: true, newline: "\r\n" }),
});
