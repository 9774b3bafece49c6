/**
 * `lib/sink/rules.ts`: each validation rule of SINK.md, its exact message,
 * and the order in which they apply.
 */

import assert from "node:assert/strict";
import { imageMatches, utf8Offset, validateFilm } from "../lib/sink/rules.ts";
import { type Film, zeroFilm } from "../lib/sink/film.ts";
import { decodeFilm } from "../lib/sink/go_json.ts";
import { seededRandom } from "../lib/shared/random.ts";

const YEAR = 2026;
const good: Film = {
  ...zeroFilm(),
  title: "Titanic",
  year: 1997,
  popularity: 80,
  awards: "Yes",
  image: "titanic.png",
};
const check = (change: Partial<Film>, year = YEAR) =>
  validateFilm({ ...good, ...change }, year);

Deno.test("rules: a good film passes, and so does a minimal one", () => {
  assert.equal(check({}), null);
  assert.equal(
    validateFilm({ ...zeroFilm(), title: "x", year: 1888 }, YEAR),
    null,
  );
});

Deno.test("rules: SINK.md's messages, verbatim", () => {
  assert.equal(check({ title: "" }), "title is required");
  assert.equal(
    check({ year: 1887 }),
    "year must be between 1888 and 2026 (inclusive)",
  );
  assert.equal(
    check({ popularity: -1 }),
    "year must be between 0 and 100 (inclusive)",
  );
  assert.equal(check({ awards: "yes" }), 'awards must be "Yes" or "No"');
  assert.equal(
    check({ image: "poster.gif" }),
    'image value doesn\'t match the regexp ".+\\\\.(png|jpg|jpeg)$": poster.gif',
  );
  assert.equal(
    check({ director: "Jean-Luc Godard\uFFFD" }),
    "value for director contains an invalid character at position 15: Jean-Luc Godard\uFFFD",
  );
  assert.equal(
    check({ actor: "a\uD800b" }),
    "value for actor is not valid utf8: a\uD800b",
  );
});

Deno.test("rules: year bounds come from the given current year", () => {
  assert.equal(check({ year: 1888 }), null);
  assert.equal(check({ year: 2026 }), null);
  assert.equal(
    check({ year: 2027 }),
    "year must be between 1888 and 2026 (inclusive)",
  );
  assert.equal(check({ year: 2030 }, 2030), null);
  assert.equal(
    check({ year: 2031 }, 2030),
    "year must be between 1888 and 2030 (inclusive)",
  );
  // a missing year is 0
  assert.equal(
    check({ year: 0 }),
    "year must be between 1888 and 2026 (inclusive)",
  );
});

Deno.test("rules: popularity 0..100 inclusive, length never checked", () => {
  assert.equal(check({ popularity: 0 }), null);
  assert.equal(check({ popularity: 100 }), null);
  assert.equal(check({ popularity: -0 }), null);
  assert.equal(
    check({ popularity: 100.0001 }),
    "year must be between 0 and 100 (inclusive)",
  );
  assert.equal(check({ length: -5 }), null);
  assert.equal(check({ length: 1e300 }), null);
});

Deno.test("rules: awards are case-sensitive, empty allowed", () => {
  assert.equal(check({ awards: "" }), null);
  assert.equal(check({ awards: "No" }), null);
  for (const awards of ["YES", "no", " Yes", "Yes ", "true", "1"]) {
    assert.equal(check({ awards }), 'awards must be "Yes" or "No"', awards);
  }
});

Deno.test("rules: image follows Go's regexp .+\\.(png|jpg|jpeg)$", () => {
  for (
    const image of [
      "a.png",
      "a.jpg",
      "a.jpeg",
      "..png",
      "a b.jpg",
      "a\r.png",
      "é.png",
      "x.png.jpg",
    ]
  ) {
    assert.ok(imageMatches(image), image);
  }
  for (
    const image of [
      ".png",
      "a.PNG",
      "a.png ",
      "a.png\n",
      "\n.png",
      "a.gif",
      "apng",
      "a.jpe",
    ]
  ) {
    assert.ok(!imageMatches(image), JSON.stringify(image));
  }
  assert.equal(check({ image: "" }), null); // empty is allowed
  // agrees with the same pattern where "." is Go's (anything but \n)
  const goPattern = /[^\n]+\.(png|jpg|jpeg)$/;
  const random = seededRandom(7);
  const pieces = [
    "a",
    ".",
    "png",
    "jpg",
    "jpeg",
    "\n",
    "\r",
    "P",
    "\u2028",
    "é",
  ];
  for (let i = 0; i < 5000; i++) {
    let text = "";
    const n = Math.floor(random() * 5);
    for (let k = 0; k < n; k++) {
      text += pieces[Math.floor(random() * pieces.length)];
    }
    assert.equal(
      imageMatches(text),
      goPattern.test(text),
      JSON.stringify(text),
    );
  }
});

Deno.test("rules: U+FFFD position is a UTF-8 byte index", () => {
  assert.equal(utf8Offset("abc", 3), 3);
  assert.equal(utf8Offset("é", 1), 2);
  assert.equal(utf8Offset("€", 1), 3);
  assert.equal(utf8Offset("😀", 2), 4);
  assert.equal(
    check({ title: "Amélie \uFFFD" }),
    "value for title contains an invalid character at position 8: Amélie \uFFFD",
  );
  assert.equal(
    check({ subject: "😀\uFFFD" }),
    "value for subject contains an invalid character at position 4: 😀\uFFFD",
  );
});

Deno.test("rules: first failure wins, in SINK.md's order", () => {
  const all: Partial<Film> = {
    title: "",
    year: 1,
    popularity: 200,
    awards: "maybe",
    image: "x.gif",
    actor: "\uFFFD",
  };
  const expected = [
    "title is required",
    "year must be between 1888 and 2026 (inclusive)",
    "year must be between 0 and 100 (inclusive)",
    'awards must be "Yes" or "No"',
    'image value doesn\'t match the regexp ".+\\\\.(png|jpg|jpeg)$": x.gif',
    "value for actor contains an invalid character at position 0: \uFFFD",
  ];
  const fixes: Partial<Film>[] = [
    { title: "t" },
    { year: 2000 },
    { popularity: 1 },
    { awards: "No" },
    { image: "x.jpg" },
    { actor: "ok" },
  ];
  let film: Partial<Film> = { ...all };
  for (let i = 0; i < expected.length; i++) {
    assert.equal(check(film), expected[i]);
    film = { ...film, ...fixes[i] };
  }
  assert.equal(check(film), null);
  // among the text fields: title, subject, actor, actress, director, awards, image
  assert.equal(
    check({ director: "\uFFFD", subject: "x\uFFFD" }),
    "value for subject contains an invalid character at position 1: x\uFFFD",
  );
  assert.equal(
    check({ title: "t\uFFFD", subject: "\uFFFD" }),
    "value for title contains an invalid character at position 1: t\uFFFD",
  );
  assert.equal(
    check({ image: "\uFFFD.png" }),
    "value for image contains an invalid character at position 0: \uFFFD.png",
  );
});

Deno.test("rules: raw invalid bytes, escaped \\ufffd and a literal � give the same message", () => {
  const encoder = new TextEncoder();
  const bodies = [
    new Uint8Array([
      ...encoder.encode('{"year":1997,"title":"ab'),
      0xff,
      ...encoder.encode('"}'),
    ]),
    encoder.encode('{"year":1997,"title":"ab\\ufffd"}'),
    encoder.encode('{"year":1997,"title":"ab\uFFFD"}'),
  ];
  for (const body of bodies) {
    const decoded = decodeFilm(body);
    assert.ok(decoded.ok);
    assert.equal(
      validateFilm(decoded.film, YEAR),
      "value for title contains an invalid character at position 2: ab\uFFFD",
    );
  }
});
