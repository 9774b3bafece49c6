/**
 * The importer's per-row cost without the network: parse (CSV → records
 * with line numbers) + validate (normalise and check with the zod schema) +
 * serialise (the JSON body), on one core, over 100,000 generated rows with
 * the export's usual defects. rows/s = 100,000 ÷ the time per iteration.
 *
 * Run with `deno bench -A bench/pipeline_bench.ts`.
 *
 * @module
 */

import { generateCsvBytes } from "../lib/gen/generate.ts";
import { movieValidator } from "../lib/importer/movie.ts";
import { openSourceStream } from "../lib/importer/source.ts";

const ROWS = 100_000;
const { bytes } = generateCsvBytes({ rows: ROWS, seed: 11 });
const validate = movieValidator(2026);

/** Reads every row, validates it and serialises the valid ones. */
async function pipeline(input: Uint8Array): Promise<number> {
  const source = await openSourceStream(input);
  const { index, width } = source.layout;
  let bodyChars = 0;
  for await (const batch of source.items) {
    for (const item of batch) {
      if (item.kind !== "row" || item.fields.length !== width) continue;
      const result = validate(item.fields, index);
      if (result.ok) bodyChars += result.body.length;
    }
  }
  return bodyChars;
}

const expected = await pipeline(bytes);
if (expected === 0) throw new Error("no valid row");

Deno.bench({
  name: `parse + validate + serialise, ${ROWS} rows`,
  group: "pipeline",
  baseline: true,
  async fn() {
    if (await pipeline(bytes) !== expected) throw new Error("changed output");
  },
});

Deno.bench({
  name: `parse only, ${ROWS} rows`,
  group: "pipeline",
  async fn() {
    const source = await openSourceStream(bytes);
    for await (const _ of source.items);
  },
});
