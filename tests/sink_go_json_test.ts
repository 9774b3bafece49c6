/**
 * `lib/sink/go_json.ts`: decoding like Go's `json.Unmarshal` into the
 * service's film struct. The error table was produced by Go's own
 * `encoding/json` (go1.19.8, `json.Unmarshal(body, &film)` with the
 * struct of SINK.md) and is compared verbatim.
 */

import assert from "node:assert/strict";
import { checkValid, decodeFilm, quoteChar } from "../lib/sink/go_json.ts";
import { type Film, zeroFilm } from "../lib/sink/film.ts";

const encoder = new TextEncoder();
const bytes = (...values: number[]) => new Uint8Array(values);
const toBytes = (body: string | Uint8Array) =>
  typeof body === "string" ? encoder.encode(body) : body;

function decodeOk(body: string | Uint8Array): Film {
  const result = decodeFilm(toBytes(body));
  if (!result.ok) assert.fail(`expected a film, got: ${result.error}`);
  return result.film;
}

function decodeError(body: string | Uint8Array): string {
  const result = decodeFilm(toBytes(body));
  if (result.ok) {
    assert.fail(`expected an error, got ${JSON.stringify(result.film)}`);
  }
  return result.error;
}

/** [label, body, Go's error or null when Go decodes it]. */
const GO_RESULTS: [string, string | Uint8Array, string | null][] = [
  ["empty", "", "unexpected end of JSON input"],
  ["spaces", " \n\t ", "unexpected end of JSON input"],
  ["open brace", "{", "unexpected end of JSON input"],
  ["open bracket", "[", "unexpected end of JSON input"],
  ["close brace", "}", "invalid character '}' looking for beginning of value"],
  [
    "array",
    "[]",
    "json: cannot unmarshal array into Go value of type main.film",
  ],
  ["null", "null", null],
  [
    "top string",
    '"x"',
    "json: cannot unmarshal string into Go value of type main.film",
  ],
  [
    "top number",
    "42",
    "json: cannot unmarshal number into Go value of type main.film",
  ],
  [
    "top bool",
    "true",
    "json: cannot unmarshal bool into Go value of type main.film",
  ],
  ["minus", "-", "invalid character ' ' in numeric literal"],
  ["leading zero", "01", "invalid character '1' after top-level value"],
  ["dot", "1.", "invalid character ' ' after decimal point in numeric literal"],
  [
    "1.e3",
    "1.e3",
    "invalid character 'e' after decimal point in numeric literal",
  ],
  ["exp", "1e", "invalid character ' ' in exponent of numeric literal"],
  ["exp sign", "1e+", "invalid character ' ' in exponent of numeric literal"],
  [".5", ".5", "invalid character '.' looking for beginning of value"],
  ["unterminated string", '"x', "unexpected end of JSON input"],
  ["tru", "tru", "invalid character ' ' in literal true (expecting 'e')"],
  ["nul", "nul", "invalid character ' ' in literal null (expecting 'l')"],
  ["fals", "fals", "invalid character ' ' in literal false (expecting 'e')"],
  ["trailing x", "{}x", "invalid character 'x' after top-level value"],
  ["two values", "{} {}", "invalid character '{' after top-level value"],
  [
    "{,}",
    "{,}",
    "invalid character ',' looking for beginning of object key string",
  ],
  ["key only", '{"a"}', "invalid character '}' after object key"],
  [
    "no value",
    '{"a":}',
    "invalid character '}' looking for beginning of value",
  ],
  [
    "trailing comma",
    '{"a":1,}',
    "invalid character '}' looking for beginning of object key string",
  ],
  [
    "array trailing comma",
    "[1,]",
    "invalid character ']' looking for beginning of value",
  ],
  [
    "array comma",
    "[,]",
    "invalid character ',' looking for beginning of value",
  ],
  ["array no comma", "[1 2]", "invalid character '2' after array element"],
  ["key space value", '{"a" 1}', "invalid character '1' after object key"],
  [
    "pairs without comma",
    '{"a":1 "b":2}',
    "invalid character '\"' after object key:value pair",
  ],
  [
    "single quotes",
    "{'a':1}",
    "invalid character '\\'' looking for beginning of object key string",
  ],
  [
    "plus",
    '{"year":+1}',
    "invalid character '+' looking for beginning of value",
  ],
  ["hex", '{"year":0x10}', "invalid character 'x' after object key:value pair"],
  ["NaN", "NaN", "invalid character 'N' looking for beginning of value"],
  [
    "bad escape",
    '{"title":"\\x"}',
    "invalid character 'x' in string escape code",
  ],
  [
    "bad hex escape",
    '{"title":"\\u12g4"}',
    "invalid character 'g' in \\u hexadecimal character escape",
  ],
  [
    "raw newline",
    '{"title":"a\nb"}',
    "invalid character '\\n' in string literal",
  ],
  ["raw tab", '{"title":"a\tb"}', "invalid character '\\t' in string literal"],
  [
    "BOM",
    bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d),
    "invalid character 'ï' looking for beginning of value",
  ],
  [
    "raw é",
    bytes(0xc3, 0xa9),
    "invalid character 'Ã' looking for beginning of value",
  ],
  [
    "raw 0xff",
    bytes(0xff),
    "invalid character 'ÿ' looking for beginning of value",
  ],
  [
    "raw 0x80",
    bytes(0x80),
    "invalid character '\\u0080' looking for beginning of value",
  ],
  [
    "raw 0xa0",
    bytes(0xa0),
    "invalid character '\\u00a0' looking for beginning of value",
  ],
  [
    "raw 0xad",
    bytes(0xad),
    "invalid character '\\u00ad' looking for beginning of value",
  ],
  [
    "raw DEL",
    bytes(0x7f),
    "invalid character '\\x7f' looking for beginning of value",
  ],
  [
    "raw 0x01",
    bytes(0x1),
    "invalid character '\\x01' looking for beginning of value",
  ],
  ["apostrophe", "'", "invalid character '\\'' looking for beginning of value"],
  ["quote then eof", '"', "unexpected end of JSON input"],
  [
    "backslash",
    "\\",
    "invalid character '\\\\' looking for beginning of value",
  ],
  [
    "vertical tab",
    bytes(0xb),
    "invalid character '\\v' looking for beginning of value",
  ],
  [
    "year string",
    '{"year":"1997","title":"x"}',
    "json: cannot unmarshal string into Go struct field film.year of type int",
  ],
  [
    "year 1997.5",
    '{"year":1997.5,"title":"x"}',
    "json: cannot unmarshal number 1997.5 into Go struct field film.year of type int",
  ],
  [
    "year 1997.0",
    '{"year":1997.0}',
    "json: cannot unmarshal number 1997.0 into Go struct field film.year of type int",
  ],
  [
    "year 1e3",
    '{"year":1e3}',
    "json: cannot unmarshal number 1e3 into Go struct field film.year of type int",
  ],
  [
    "year 2^63",
    '{"year":9223372036854775808}',
    "json: cannot unmarshal number 9223372036854775808 into Go struct field film.year of type int",
  ],
  [
    "year -2^63-1",
    '{"year":-9223372036854775809}',
    "json: cannot unmarshal number -9223372036854775809 into Go struct field film.year of type int",
  ],
  [
    "year bool",
    '{"year":true}',
    "json: cannot unmarshal bool into Go struct field film.year of type int",
  ],
  [
    "year object",
    '{"year":{"a":1}}',
    "json: cannot unmarshal object into Go struct field film.year of type int",
  ],
  [
    "year array",
    '{"year":["x"]}',
    "json: cannot unmarshal array into Go struct field film.year of type int",
  ],
  [
    "length string",
    '{"title":"x","year":1997,"length":"12"}',
    "json: cannot unmarshal string into Go struct field film.length of type float64",
  ],
  [
    "length 1e400",
    '{"length":1e400}',
    "json: cannot unmarshal number 1e400 into Go struct field film.length of type float64",
  ],
  [
    "popularity -1e400",
    '{"popularity":-1e400}',
    "json: cannot unmarshal number -1e400 into Go struct field film.popularity of type float64",
  ],
  [
    "title number",
    '{"title":5,"year":1997}',
    "json: cannot unmarshal number into Go struct field film.title of type string",
  ],
  [
    "title bool",
    '{"title":false}',
    "json: cannot unmarshal bool into Go struct field film.title of type string",
  ],
  [
    "title object",
    '{"title":{}}',
    "json: cannot unmarshal object into Go struct field film.title of type string",
  ],
  [
    "title array",
    '{"title":[1]}',
    "json: cannot unmarshal array into Go struct field film.title of type string",
  ],
  [
    "first error wins",
    '{"year":"x","title":5}',
    "json: cannot unmarshal string into Go struct field film.year of type int",
  ],
  [
    "first error wins 2",
    '{"title":5,"year":"x"}',
    "json: cannot unmarshal number into Go struct field film.title of type string",
  ],
  [
    "syntax beats type",
    '{"year":"x","title":}',
    "invalid character '}' looking for beginning of value",
  ],
  [
    "error in unknown key ignored",
    '{"other":{"year":"x"},"Year":"1"}',
    "json: cannot unmarshal string into Go struct field film.year of type int",
  ],
  [
    "depth 10001",
    "[".repeat(10001),
    "invalid character '[' exceeded max depth",
  ],
];

Deno.test("go_json: every body of the table gets Go's exact result", () => {
  for (const [label, body, expected] of GO_RESULTS) {
    const result = decodeFilm(toBytes(body));
    assert.equal(result.ok ? null : result.error, expected, label);
  }
});

Deno.test("go_json: SINK.md's decode examples, verbatim", () => {
  assert.equal(
    decodeError('{"year":"1997","title":"x"}'),
    "json: cannot unmarshal string into Go struct field film.year of type int",
  );
  assert.equal(
    decodeError('{"year":1997.5,"title":"x"}'),
    "json: cannot unmarshal number 1997.5 into Go struct field film.year of type int",
  );
  assert.equal(
    decodeError('{"title":"x","year":1997,"length":"12"}'),
    "json: cannot unmarshal string into Go struct field film.length of type float64",
  );
  assert.equal(
    decodeError('{"title":5,"year":1997}'),
    "json: cannot unmarshal number into Go struct field film.title of type string",
  );
  assert.equal(
    decodeError("[]"),
    "json: cannot unmarshal array into Go value of type main.film",
  );
  assert.equal(decodeError(""), "unexpected end of JSON input");
});

Deno.test("go_json: a full movie decodes field by field", () => {
  const film = decodeOk(JSON.stringify({
    year: 1997,
    length: 194.5,
    title: "Titanic",
    subject: "Drama",
    actor: "DiCaprio, Leonardo",
    actress: "Winslet, Kate",
    director: "Cameron, James",
    popularity: 80,
    awards: "Yes",
    image: "titanic.png",
  }));
  assert.deepEqual(film, {
    year: 1997,
    length: 194.5,
    title: "Titanic",
    subject: "Drama",
    actor: "DiCaprio, Leonardo",
    actress: "Winslet, Kate",
    director: "Cameron, James",
    popularity: 80,
    awards: "Yes",
    image: "titanic.png",
  });
});

Deno.test("go_json: keys match case-insensitively, with Go's folding", () => {
  const film = decodeOk(
    '{"YEAR":1997,"Title":"x","tItLe":"y","ſubject":"long s","ACTRESS":"a"}',
  );
  assert.equal(film.year, 1997);
  assert.equal(film.title, "y"); // the last duplicate wins
  assert.equal(film.subject, "long s"); // U+017F folds to S
  assert.equal(film.actress, "a");
  // U+212A KELVIN SIGN is not in any field name; U+0131 dotless i folds to
  // nothing ASCII, so "tıtle" is an unknown key.
  assert.equal(decodeOk('{"tıtle":"x"}').title, "");
  // escapes in keys are resolved before matching
  assert.equal(decodeOk('{"y\\u0065ar":2001}').year, 2001);
});

Deno.test("go_json: null and missing keys leave zero values; unknown keys are ignored", () => {
  assert.deepEqual(decodeOk("{}"), zeroFilm());
  assert.deepEqual(decodeOk("null"), zeroFilm());
  assert.deepEqual(
    decodeOk('{"year":null,"title":null,"length":null,"x":{"y":[1,"}"]}}'),
    zeroFilm(),
  );
  // null does not reset a value set earlier (Go leaves the field alone)
  assert.equal(decodeOk('{"year":1997,"year":null}').year, 1997);
  // type errors inside unknown keys do not exist: the value is skipped
  assert.equal(decodeOk('{"other":{"year":"x"},"title":"t"}').title, "t");
});

Deno.test("go_json: an int field takes only int64 literals, a float field any number", () => {
  assert.equal(decodeOk('{"year":-0}').year, 0);
  assert.equal(
    decodeOk('{"year":9223372036854775807}').year,
    9223372036854775807,
  );
  assert.equal(
    decodeError('{"year":1997.0}'),
    "json: cannot unmarshal number 1997.0 into Go struct field film.year of type int",
  );
  assert.equal(
    decodeError('{"year":2E3}'),
    "json: cannot unmarshal number 2E3 into Go struct field film.year of type int",
  );
  assert.equal(decodeOk('{"length":-1.5e2}').length, -150);
  assert.equal(decodeOk('{"popularity":1e-400}').popularity, 0); // underflow is fine
  assert.equal(
    decodeError('{"popularity":1e309}'),
    "json: cannot unmarshal number 1e309 into Go struct field film.popularity of type float64",
  );
});

Deno.test("go_json: strings are unquoted like Go, invalid UTF-8 becomes U+FFFD per byte", () => {
  const title = (inner: number[]) =>
    decodeOk(
      new Uint8Array([
        ...encoder.encode('{"title":"'),
        ...inner,
        ...encoder.encode('"}'),
      ]),
    ).title;
  // E2 82 is a cut-off euro sign: Go's DecodeRune gives up one byte at a
  // time, so two U+FFFD (TextDecoder would give one).
  assert.equal(title([0x61, 0xe2, 0x82, 0x62]), "a\uFFFD\uFFFDb");
  assert.equal(title([0xff]), "\uFFFD");
  assert.equal(title([0xed, 0xa0, 0x80]), "\uFFFD\uFFFD\uFFFD"); // a UTF-8 surrogate
  assert.equal(title([0xc0, 0xaf]), "\uFFFD\uFFFD"); // overlong
  assert.equal(title([0xf4, 0x90, 0x80, 0x80]), "\uFFFD".repeat(4)); // > U+10FFFF
  assert.equal(title([0xc3, 0xa9]), "é");
  assert.equal(title([0xf0, 0x9f, 0x98, 0x80]), "😀");
  assert.equal(title([0xef, 0xbb, 0xbf, 0x61]), "\uFEFFa"); // a BOM is kept
  assert.equal(title([0x5c, 0x6e, 0xff]), "\n\uFFFD"); // escapes and bad bytes
  // escapes, including lone surrogates, which Go turns into U+FFFD
  assert.equal(
    decodeOk('{"title":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"}').title,
    '"\\/\b\f\n\r\té',
  );
  assert.equal(decodeOk('{"title":"\\ud83d\\ude00"}').title, "😀");
  assert.equal(decodeOk('{"title":"\\ud83d"}').title, "\uFFFD");
  assert.equal(decodeOk('{"title":"\\ude00\\ud83d"}').title, "\uFFFD\uFFFD");
  assert.equal(decodeOk('{"title":"\\ud83dA"}').title, "\uFFFDA");
  assert.equal(decodeOk('{"title":"\\ud83d\\u0041"}').title, "\uFFFDA");
  assert.equal(decodeOk('{"title":"\\ufffd"}').title, "\uFFFD");
  assert.equal(decodeOk('{"title":""}').title, "");
});

Deno.test("go_json: decoded strings are always well-formed", () => {
  for (let b = 0x80; b <= 0xff; b++) {
    for (const tail of [[], [0x80], [0xbf, 0xbf], [0x41]]) {
      const film = decodeOk(
        new Uint8Array([
          ...encoder.encode('{"title":"'),
          b,
          ...tail,
          ...encoder.encode('"}'),
        ]),
      );
      assert.ok(film.title.isWellFormed(), `byte ${b.toString(16)}`);
    }
  }
});

Deno.test("go_json: checkValid accepts what Go accepts", () => {
  for (
    const body of [
      "{}",
      "[]",
      '""',
      "0",
      "-0.5e+10",
      "1E-2",
      "true",
      "false",
      "null",
      ' {"a" : [1, 2, {"b": null}] , "c":"\\u00e9"} ',
      "[".repeat(10000) + "]".repeat(10000),
    ]
  ) {
    assert.equal(checkValid(encoder.encode(body)), null, body.slice(0, 20));
  }
});

Deno.test("go_json: quoteChar names bytes like Go", () => {
  assert.equal(quoteChar(0x27), "'\\''");
  assert.equal(quoteChar(0x22), "'\"'");
  assert.equal(quoteChar(0x5c), "'\\\\'");
  assert.equal(quoteChar(0x00), "'\\x00'");
  assert.equal(quoteChar(0x1b), "'\\x1b'");
  assert.equal(quoteChar(0x0d), "'\\r'");
  assert.equal(quoteChar(0x7f), "'\\x7f'");
  assert.equal(quoteChar(0x9f), "'\\u009f'");
  assert.equal(quoteChar(0xa1), "'¡'");
  assert.equal(quoteChar(0xef), "'ï'");
  assert.equal(quoteChar(0x20), "' '");
});

// Speed is measured by bench/sink_go_json_bench.ts, not asserted here.
