import assert from "node:assert/strict";
import { Papa } from "../lib/importer/_deps.ts";
import {
  type Checked,
  type Checker,
  createChecker,
} from "../lib/importer/check.ts";
import {
  defaultLayout,
  headerLayout,
  type Layout,
} from "../lib/importer/csv/layout.ts";
import { bodyDigest, keyText, RowKeys } from "../lib/importer/identity.ts";
import { movieValidator } from "../lib/importer/movie.ts";
import { openRejects, rejectsColumns } from "../lib/importer/rejects.ts";

const YEAR = 2026;
const TITANIC = [
  "1997",
  "194",
  "Titanic",
  "Drama",
  "DiCaprio, Leonardo",
  "Winslet, Kate",
  "Cameron, James",
  "80",
  "Yes",
  "titanic.png",
];
const MATRIX = [
  "1999",
  "136",
  "Matrix, The",
  "Action",
  "Reeves, Keanu",
  "Moss, Carrie-Anne",
  "Wachowski, Lana",
  "75",
  "Yes",
  "matrix.png",
];
const BAD_YEAR = ["1700", "100", "Old", "", "", "", "", "", "", ""];

function checker(
  options: { keys?: RowKeys; layout?: Layout; dedupe?: boolean } = {},
): Checker {
  return createChecker({
    layout: options.layout ?? defaultLayout(),
    currentYear: YEAR,
    keys: options.keys ?? new RowKeys({ firstLines: true }),
    dedupe: options.dedupe,
  });
}

const row = (line: number, fields: string[]) => ({
  kind: "row" as const,
  line,
  fields,
});

function ready(checked: Checked) {
  if (checked.kind !== "ready") {
    assert.fail(`expected ready, got ${JSON.stringify(checked)}`);
  }
  return checked;
}

Deno.test("check: a valid row is ready, keyed by the digest of the exact body it sends", () => {
  const check = checker();
  const { job, duplicate } = ready(check(row(2, TITANIC)));
  const validated = movieValidator(YEAR)(TITANIC, defaultLayout().index);
  assert.ok(validated.ok);
  assert.equal(job.body, validated.body);
  assert.equal(job.line, 2);
  assert.deepEqual(job.key, { ...bodyDigest(validated.body), k: 0 });
  assert.equal(duplicate, false);
});

Deno.test("check: equal bodies are numbered in order; the 4th copy has k = 3, however it is spelled", () => {
  const check = checker();
  const spellings = [
    TITANIC,
    [
      " 1997.0",
      "194 ",
      " Titanic ",
      "Drama",
      "DiCaprio, Leonardo",
      "Winslet, Kate",
      "Cameron, James",
      "80.0",
      "YES",
      "titanic.png",
    ],
    TITANIC,
    TITANIC.map((f, i) => i === 8 ? "yes" : f),
  ];
  const out: Checked[] = [];
  spellings.forEach((fields, i) => {
    out.push(check(row(10 + 2 * i, fields)));
    out.push(check(row(11 + 2 * i, i === 1 ? BAD_YEAR : MATRIX))); // other rows in between
  });
  const titanic = out.filter((_, i) => i % 2 === 0).map(ready);
  assert.deepEqual(titanic.map((c) => c.job.key.k), [0, 1, 2, 3]);
  assert.deepEqual(titanic.map((c) => c.duplicate), [false, true, true, true]);
  assert.equal(new Set(titanic.map((c) => c.job.body)).size, 1);
  assert.equal(
    new Set(titanic.map((c) => keyText({ ...c.job.key, k: 0 }))).size,
    1,
  );
  // The invalid row in between counted nothing; the Matrix rows have their own numbers.
  const matrix = out.filter((c, i) => i % 2 === 1 && c.kind === "ready").map(
    ready,
  );
  assert.deepEqual(matrix.map((c) => c.job.key.k), [0, 1, 2]);
});

Deno.test("check: invalid rows keep their fields and say which rule failed", () => {
  const check = checker();
  const bad = check(row(5, BAD_YEAR));
  assert.ok(bad.kind === "invalid");
  assert.equal(bad.line, 5);
  assert.deepEqual(bad.fields, BAD_YEAR);
  assert.deepEqual([bad.rejection.field, bad.rejection.rule], [
    "year",
    "range",
  ]);
  const untitled = check(row(6, TITANIC.map((f, i) => i === 2 ? "  " : f)));
  assert.ok(untitled.kind === "invalid");
  assert.deepEqual([untitled.rejection.field, untitled.rejection.rule], [
    "title",
    "required",
  ]);
  const malformed = check({
    kind: "malformed",
    line: 7,
    fields: ["1999", '"x'],
    reason: "unclosed quote",
  });
  assert.ok(malformed.kind === "invalid");
  assert.deepEqual(malformed.rejection, {
    field: "row",
    rule: "malformed",
    message: "unclosed quote",
  });
  assert.deepEqual(malformed.fields, ["1999", '"x']);
});

Deno.test("check: the field-count message counts the row's own fields, without a rejects file's line and reason", () => {
  const plain = checker();
  const short = plain(row(3, TITANIC.slice(0, 9)));
  assert.ok(short.kind === "invalid");
  assert.deepEqual([short.rejection.field, short.rejection.rule], [
    "row",
    "field_count",
  ]);
  assert.equal(
    short.rejection.message,
    "wrong number of fields: 9, expected 10",
  );
  const long = plain(row(4, [...TITANIC, "extra"]));
  assert.ok(long.kind === "invalid");
  assert.equal(
    long.rejection.message,
    "wrong number of fields: 11, expected 10",
  );

  const rejectsHeader = [
    "line",
    "reason",
    "year",
    "length",
    "title",
    "subject",
    "actor",
    "actress",
    "director",
    "popularity",
    "awards",
    "image",
  ];
  const reimport = checker({ layout: headerLayout(rejectsHeader) });
  const shortAgain = reimport(
    row(2, [
      "3",
      "wrong number of fields: 9, expected 10",
      ...TITANIC.slice(0, 9),
    ]),
  );
  assert.ok(shortAgain.kind === "invalid");
  assert.equal(
    shortAgain.rejection.message,
    "wrong number of fields: 9, expected 10",
  );
  const longAgain = reimport(
    row(3, [
      "4",
      "wrong number of fields: 11, expected 10",
      ...TITANIC,
      "extra",
    ]),
  );
  assert.ok(longAgain.kind === "invalid");
  assert.equal(
    longAgain.rejection.message,
    "wrong number of fields: 11, expected 10",
  );
  assert.equal(reimport(row(4, ["9", "fixed", ...TITANIC])).kind, "ready");
});

Deno.test("check: rows an earlier run delivered are skipped by occurrence", () => {
  const keys = new RowKeys();
  const body = ready(checker()(row(1, TITANIC))).job.body;
  keys.markDelivered({ ...bodyDigest(body), k: 0 });
  keys.markDelivered({ ...bodyDigest(body), k: 2 });
  keys.markDelivered({ ...bodyDigest(body), k: 9 });
  const check = checker({ keys });
  const out = Array.from({ length: 11 }, (_, i) => check(row(i + 2, TITANIC)));
  assert.deepEqual(out.map((c) => c.kind), [
    "already_delivered",
    "ready",
    "already_delivered",
    "ready",
    "ready",
    "ready",
    "ready",
    "ready",
    "ready",
    "already_delivered",
    "ready",
  ]);
  assert.deepEqual(out[0], {
    kind: "already_delivered",
    line: 2,
    duplicate: false,
  });
  assert.deepEqual(out[2], {
    kind: "already_delivered",
    line: 4,
    duplicate: true,
  });
  assert.equal(ready(out[1]).job.key.k, 1);
  assert.equal(ready(out[10]).job.key.k, 10);
  assert.equal(ready(check(row(20, MATRIX))).job.key.k, 0);
});

Deno.test("check: with dedupe, a later copy is a duplicate of the first copy's line", () => {
  const check = checker({ dedupe: true });
  assert.equal(ready(check(row(4, TITANIC))).job.key.k, 0);
  assert.equal(ready(check(row(5, MATRIX))).job.key.k, 0);
  assert.deepEqual(check(row(9, TITANIC)), {
    kind: "duplicate",
    line: 9,
    of: 4,
  });
  assert.deepEqual(check(row(12, TITANIC)), {
    kind: "duplicate",
    line: 12,
    of: 4,
  });
  assert.deepEqual(check(row(13, MATRIX)), {
    kind: "duplicate",
    line: 13,
    of: 5,
  });
  // Delivered earlier, first copy: already delivered, and later copies are still duplicates.
  const keys = new RowKeys({ firstLines: true });
  const body = ready(checker()(row(1, MATRIX))).job.body;
  keys.markDelivered({ ...bodyDigest(body), k: 0 });
  const again = checker({ keys, dedupe: true });
  assert.deepEqual(again(row(30, MATRIX)), {
    kind: "already_delivered",
    line: 30,
    duplicate: false,
  });
  assert.deepEqual(again(row(31, MATRIX)), {
    kind: "duplicate",
    line: 31,
    of: 30,
  });
});

/** The keys of the ready rows of a `;` CSV text with a header. */
function keysOf(text: string): string[] {
  const records =
    Papa.parse<string[]>(text.trimEnd(), { delimiter: ";", newline: "\n" })
      .data;
  const check = checker({ layout: headerLayout(records[0]) });
  return records.slice(1).flatMap((fields, i) => {
    const checked = check(row(i + 2, fields));
    return checked.kind === "ready"
      ? [`${checked.job.line}:${keyText(checked.job.key)}`]
      : [];
  });
}

Deno.test("check: a re-imported rejects file checks its rows to the keys they had in the original file", async () => {
  const header = [
    "Year",
    "Length",
    "Title",
    "Subject",
    "Actor",
    "Actress",
    "Director",
    "Popularity",
    "Awards",
    "*Image",
  ];
  const rows = [TITANIC, MATRIX, TITANIC, BAD_YEAR, MATRIX, TITANIC, [
    " 1997.0",
    "194",
    " Titanic",
    "Drama",
    "DiCaprio, Leonardo",
    "Winslet, Kate",
    "Cameron, James",
    "80",
    "yes",
    "titanic.png",
  ], [
    "2001",
    "",
    'Amélie; "Le fabuleux"',
    "Comedy",
    "",
    "Tautou, Audrey",
    "",
    "",
    "",
    "",
  ]];
  const original =
    [header, ...rows].map((r) =>
      r.join(";").replace(/Amélie; "Le fabuleux"/, '"Amélie; ""Le fabuleux"""')
    ).join("\n") + "\n";
  const originalKeys = keysOf(original).map((k) => k.slice(k.indexOf(":") + 1));
  assert.equal(originalKeys.length, 7);

  const layout = headerLayout(header);
  const columns = rejectsColumns(layout);
  const check = checker({ layout });
  const dir = await Deno.makeTempDir();
  try {
    // Every row back in a rejects file: as it stood (an invalid row, fixed by
    // hand or not), and as it was sent (a row the service refused).
    for (const how of ["original", "sent"] as const) {
      const path = `${dir}/rejects-${how}.csv`;
      const rejects = openRejects(path, { columns: columns.names });
      rows.forEach((fields, i) => {
        const checked = check(row(i + 2, fields));
        const out = how === "original" || checked.kind !== "ready"
          ? columns.original(fields)
          : columns.sent(checked.job.body);
        rejects.add(i + 2, "service refused it: HTTP 409", out);
      });
      rejects.close();
      const text = Deno.readTextFileSync(path);
      assert.ok(text.startsWith("line;reason;Year;Length;"), text.slice(0, 40));
      const again = keysOf(text).map((k) => k.slice(k.indexOf(":") + 1));
      assert.deepEqual(again, originalKeys, how);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
