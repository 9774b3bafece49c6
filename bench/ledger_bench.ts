/**
 * What the delivery ledger costs a row, on one core, no network: the body's
 * digest, numbering it among equal bodies and looking it up, and recording
 * a delivery (a buffered line, written once per event-loop turn).
 *
 * ```sh
 * deno bench -A bench/ledger_bench.ts
 * ```
 *
 * @module
 */

import { bodyDigest, type RowKey, RowKeys } from "../lib/importer/identity.ts";
import { openLedger } from "../lib/importer/ledger.ts";

const bodies = Array.from({ length: 4096 }, (_, i) =>
  JSON.stringify({
    year: 1900 + (i % 120),
    length: 90 + (i % 50),
    title: `Movie number ${i >> 2}`,
    subject: "Drama",
    actor: "Depardieu, Gérard",
    actress: "Adjani, Isabelle",
    director: "Nuytten, Bruno",
    popularity: i % 100,
    awards: "No",
    image: "poster.png",
  }));
const keys: RowKey[] = bodies.map(bodyDigest);

Deno.bench("digest of a body (XXH3-128, 96 bits)", { group: "row" }, () => {
  for (const body of bodies) bodyDigest(body);
});

Deno.bench("occurrence and ledger lookup (RowKeys, 240,000 distinct held)", {
  group: "row",
}, (b) => {
  const table = new RowKeys();
  for (let i = 0; i < 240_000; i++) {
    table.markDelivered({ d0: i * 2654435761, d1: i, d2: ~i, k: 0 });
  }
  b.start();
  for (const key of keys) {
    const k = table.occur(key, 1);
    table.lastDelivered(k);
  }
  b.end();
});

const dir = await Deno.makeTempDir({ prefix: "ledger-bench-" });
const opened = await openLedger({ dir, url: "http://localhost:9009/movies" });
if (opened.kind !== "ok") throw new Error(opened.message);
const ledger = opened.ledger;

Deno.bench("record a delivery, one write per row (a turn per answer)", {
  group: "record",
}, async () => {
  for (let i = 0; i < 256; i++) {
    ledger.record(keys[i]);
    await Promise.resolve(); // the turn ends: the line is written
  }
});

Deno.bench(
  "record a delivery, 16 answers a turn",
  { group: "record" },
  async () => {
    for (let i = 0; i < 256; i++) {
      ledger.record(keys[i]);
      if (i % 16 === 15) await Promise.resolve();
    }
  },
);

globalThis.addEventListener("unload", () => {
  ledger.close();
  Deno.removeSync(dir, { recursive: true });
});
