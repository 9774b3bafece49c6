import assert from "node:assert/strict";
import { InputError } from "../lib/importer/csv/errors.ts";
import {
  defaultLayout,
  headerLayout,
  isHeader,
  isTypeRow,
  type LayoutOptions,
  normalizeName,
} from "../lib/importer/csv/layout.ts";
import { COLUMNS } from "../lib/importer/movie.ts";

const LOWER =
  "year;length;title;subject;actor;actress;director;popularity;awards;image"
    .split(";");
const CAPITALISED =
  "Year;Length;Title;Subject;Actor;Actress;Director;Popularity;Awards;*Image"
    .split(";");
const TYPES = "INT;INT;STRING;CAT;CAT;CAT;CAT;INT;BOOL;STRING".split(";");
const DATA =
  "2010;109;The Sorcerer's Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;NicholasCage.png"
    .split(";");

function messages(): {
  info: string[];
  warnings: string[];
  options: LayoutOptions;
} {
  const info: string[] = [], warnings: string[] = [];
  return {
    info,
    warnings,
    options: {
      onInfo: (m) => info.push(m),
      onWarning: (m) => warnings.push(m),
    },
  };
}

Deno.test("layout: names compare case-insensitively, letters only", () => {
  assert.equal(normalizeName("*Image"), "image");
  assert.equal(normalizeName(" Year\r"), "year");
  assert.equal(normalizeName("POPULARITY"), "popularity");
  assert.equal(normalizeName("line_no"), "lineno");
});

Deno.test("layout: the export's lower-case header", () => {
  assert.ok(isHeader(LOWER));
  const m = messages();
  const l = headerLayout(LOWER, m.options);
  assert.deepEqual(l, { ...defaultLayout(), header: LOWER });
  assert.deepEqual(m.info, []);
  assert.deepEqual(m.warnings, []);
});

Deno.test("layout: the old export's capitalised header with '*Image'", () => {
  assert.ok(isHeader(CAPITALISED));
  const l = headerLayout(CAPITALISED);
  assert.equal(l.index.image, 9);
  assert.equal(l.index.year, 0);
  assert.deepEqual(l.ignored, []);
  assert.equal(l.width, 10);
});

Deno.test("layout: columns in any order", () => {
  const shuffled = [
    "Image",
    "awards",
    "TITLE",
    "year",
    "length",
    "subject",
    "actor",
    "actress",
    "director",
    "popularity",
  ];
  assert.ok(isHeader(shuffled));
  const l = headerLayout(shuffled);
  for (const c of COLUMNS) assert.equal(shuffled[l.index[c]].toLowerCase(), c);
  assert.equal(l.index.image, 0);
  assert.equal(l.index.title, 2);
});

Deno.test("layout: the rejects file's 'line' and 'reason' columns are recognised and ignored", () => {
  const fields = ["line", "reason", ...LOWER];
  assert.ok(isHeader(fields));
  const m = messages();
  const l = headerLayout(fields, { ...m.options, line: 1 });
  assert.equal(l.index.year, 2);
  assert.equal(l.index.image, 11);
  assert.equal(l.width, 12);
  assert.deepEqual(l.ignored, ["line", "reason"]);
  assert.equal(m.info.length, 1);
  assert.match(m.info[0], /^CSV_IN: line 1: .*rejects file.*line, reason/);
  assert.deepEqual(m.warnings, []);
});

Deno.test("layout: unknown columns are ignored with ONE info message", () => {
  const fields = [...LOWER, "budget", "Notes"];
  assert.ok(isHeader(fields));
  const m = messages();
  const l = headerLayout(fields, m.options);
  assert.deepEqual(l.ignored, ["budget", "Notes"]);
  assert.equal(l.width, 12);
  assert.equal(m.info.length, 1);
  assert.match(m.info[0], /"budget" \(field 11\), "Notes" \(field 12\)/);
  assert.ok(!m.info[0].includes("\n"));
});

Deno.test("layout: a duplicated movie column is a one-line InputError", () => {
  assert.throws(
    () => headerLayout([...LOWER, "Title"], { line: 3 }),
    (e) =>
      e instanceof InputError &&
      e.message ===
        'CSV_IN: line 3: the header names column "title" twice (fields 3 and 11)',
  );
  // Ignored names may repeat.
  assert.doesNotThrow(() =>
    headerLayout([...LOWER, "note", "note", "line", "line"])
  );
});

Deno.test("layout: missing movie columns are -1, with one warning", () => {
  const m = messages();
  const l = headerLayout(["title", "year", "awards"], m.options);
  assert.equal(l.index.title, 0);
  assert.equal(l.index.image, -1);
  assert.equal(l.width, 3);
  assert.equal(m.warnings.length, 1);
  assert.match(
    m.warnings[0],
    /no column\(s\) length, subject, actor, actress, director, popularity, image/,
  );
});

Deno.test("layout: what is NOT a header", () => {
  assert.ok(!isHeader(DATA), "a data row");
  assert.ok(!isHeader(["title", "year"]), "only two movie names");
  assert.ok(
    !isHeader(["year", "year", "year", "x"]),
    "three times the same name",
  );
  assert.ok(
    !isHeader(["title", "year", "awards", "a", "b", "c"]),
    "half the fields unknown",
  );
  assert.ok(
    !isHeader(["line", "reason", "title", "year", "x", "y", "z"]),
    "known names not a majority",
  );
  assert.ok(!isHeader(TYPES));
  assert.ok(!isHeader([]));
  // A data row whose values happen to be three column names is still data,
  // when the other fields are not names.
  assert.ok(
    !isHeader([
      "2001",
      "90",
      "Title",
      "Subject",
      "Actor",
      "x",
      "y",
      "5",
      "No",
      "a.png",
    ]),
  );
});

Deno.test("layout: a row of type names", () => {
  assert.ok(isTypeRow(TYPES));
  assert.ok(isTypeRow(TYPES.map((t) => t.toLowerCase())));
  assert.ok(isTypeRow([...TYPES, ""]), "a trailing empty field");
  assert.ok(isTypeRow(["Integer", "Float", "VARCHAR(255)", "Boolean"]));
  assert.ok(!isTypeRow(DATA));
  assert.ok(!isTypeRow(LOWER));
  assert.ok(!isTypeRow(["INT", "INT", "Matrix"]), "one field is not a type");
  assert.ok(!isTypeRow(["INT", "", "", ""]), "mostly empty");
  assert.ok(!isTypeRow([""]));
});

Deno.test("layout: without a header, COLUMNS order and width 10", () => {
  const l = defaultLayout();
  assert.equal(l.header, null);
  assert.equal(l.width, 10);
  assert.deepEqual(l.ignored, []);
  COLUMNS.forEach((c, i) => assert.equal(l.index[c], i));
});
