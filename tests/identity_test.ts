import assert from "node:assert/strict";
import {
  bodyDigest,
  DIGEST,
  idempotencyKey,
  keyText,
  parseKeyLine,
  type RowKey,
  RowKeys,
  urlTag,
} from "../lib/importer/identity.ts";
import { seededRandom } from "../lib/shared/random.ts";

const encoder = new TextEncoder();

/** parseKeyLine on a whole string; the key, or null when it is refused. */
function parse(text: string): RowKey | null {
  const bytes = encoder.encode(text);
  const out: RowKey = { d0: 0, d1: 0, d2: 0, k: 0 };
  return parseKeyLine(bytes, 0, bytes.length, out) ? out : null;
}

/** `n` distinct random digests (seeded), some sharing their first word. */
function randomDigests(n: number, seed: number): RowKey[] {
  const random = seededRandom(seed);
  const word = () => Math.floor(random() * 0x1_0000_0000);
  const seen = new Set<string>();
  const out: RowKey[] = [];
  while (out.length < n) {
    // Every 50th digest shares d0 with the one before it (same home slot),
    // and a few sit at the very top of the table (the probe wraps around).
    const prev = out[out.length - 1];
    const d0 = out.length % 1000 === 7
      ? 0xffffffff
      : out.length % 50 === 1 && prev
      ? prev.d0
      : word();
    const key = { d0, d1: word(), d2: word(), k: 0 };
    const name = keyText(key);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(key);
  }
  return out;
}

/**
 * XXH3-128 of test bodies (UTF-8), from the C library (libxxhash 0.8.1,
 * XXH3_128bits, canonical big-endian): one per code path of XXH3 (lengths
 * 0, 1-3, 4-8, 9-16, 17-128, 129-240, over 240) and a body longer than the
 * 4 KiB scratch buffer, with 2-, 3- and 4-byte characters.
 */
const XXH128_VECTORS: Array<[string, string]> = [
  ["", "99aa06d3014798d86001c324468d497f"],
  ["a", "a96faf705af16834e6c632b61e964e1f"],
  ["abc", "06b05ab6733a618578af5f94892f3950"],
  ["12345678", "155c340ccffd12dc2b3f7d2855dc91fc"],
  ['{"title":"Ran"}x', "d0903411e1a642ac5e0c1b3bc68f4b32"],
  ["x".repeat(100), "add9998d55ed3962e18dc405a95cc094"],
  ["y".repeat(200), "833cf59a501ae2a8661514be62296c9c"],
  ['{"title":"' + "z".repeat(985) + '"}', "37a895fff00d6a21ce9532a8839563aa"],
  ['{"title":"Amélie € 😀"}', "d11b0e09c73f29045a51e8de18e047eb"],
  ["é€😀".repeat(3000), "72742d98c0093a5d309d2a3bed1a5ff3"],
];

Deno.test("bodyDigest: the first 96 bits of XXH3-128 of the UTF-8 body, the same on every call", () => {
  // Twice, largest first the second time: the scratch buffer, grown for a
  // long body, must not leak its bytes into a shorter one.
  for (const order of [XXH128_VECTORS, [...XXH128_VECTORS].reverse()]) {
    for (const [body, hex] of order) {
      const expected = {
        d0: parseInt(hex.slice(0, 8), 16),
        d1: parseInt(hex.slice(8, 16), 16),
        d2: parseInt(hex.slice(16, 24), 16),
        k: 0,
      };
      assert.deepEqual(bodyDigest(body), expected, `${body.length} characters`);
      assert.equal(keyText(bodyDigest(body)), `${hex.slice(0, 24)} 0`);
    }
  }
  const body = '{"year":1997,"title":"Titanic","awards":"Yes"}';
  assert.deepEqual(bodyDigest(body), bodyDigest(String(body)));
  for (const w of Object.values(bodyDigest(body))) {
    assert.ok(Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
  }
  assert.equal(DIGEST, "xxh128/96");
});

Deno.test("bodyDigest: any change to the body changes the digest", () => {
  const base = '{"year":1997,"title":"Titanic","awards":"Yes"}';
  const variants = [
    '{"year":1998,"title":"Titanic","awards":"Yes"}',
    '{"year":1997,"title":"titanic","awards":"Yes"}',
    '{"year":1997,"title":"Titanic ","awards":"Yes"}',
    '{"year":1997, "title":"Titanic","awards":"Yes"}',
    '{"title":"Titanic","year":1997,"awards":"Yes"}',
    '{"year":1997,"title":"Titanic","awards":"Yes"}\n',
    '{"year":1997,"title":"Tïtanic","awards":"Yes"}',
    '{"year":1997,"title":"Ti\u0308tanic","awards":"Yes"}',
  ];
  const names = new Set([base, ...variants].map((b) => keyText(bodyDigest(b))));
  assert.equal(names.size, variants.length + 1);
});

Deno.test("keyText and parseKeyLine: round trip for any words and occurrences", () => {
  const random = seededRandom(11);
  const word = () => Math.floor(random() * 0x1_0000_0000);
  const keys: RowKey[] = [
    { d0: 0, d1: 0, d2: 0, k: 0 },
    { d0: 0xffffffff, d1: 0xffffffff, d2: 0xffffffff, k: 999_999_999 },
    { d0: 0x80000000, d1: 1, d2: 0x7fffffff, k: 7 },
  ];
  for (let i = 0; i < 2000; i++) {
    keys.push({
      d0: word(),
      d1: word(),
      d2: word(),
      k: Math.floor(random() ** 4 * 1e6),
    });
  }
  for (const key of keys) {
    const text = keyText(key);
    assert.match(text, /^[0-9a-f]{24} (0|[1-9][0-9]*)$/);
    assert.deepEqual(parse(text), key, text);
  }
});

Deno.test("parseKeyLine reads a line inside a larger buffer, by its bounds", () => {
  const a = { d0: 1, d1: 2, d2: 3, k: 4 }, b = { d0: 5, d1: 6, d2: 7, k: 80 };
  const bytes = encoder.encode(`${keyText(a)}\n${keyText(b)}\n`);
  const out: RowKey = { d0: 0, d1: 0, d2: 0, k: 0 };
  const first = keyText(a).length;
  assert.ok(parseKeyLine(bytes, 0, first, out));
  assert.deepEqual(out, a);
  assert.ok(parseKeyLine(bytes, first + 1, bytes.length - 1, out));
  assert.deepEqual(out, b);
  // The bounds matter: the whole buffer is not one line.
  assert.ok(!parseKeyLine(bytes, 0, bytes.length - 1, out));
});

Deno.test("parseKeyLine refuses anything that is not exactly a key line", () => {
  const hex = "00000001abcdef01ffffffff";
  const other = "0123456789abcdef01234567";
  const bad = [
    "",
    hex, // no occurrence
    `${hex} `, // a space but no occurrence
    `${hex.slice(0, 23)} 1`, // 23 hex digits
    `${hex}0 1`, // 25 hex digits
    `${hex}1`, // no space
    `${hex}  1`, // two spaces
    ` ${hex} 1`,
    `${hex} 1 `, // a trailing space
    `${hex} 1\r`, // a CRLF line
    `${hex} -1`,
    `${hex} +1`,
    `${hex} 1a`,
    `${hex} 1.5`,
    `${hex} 1234567890`, // 10 digits: longer than any line written
    `${hex.slice(0, 20)}ABCD 1`, // upper case: never written
    `${hex.slice(0, 20)}0x12 1`,
    `${hex.slice(0, 20)}wxyz 1`,
    `${hex.slice(0, 12)} ${hex.slice(13)} 1`,
    "# run {}",
    // Torn lines spliced with the next one:
    `${hex} 1${other} 4`, // a whole line without its newline, then the next
    `${hex.slice(0, 4)}${other} 4`, // torn inside the digest
    `${hex} ${other} 4`, // torn right after the space
    `${hex.slice(0, 10)}${other.slice(0, 14)} 4`, // 24 hex digits, but two halves: cannot be told
  ];
  for (const text of bad.slice(0, -1)) {
    assert.equal(parse(text), null, JSON.stringify(text));
  }
  // A splice that happens to be 24 hex digits, a space and digits is a
  // well-formed line: parseKeyLine cannot tell it, which is why the ledger
  // cuts a torn tail before appending (see ledger_test.ts).
  assert.notEqual(parse(bad[bad.length - 1]), null);
  assert.deepEqual(parse(`${hex} 1` + "4"), { ...parse(`${hex} 14`)! });
});

Deno.test("idempotencyKey and urlTag: stable per URL, distinct per row", () => {
  const tag = urlTag("http://localhost:9009/movies");
  assert.equal(tag, urlTag("http://localhost:9009/movies"));
  assert.notEqual(tag, urlTag("http://localhost:9009/movie"));
  const key = { ...bodyDigest('{"title":"Heat"}'), k: 2 };
  assert.equal(
    idempotencyKey(tag, key),
    `${tag}-${keyText(key).replace(" ", "-")}`,
  );
  assert.notEqual(
    idempotencyKey(tag, key),
    idempotencyKey(tag, { ...key, k: 3 }),
  );
});

Deno.test("RowKeys: occurrences are counted per body", () => {
  const keys = new RowKeys();
  const [a, b, c] = ["a", "b", "c"].map((t) => bodyDigest(`{"title":"${t}"}`));
  const order = [a, b, a, a, b, c, a];
  assert.deepEqual(order.map((d, i) => keys.occur(d, i + 2)), [
    0,
    0,
    1,
    2,
    1,
    0,
    3,
  ]);
  assert.equal(keys.size, 3);
  assert.equal(keys.delivered, 0);
});

Deno.test("RowKeys: markDelivered and lastDelivered for occurrences 0..6 and beyond (overflow)", () => {
  const keys = new RowKeys();
  const d = bodyDigest('{"title":"Heat"}');
  const e = bodyDigest('{"title":"Ran"}');
  const marked = new Set([0, 2, 3, 6, 7, 9, 300]);
  for (const k of marked) keys.markDelivered({ ...d, k });
  keys.markDelivered({ ...d, k: 7 }); // twice: counted once
  keys.markDelivered({ ...d, k: 0 });
  keys.markDelivered({ ...e, k: 8 }); // another body's overflow key
  assert.equal(keys.delivered, marked.size + 1);
  for (let k = 0; k < 400; k++) {
    assert.equal(keys.occur(d, k + 1), k);
    assert.equal(keys.lastDelivered(k), marked.has(k), `occurrence ${k}`);
  }
  // The other body's own marks, not d's:
  for (let k = 0; k < 12; k++) {
    assert.equal(keys.occur(e, 1000 + k), k);
    assert.equal(keys.lastDelivered(k), k === 8, `e occurrence ${k}`);
  }
});

Deno.test("RowKeys: the seen count goes past 255 per body, and bodies do not mix", () => {
  const keys = new RowKeys();
  const a = bodyDigest("a"), b = bodyDigest("b");
  for (let i = 0; i < 700; i++) {
    assert.equal(keys.occur(a, i), i);
    if (i % 3 === 0) assert.equal(keys.occur(b, i), i / 3);
  }
  assert.equal(keys.occur(b, 0), 234);
  assert.equal(keys.occur(a, 0), 700);
  assert.equal(keys.size, 2);
});

Deno.test("RowKeys: 200,000 random digests survive growth with their counts, marks and first lines", () => {
  const digests = randomDigests(200_000, 7);
  const keys = new RowKeys({ firstLines: true });
  const copies = (i: number) => 1 + (i % 3);
  let line = 1;
  for (let round = 0; round < 3; round++) {
    digests.forEach((d, i) => {
      if (round >= copies(i)) return;
      if (round === 0 && i % 5 === 0) keys.markDelivered({ ...d, k: i % 10 });
      assert.equal(keys.occur(d, line++), round);
    });
  }
  assert.equal(keys.size, digests.length);
  assert.equal(keys.delivered, digests.length / 5);
  // First lines: the first round numbered the digests 1..n.
  digests.forEach((d, i) => {
    const k = keys.occur(d, 0);
    assert.equal(k, copies(i), `digest ${i}`);
    assert.equal(keys.lastFirstLine(), i + 1, `digest ${i}`);
    assert.equal(keys.lastDelivered(i % 10), i % 5 === 0, `digest ${i}`);
  });
  // A digest never inserted is new.
  assert.equal(keys.occur({ d0: 1, d1: 2, d2: 3, k: 0 }, 9), 0);
});

Deno.test("RowKeys: firstLines off remembers no line", () => {
  const keys = new RowKeys();
  const d = bodyDigest("x");
  keys.occur(d, 12);
  keys.occur(d, 40);
  assert.equal(keys.lastFirstLine(), 0);
  const withLines = new RowKeys({ firstLines: true });
  withLines.occur(d, 12);
  withLines.occur(bodyDigest("y"), 13);
  withLines.occur(d, 40);
  assert.equal(withLines.lastFirstLine(), 12);
});

Deno.test("RowKeys: at most 16 bytes a digest when presized for the ledger (capacity = n / 0.875)", () => {
  const n = 175_000; // n / 0.875 = 200,000 slots exactly
  const digests = randomDigests(n, 3);
  const keys = new RowKeys({ capacity: n / 0.875 });
  for (const d of digests) keys.markDelivered(d);
  assert.equal(keys.size, n);
  assert.ok(keys.byteLength / n <= 16, `${keys.byteLength / n} bytes a digest`);
});

Deno.test("RowKeys: looking up digests already held never grows the table (a rerun of the same file)", () => {
  // The ledger presizes the table for the keys it holds; a rerun of the same
  // input then only looks those bodies up. BUG: #find checks the load before
  // probing, so the first lookup in a full table grows it by 25 %.
  const n = 175_000;
  const digests = randomDigests(n, 5);
  const keys = new RowKeys({ capacity: n / 0.875 });
  for (const d of digests) keys.markDelivered(d);
  const before = keys.byteLength;
  for (const [i, d] of digests.entries()) assert.equal(keys.occur(d, i + 2), 0);
  assert.equal(keys.size, n);
  assert.equal(keys.byteLength, before, "the table grew on lookups alone");
  assert.ok(keys.byteLength / n <= 16, `${keys.byteLength / n} bytes a digest`);
});

Deno.test("RowKeys: at most 20 bytes a digest while growing (up to two slots of rounding)", () => {
  // Growth is by 1.25 from 87.5 % full: 14 bytes / (0.875 / 1.25) = 20 bytes
  // a digest right after a grow, plus the rounding of ceil(capacity * 1.25) + 1.
  const digests = randomDigests(200_000, 9);
  const keys = new RowKeys();
  let worst = 0;
  for (const [i, d] of digests.entries()) {
    keys.occur(d, i);
    if (keys.size < 1024) continue;
    const over = keys.byteLength - 20 * keys.size;
    worst = Math.max(worst, over);
  }
  assert.equal(keys.size, digests.length);
  assert.ok(worst <= 2 * 14, `${worst} bytes over 20 a digest`);
  assert.ok(keys.byteLength / keys.size <= 20);
});
