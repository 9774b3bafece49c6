/**
 * The importer's schema against the service's own rules (the local service's
 * Go-style decoder and validator, which tests/sink_* hold to SINK.md): a row
 * the importer sends is never answered 400, and once normalised, a row the
 * importer rejects for a service rule would be refused by the service too.
 */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import {
  COLUMNS,
  DEFAULT_INDEX,
  movieSchema,
  movieValidator,
  normalise,
} from "../lib/importer/movie.ts";
import { seededRandom } from "../lib/shared/random.ts";
import { decodeFilm } from "../lib/sink/go_json.ts";
import { validateFilm } from "../lib/sink/rules.ts";
import { openSourceStream } from "../lib/importer/source.ts";

const YEAR = 2026;
const validate = movieValidator(YEAR);
const encoder = new TextEncoder();

/** What the service answers to a body: null for 201, else its 400 message. */
function service(body: string): string | null {
  const decoded = decodeFilm(encoder.encode(body));
  return decoded.ok ? validateFilm(decoded.film, YEAR) : decoded.error;
}

const TRICKY: Record<string, string[]> = {
  year: [
    "1887",
    "1888",
    "1997",
    "2026",
    "2027",
    "1997.0",
    "1997.5",
    "+1990",
    "-0",
    "1e3",
    "",
    " 2000 ",
    "19x7",
    "99999999999999999999",
  ],
  length: ["", "0", "-5", "95.5", "1e308", "1e400", "abc", " 90 ", ".5"],
  title: [
    "",
    " ",
    "x",
    "Camille Claudel",
    "\uFFFD",
    "G\uFFFDrard",
    'quote"s',
    "tab\tin",
    "emoji 😀",
    "\u0000nul",
    "back\\slash",
  ],
  subject: ["", "Drama", "Dr\uFFFDma"],
  actor: [
    "",
    "Depardieu, Gérard",
    "Depardieu, G\uFFFDrard",
    "  Cage, Nicolas  ",
  ],
  actress: ["", "Adjani, Isabelle", "\uFFFD"],
  director: ["", "Bergman, Ingmar", "Bergman, Ingmar ", "L\uFFFDf\uFFFDvre"],
  popularity: ["", "0", "100", "100.0001", "-0.0001", "50.5", "1e2", "high"],
  awards: ["", "Yes", "yes", "YES", "No", "no", "maybe", "Nö", " yes "],
  image: [
    "",
    "a.png",
    "a.PNG",
    ".png",
    "x.jpeg",
    "x.jpg",
    "a.png.gif",
    "é.jpg",
    "a\uFFFD.png",
    "png",
    "a b.png",
  ],
};

function* fuzzRows(count: number, seed: number): Generator<string[]> {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    yield COLUMNS.map((c) =>
      TRICKY[c][Math.floor(random() * TRICKY[c].length)]
    );
  }
}

async function* generatedRows(): AsyncGenerator<string[]> {
  const { bytes } = generateCsvBytes({
    rows: 20_000,
    seed: 99,
    defects: {
      year_range: 0.05,
      popularity_range: 0.05,
      awards: 0.05,
      image: 0.05,
      empty_title: 0.05,
    } as never,
  });
  const source = await openSourceStream(bytes);
  for await (const batch of source.items) {
    for (const item of batch) {
      if (item.kind === "row" && item.fields.length === 10) yield item.fields;
    }
  }
}

function check(fields: string[], counts: { sent: number; held: number }) {
  const result = validate(fields, DEFAULT_INDEX);
  if (result.ok) {
    counts.sent++;
    assert.equal(
      service(result.body),
      null,
      `sent ${result.body} but the service refuses it`,
    );
    return;
  }
  counts.held++;
  const { rule } = result.rejection;
  const n = normalise(fields, DEFAULT_INDEX);
  const numeric = [n.year, n.length, n.popularity].every((v) =>
    v === null || typeof v === "number"
  );
  const finite = [n.year, n.length, n.popularity].every((v) =>
    v === null || Number.isFinite(v)
  );
  if (numeric && finite && rule !== "field_count") {
    // The same row, sent as it is after normalisation: the service refuses it too.
    const body = JSON.stringify({ ...n, year: n.year ?? undefined });
    assert.notEqual(
      service(body),
      null,
      `held back ${
        JSON.stringify(fields)
      } (${rule}) but the service would take ${body}`,
    );
  }
}

Deno.test("fuzzed rows: what is sent is accepted; what is held back for a rule would be refused", () => {
  const counts = { sent: 0, held: 0 };
  for (const fields of fuzzRows(30_000, 1)) check(fields, counts);
  assert.ok(counts.sent > 100 && counts.held > 100, JSON.stringify(counts));
});

Deno.test("generated rows with every kind of defect: the same", async () => {
  const counts = { sent: 0, held: 0 };
  for await (const fields of generatedRows()) check(fields, counts);
  assert.ok(counts.sent > 1000 && counts.held > 100, JSON.stringify(counts));
});

Deno.test("the validator's plain-check fast path agrees with the zod schema, row for row", () => {
  const schema = movieSchema(YEAR);
  let valid = 0;
  for (const fields of fuzzRows(30_000, 2)) {
    const result = validate(fields, DEFAULT_INDEX);
    const parsed = schema.safeParse(normalise(fields, DEFAULT_INDEX));
    assert.equal(result.ok, parsed.success, JSON.stringify(fields));
    if (result.ok && parsed.success) {
      valid++;
      assert.equal(result.body, JSON.stringify(parsed.data));
    }
  }
  assert.ok(valid > 100);
});
