import assert from "node:assert/strict";
import type { Delimiter } from "../lib/importer/csv/dialect.ts";
import { parseStream } from "../lib/importer/csv/parse_stream.ts";
import {
  checkShape,
  SHAPE_SAMPLE,
  type ShapeRecord,
} from "../lib/importer/csv/shape.ts";

const HEADER =
  "year;length;title;subject;actor;actress;director;popularity;awards;image";
const ROWS = [
  "2010;109;The Sorcerer's Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;NicholasCage.png",
  "1997;194;Titanic;Drama;DiCaprio, Leonardo;Winslet, Kate;Cameron, James;80;Yes;titanic.png",
  "1999;136;Matrix, The;Action;Reeves, Keanu;Moss, Carrie-Anne;Wachowski, Lana;75;Yes;matrix.png",
];

/** A file of the export's header and `n` rows, written with `delimiter`. */
function exportText(delimiter: string, n = 30, header = true): string {
  const lines = Array.from({ length: n }, (_, i) => ROWS[i % ROWS.length]);
  const all = header ? [HEADER, ...lines] : lines;
  return all.map((l) => l.replaceAll(";", delimiter)).join("\n") + "\n";
}

/**
 * The first SHAPE_SAMPLE data records of a text parsed with `delimiter`
 * (the header, when `header` says one was recognised, left out).
 */
async function firstRecords(
  text: string,
  delimiter: Delimiter,
  header: boolean,
): Promise<ShapeRecord[]> {
  const records = (await Array.fromAsync(
    ReadableStream.from([text]).pipeThrough(parseStream({ delimiter })),
  )).flat().filter((r) => r.kind !== "blank") as ShapeRecord[];
  return records.slice(header ? 1 : 0, (header ? 1 : 0) + SHAPE_SAMPLE);
}

async function verdictOf(
  text: string,
  delimiter: Delimiter,
  header: boolean,
  width = 10,
) {
  const records = await firstRecords(text, delimiter, header);
  return checkShape({ records, width, dialect: { delimiter }, header });
}

Deno.test("shape: a tab-separated export read with ';' says to try tab", async () => {
  // Read with ';' the header is one field, so no header is recognised.
  const verdict = await verdictOf(exportText("\t"), ";", false);
  assert.deepEqual(verdict, {
    kind: "wrong_shape",
    message:
      'the first 20 rows (lines 1 to 20) have 1 field each where 10 are expected: the delimiter is probably not ";" (each holds 9 tabs); try --delimiter tab',
    delimiter: "\t",
  });
});

Deno.test("shape: a '|'-separated export read with ';' or ',' says to try pipe", async () => {
  const semicolon = await verdictOf(exportText("|"), ";", false);
  assert.equal(semicolon.kind, "wrong_shape");
  assert.ok(semicolon.kind === "wrong_shape");
  assert.equal(semicolon.delimiter, "|");
  assert.match(semicolon.message, /each holds 9 "\|"\); try --delimiter pipe$/);
  // Read with ',' the commas of the names and of "Matrix, The" split the
  // rows (4 or 5 fields) but not the header (1 field): the counts vary, and
  // '|' still explains every record.
  const comma = await verdictOf(exportText("|"), ",", false);
  assert.ok(comma.kind === "wrong_shape");
  assert.equal(comma.delimiter, "|");
  assert.match(comma.message, /have 1 to 5 fields where 10 are expected/);
  assert.match(comma.message, /probably not ","/);
});

Deno.test("shape: a ';' export read with ',' (commas in the names) says to try semicolon", async () => {
  const verdict = await verdictOf(exportText(";"), ",", false);
  assert.ok(verdict.kind === "wrong_shape");
  assert.equal(verdict.delimiter, ";");
  assert.equal(
    verdict.message,
    'the first 20 rows (lines 1 to 20) have 1 to 5 fields where 10 are expected: the delimiter is probably not "," (each holds 9 ";"); try --delimiter semicolon',
  );
});

Deno.test("shape: a good file is ok, commas in its values and all", async () => {
  for (const d of [";", "\t", "|"] as const) {
    assert.deepEqual(await verdictOf(exportText(d), d, true), { kind: "ok" });
  }
  assert.deepEqual(await verdictOf(exportText(";", 5, false), ";", false), {
    kind: "ok",
  });
});

Deno.test("shape: good rows with a few bad ones are ok (one good row is enough)", async () => {
  const lines = exportText(";", 20).split("\n");
  lines[3] = "2001;Shrek"; // short
  lines[7] = lines[7] + ";extra"; // long
  assert.deepEqual(await verdictOf(lines.join("\n"), ";", true), {
    kind: "ok",
  });
  // Only the 20th of the first 20 rows is good: still ok.
  const bad = Array.from({ length: 19 }, () => "2001;Shrek;Animation");
  const text = [HEADER, ...bad, ROWS[0]].join("\n") + "\n";
  assert.deepEqual(await verdictOf(text, ";", true), { kind: "ok" });
});

Deno.test("shape: rows that all have 12 fields under a header of 10: check the header", async () => {
  const text = exportText(";").split("\n")
    .map((l, i) => i === 0 || l === "" ? l : `${l};;`).join("\n");
  const verdict = await verdictOf(text, ";", true);
  assert.deepEqual(verdict, {
    kind: "wrong_shape",
    message:
      "the first 20 rows (lines 2 to 21) have 12 fields each, the header 10: check the header (a column name missing or extra?)",
  });
});

Deno.test("shape: no header and rows of 3 fields: probably not a movie export", async () => {
  const text = "a;b;c\nd;e;f\ng;h;i\n";
  assert.deepEqual(await verdictOf(text, ";", false), {
    kind: "wrong_shape",
    message:
      "no header was recognised and the first 3 rows (lines 1 to 3) have 3 fields each where 10 are expected: the file is probably not a movie export",
  });
  const varied = await verdictOf("a;b\nc;d;e\nf\n", ";", false);
  assert.ok(varied.kind === "wrong_shape");
  assert.match(
    varied.message,
    /have 1 to 3 fields where 10 are expected: the file is probably not a movie export$/,
  );
});

Deno.test("shape: a header whose rows are each wrong in their own way is ok (rejected row by row)", async () => {
  const rows = ["2001;Shrek", "2002;a;b;c;d;e;f;g;h;i;j;k", "2003;x;y"];
  const text = [HEADER, ...rows].join("\n") + "\n";
  assert.deepEqual(await verdictOf(text, ";", true), { kind: "ok" });
});

Deno.test("shape: commas in the names of a ';' file are no reason to suggest ','", async () => {
  // Header found, rows of 11 fields (3 commas each): the header is the hint.
  const text = exportText(";").split("\n")
    .map((l, i) => i === 0 || l === "" ? l : `${l};`).join("\n");
  const verdict = await verdictOf(text, ";", true);
  assert.ok(verdict.kind === "wrong_shape" && verdict.delimiter === undefined);
  assert.match(verdict.message, /check the header/);
});

Deno.test("shape: one-field rows holding another delimiter, but not width - 1 of it", async () => {
  // A tab-separated file of 6 columns, read with ';', expected 10.
  const text = "a\tb\tc\td\te\tf\n1\t2\t3\t4\t5\t6\n";
  const verdict = await verdictOf(text, ";", false);
  assert.ok(verdict.kind === "wrong_shape");
  assert.equal(verdict.delimiter, "\t");
  assert.match(verdict.message, /\(they hold tabs\); try --delimiter tab$/);
});

Deno.test("shape: one row is 'the first row'; no rows at all is ok", () => {
  const one = checkShape({
    records: [{ line: 2, fields: ["1999|Matrix|x"] }],
    width: 3,
    dialect: { delimiter: "," },
    header: true,
  });
  assert.ok(one.kind === "wrong_shape");
  assert.match(
    one.message,
    /^the first row \(line 2\) has 1 field where 3 are expected/,
  );
  assert.deepEqual(
    checkShape({
      records: [],
      width: 10,
      dialect: { delimiter: ";" },
      header: true,
    }),
    { kind: "ok" },
  );
});
