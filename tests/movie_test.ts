import assert from "node:assert/strict";
import {
  COLUMNS,
  DEFAULT_INDEX,
  type Movie,
  movieValidator,
  normalise,
} from "../lib/importer/movie.ts";

const validate = movieValidator(2026);
const base = {
  year: "2010",
  length: "109",
  title: "The Apprentice",
  subject: "Fantasy",
  actor: "Cage, Nicolas",
  actress: "Palmer, Teresa",
  director: "Turteltaub, Jon",
  popularity: "40",
  awards: "No",
  image: "NicholasCage.png",
};
const row = (changes: Partial<typeof base> = {}) =>
  COLUMNS.map((c) => ({ ...base, ...changes })[c]);

function accepted(changes: Partial<typeof base>): Movie {
  const result = validate(row(changes), DEFAULT_INDEX);
  assert.ok(result.ok, JSON.stringify(result));
  return result.movie;
}

function rejected(changes: Partial<typeof base>) {
  const result = validate(row(changes), DEFAULT_INDEX);
  assert.ok(!result.ok, `expected a rejection for ${JSON.stringify(changes)}`);
  return result.rejection;
}

Deno.test("a clean row becomes the JSON the service takes, keys in column order", () => {
  const result = validate(row(), DEFAULT_INDEX);
  assert.ok(result.ok);
  assert.equal(
    result.body,
    '{"year":2010,"length":109,"title":"The Apprentice","subject":"Fantasy","actor":"Cage, Nicolas","actress":"Palmer, Teresa","director":"Turteltaub, Jon","popularity":40,"awards":"No","image":"NicholasCage.png"}',
  );
});

Deno.test("every field is trimmed", () => {
  const m = accepted({
    title: "  Cuba  ",
    actor: "Connery, Sean ",
    year: " 1979 ",
    image: " a.jpg ",
  });
  assert.equal(m.title, "Cuba");
  assert.equal(m.actor, "Connery, Sean");
  assert.equal(m.year, 1979);
  assert.equal(m.image, "a.jpg");
});

Deno.test("year: an integer, 1997 or 1997.0, from 1888 to the current year", () => {
  assert.equal(accepted({ year: "1997.0" }).year, 1997);
  assert.equal(accepted({ year: "1888" }).year, 1888);
  assert.equal(accepted({ year: "2026" }).year, 2026);
  assert.deepEqual(rejected({ year: "1887" }), {
    field: "year",
    rule: "range",
    message: 'year "1887" is out of range: must be from 1888 to 2026',
  });
  assert.equal(rejected({ year: "2027" }).rule, "range");
  assert.equal(
    movieValidator(2027)(row({ year: "2027" }), DEFAULT_INDEX).ok,
    true,
    "the current year is injected",
  );
  assert.deepEqual(rejected({ year: "1997.5" }), {
    field: "year",
    rule: "not_integer",
    message: 'year "1997.5" is not a whole number (must be from 1888 to 2026)',
  });
  assert.equal(rejected({ year: "nineteen" }).rule, "not_integer");
  assert.deepEqual(rejected({ year: "" }), {
    field: "year",
    rule: "required",
    message: "year is empty: a year from 1888 to 2026 is required",
  });
});

Deno.test("length and popularity: numbers; empty ones are sent as null", () => {
  const m = accepted({ length: "", popularity: "" });
  assert.equal(m.length, null);
  assert.equal(m.popularity, null);
  assert.equal(
    accepted({ length: "-5" }).length,
    -5,
    "the service does not check length",
  );
  assert.equal(accepted({ length: "95.5" }).length, 95.5);
  assert.deepEqual(rejected({ length: "1h30" }), {
    field: "length",
    rule: "not_number",
    message: 'length "1h30" is not a number',
  });
  assert.equal(
    rejected({ length: "1e400" }).rule,
    "not_number",
    "JSON has no Infinity",
  );
  assert.equal(accepted({ popularity: "0" }).popularity, 0);
  assert.equal(accepted({ popularity: "100" }).popularity, 100);
  assert.deepEqual(rejected({ popularity: "101" }), {
    field: "popularity",
    rule: "range",
    message: 'popularity "101" is out of range: must be from 0 to 100',
  });
  assert.equal(rejected({ popularity: "-1" }).rule, "range");
  assert.equal(rejected({ popularity: "high" }).rule, "not_number");
});

Deno.test("title is required", () => {
  assert.deepEqual(rejected({ title: "   " }), {
    field: "title",
    rule: "required",
    message: "title is empty: a title is required",
  });
});

Deno.test("awards: yes/no in any case become Yes/No; empty allowed; anything else rejected", () => {
  assert.equal(accepted({ awards: "yes" }).awards, "Yes");
  assert.equal(accepted({ awards: "NO" }).awards, "No");
  assert.equal(accepted({ awards: "" }).awards, "");
  assert.deepEqual(rejected({ awards: "maybe" }), {
    field: "awards",
    rule: "awards",
    message: 'awards "maybe" must be Yes, No or empty (any case)',
  });
});

Deno.test("image: empty, or a name ending in .png, .jpg or .jpeg (case-sensitive, like the service)", () => {
  for (const image of ["", "a.png", "x.y.jpg", "p.jpeg"]) {
    assert.equal(accepted({ image }).image, image);
  }
  for (const image of ["a.gif", ".png", "a.PNG", "png"]) {
    const r = rejected({ image });
    assert.equal(r.rule, "image", image);
    assert.equal(
      r.message,
      `image ${
        JSON.stringify(image)
      } must be empty or end in .png, .jpg or .jpeg`,
    );
  }
});

Deno.test("a field with U+FFFD is rejected as corrupted in the file", () => {
  for (
    const field of [
      "title",
      "subject",
      "actor",
      "actress",
      "director",
      "image",
    ] as const
  ) {
    const value = field === "image"
      ? "Bj\uFFFDrn.png"
      : "Bj\uFFFDrnstrand, Gunnar";
    const r = rejected({ [field]: value });
    assert.equal(r.field, field);
    assert.equal(r.rule, "corrupted");
    assert.ok(
      r.message.startsWith(`${field} ${JSON.stringify(value)} contains U+FFFD`),
      r.message,
    );
    assert.match(r.message, /already corrupted in the file/);
  }
});

Deno.test("the first failing field in column order is named", () => {
  assert.equal(rejected({ year: "1700", title: "" }).field, "year");
  assert.equal(rejected({ title: "", awards: "maybe" }).field, "title");
});

Deno.test("columns are found through the index; a missing column reads as empty", () => {
  const index = { ...DEFAULT_INDEX, title: 0, year: 2, image: -1 };
  const fields = [
    "Cuba",
    "122",
    "1979",
    "Action",
    "",
    "",
    "",
    "6",
    "No",
    "ignored.gif",
  ];
  const n = normalise(fields, index);
  assert.equal(n.title, "Cuba");
  assert.equal(n.year, 1979);
  assert.equal(n.image, "");
  assert.ok(validate(fields, index).ok);
});

Deno.test("one source of truth for the image rule: what the service accepts (Go's `.`), the importer accepts, by both paths", async () => {
  const { movieSchema } = await import("../lib/importer/movie.ts");
  const { imageMatches } = await import("../lib/sink/rules.ts");
  const schema = movieSchema(2026);
  for (const image of ["a\r.png", "a\u2028.jpg", "a\u2029.jpeg", "é.png"]) {
    assert.ok(
      imageMatches(image),
      `the service accepts ${JSON.stringify(image)}`,
    );
    assert.equal(accepted({ image }).image, image, "the fast path");
    const movie = { ...normalise(row({ image }), DEFAULT_INDEX) };
    assert.ok(
      schema.safeParse(movie).success,
      `the zod schema accepts ${JSON.stringify(image)}`,
    );
  }
  for (const image of ["a\n.png", ".png", "a.PNG"]) {
    assert.ok(!imageMatches(image));
    assert.equal(rejected({ image }).rule, "image");
  }
});
