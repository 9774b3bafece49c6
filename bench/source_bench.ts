/**
 * Speed of the source stage: `openSourceStream` over ~100,000 rows held in
 * memory (the lines of `../shared/data/backup.csv` repeated, or a built-in
 * line when that file is absent), read to the end. rows/s = iter/s × rows.
 * Run with `deno bench -A bench/source_bench.ts`.
 *
 * @module
 */

import {
  openSourceStream,
  type SourceOptions,
} from "../lib/importer/source.ts";

const ROWS = 100_000;
const FALLBACK =
  "2010;109;The Sorcerer's Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;NicholasCage.png";

async function sampleLines(): Promise<{ header: string; lines: string[] }> {
  try {
    const text = await Deno.readTextFile(
      new URL("../../shared/data/backup.csv", import.meta.url),
    );
    const [header, ...lines] = text.split("\n").filter((l) => l !== "");
    return { header, lines };
  } catch {
    return {
      header:
        "year;length;title;subject;actor;actress;director;popularity;awards;image",
      lines: [FALLBACK],
    };
  }
}

const { header, lines } = await sampleLines();
const body: string[] = [header];
for (let i = 0; body.length <= ROWS; i++) body.push(lines[i % lines.length]);
const text = body.join("\n") + "\n";
const utf8 = new TextEncoder().encode(text);
const quotedCommas = new TextEncoder().encode(
  body.map((l) =>
    l.split(";").map((f) => `"${f.replaceAll('"', "")}"`).join(",")
  ).join("\r\n") + "\r\n",
);

async function consume(
  input: Uint8Array,
  options: SourceOptions = {},
): Promise<void> {
  const source = await openSourceStream(input, options);
  let n = 0;
  for await (const batch of source.items) n += batch.length;
  if (n !== ROWS + 1) throw new Error(`read ${n} items, expected ${ROWS + 1}`);
}

console.log(
  `source bench: ${ROWS} rows, ${
    (utf8.length / 1e6).toFixed(1)
  } MB per iteration`,
);

Deno.bench({
  name:
    `openSourceStream: ${ROWS} rows, utf-8 ';' (auto: pre-scan + decode + parse)`,
  group: "source 100k rows",
  baseline: true,
  fn: async () => await consume(utf8),
});

Deno.bench({
  name: `openSourceStream: ${ROWS} rows, forced windows-1252 (no scan)`,
  group: "source 100k rows",
  fn: async () => await consume(utf8, { encoding: "windows-1252" }),
});

Deno.bench({
  name: `openSourceStream: ${ROWS} rows, ',' every field quoted, CRLF`,
  group: "source 100k rows",
  fn: async () => await consume(quotedCommas),
});
