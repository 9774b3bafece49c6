import assert from "node:assert/strict";
import { InputError } from "../lib/importer/csv/errors.ts";
import {
  parseStream,
  type ParseStreamOptions,
  type RawRecord,
} from "../lib/importer/csv/parse_stream.ts";
import { seededRandom } from "../lib/shared/random.ts";

/** Parses `text` fed as the given chunks; returns the records and the batch sizes. */
async function parse(
  chunks: string[],
  options: ParseStreamOptions = {},
): Promise<{ records: RawRecord[]; batches: number[] }> {
  const batches = await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(
      parseStream({ delimiter: ";", ...options }),
    ),
  );
  return { records: batches.flat(), batches: batches.map((b) => b.length) };
}

async function records(
  text: string,
  options: ParseStreamOptions = {},
): Promise<RawRecord[]> {
  return (await parse([text], options)).records;
}

/** Splits `text` at the given (sorted, distinct) positions. */
function splitAt(text: string, positions: number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const p of positions) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

// A text with everything the parser must get right, in one place.
const TRICKY = [
  "year;title;note", // 1
  '1999;"Matrix; The";plain', // 2
  '2000;"He said ""hi""";x', // 3
  '2001;"two', // 4: a quoted field over three lines
  "line", // 5
  'field";y', // 6
  "", // 7
  "   ", // 8
  "2002;after;multi\r", // 9 (CRLF)
  '2003;"quoted last"\r', // 10 (CRLF, quoted last field)
  "1941;", // 11
  '"";"";""', // 12
  "\r", // 13 (blank, CRLF)
  '2004;"a""";"""b"', // 14
  "2005;end;no newline", // 15
].join("\n");

const TRICKY_EXPECTED: RawRecord[] = [
  { kind: "row", line: 1, fields: ["year", "title", "note"] },
  { kind: "row", line: 2, fields: ["1999", "Matrix; The", "plain"] },
  { kind: "row", line: 3, fields: ["2000", 'He said "hi"', "x"] },
  { kind: "row", line: 4, fields: ["2001", "two\nline\nfield", "y"] },
  { kind: "blank", line: 7 },
  { kind: "blank", line: 8 },
  { kind: "row", line: 9, fields: ["2002", "after", "multi"] },
  { kind: "row", line: 10, fields: ["2003", "quoted last"] },
  { kind: "row", line: 11, fields: ["1941", ""] },
  { kind: "row", line: 12, fields: ["", "", ""] },
  { kind: "blank", line: 13 },
  { kind: "row", line: 14, fields: ["2004", 'a"', '"b'] },
  { kind: "row", line: 15, fields: ["2005", "end", "no newline"] },
];

Deno.test("parse: RFC 4180 quotes (';' and \"\" inside, newlines inside) with physical line numbers", async () => {
  assert.deepEqual(await records(TRICKY), TRICKY_EXPECTED);
});

Deno.test("parse: line numbers after a multi-line record stay right, also in later chunks", async () => {
  const text = 'a;"1\n2\n3"\n' + "b;x\n".repeat(5000) + 'c;"4\n5"\nd;y\n';
  const { records: got, batches } = await parse(
    splitAt(text, [7, 3000, 11000, 19000]),
  );
  assert.ok(batches.length >= 3, "several batches");
  assert.equal(got.length, 5003);
  assert.deepEqual(got[0], { kind: "row", line: 1, fields: ["a", "1\n2\n3"] });
  assert.equal(got[1].line, 4);
  assert.equal(got[5000].line, 5003);
  assert.deepEqual(got[5001], {
    kind: "row",
    line: 5004,
    fields: ["c", "4\n5"],
  });
  assert.deepEqual(got[5002], { kind: "row", line: 5006, fields: ["d", "y"] });
});

Deno.test("parse: blank lines are their own kind, with their line numbers", async () => {
  const got = await records("\n1;a\n\n \t\n2;b\n\n");
  assert.deepEqual(got.map((r) => `${r.kind}@${r.line}`), [
    "blank@1",
    "row@2",
    "blank@3",
    "blank@4",
    "row@5",
    "blank@6",
  ]);
});

Deno.test("parse: CRLF, LF and a mix give the same fields, without '\\r'", async () => {
  const lf = '1;a;"q"\n2;b;c\n\n3;"x\ny";z\n';
  const crlf = lf.replaceAll("\n", "\r\n");
  const expected = await records(lf);
  assert.equal(expected.length, 4);
  assert.deepEqual(
    (await records(crlf)).map((r) =>
      r.kind === "blank"
        ? r
        : { ...r, fields: r.fields.map((f) => f.replace("\r\n", "\n")) }
    ),
    expected,
  );
  const mixed = '1;a;"q"\r\n2;b;c\n\r\n3;"x\ny";z\r\n';
  assert.deepEqual(await records(mixed), expected);
});

Deno.test("parse: the same records whatever the chunk boundaries (every split point)", async () => {
  for (let p = 0; p <= TRICKY.length; p++) {
    const got = await parse(splitAt(TRICKY, [p]));
    assert.deepEqual(got.records, TRICKY_EXPECTED, `split at ${p}`);
  }
});

Deno.test("parse: the same records whatever the chunk boundaries (random splits, 1-char chunks)", async () => {
  const text = (TRICKY + "\n").repeat(20);
  const expected = await records(text);
  assert.equal(expected.length, 20 * TRICKY_EXPECTED.length);
  assert.equal(expected.at(-1)!.line, 20 * 15);
  const random = seededRandom(7);
  for (let round = 0; round < 30; round++) {
    const cuts = new Set<number>();
    const n = 1 + Math.floor(random() * 60);
    while (cuts.size < n) cuts.add(Math.floor(random() * text.length));
    const chunks = splitAt(text, [...cuts].sort((a, b) => a - b));
    assert.deepEqual((await parse(chunks)).records, expected, `round ${round}`);
  }
  assert.deepEqual(
    (await parse([...text])).records,
    expected,
    "one character at a time",
  );
});

Deno.test("parse: one batch per chunk that completes records, none for the others", async () => {
  const { batches } = await parse(["1;a\n2;", "b\n3", ";c", "\n", ""]);
  assert.deepEqual(batches, [1, 1, 1]);
});

Deno.test("parse: a quote inside an unquoted field is a plain character", async () => {
  assert.deepEqual(await records('1;12" vinyl;x\n'), [
    { kind: "row", line: 1, fields: ["1", '12" vinyl', "x"] },
  ]);
});

Deno.test("parse: a malformed quote is a 'malformed' record with a reason, lines after it stay right", async () => {
  const got = await records('0;ok\n1;"ab"c;d\n2;"x";y\n3;z\n');
  assert.equal(got.length, 3);
  assert.deepEqual(got[0], { kind: "row", line: 1, fields: ["0", "ok"] });
  const bad = got[1];
  assert.equal(bad.kind, "malformed");
  assert.equal(bad.line, 2);
  assert.ok(
    bad.kind === "malformed" && /malformed quotes/.test(bad.reason) &&
      /line 3/.test(bad.reason),
    JSON.stringify(bad),
  );
  assert.deepEqual(got[2], { kind: "row", line: 4, fields: ["3", "z"] });
});

Deno.test("parse: an unterminated quote at the end is an InputError naming the line it starts on", async () => {
  await assert.rejects(
    () => records('year;title\n1;ok\n2;"never closed\n3;x\n4;y\n'),
    (e) =>
      e instanceof InputError &&
      /^CSV_IN: line 3: unterminated quoted field/.test(e.message) &&
      !e.message.includes("\n"),
  );
});

Deno.test("parse: a stray text after a closing quote, with no later quote, is an unterminated field at its line", async () => {
  await assert.rejects(
    () => records('year;title\n1984;"Target Eagle" (1984);x\n1985;y;z\n'),
    (e) =>
      e instanceof InputError &&
      /^CSV_IN: line 2: unterminated quoted field \(a quote is followed by other text/
        .test(e.message),
  );
});

Deno.test("parse: a record over maxRecordChars fails early, naming its first line, without reading on", async () => {
  let pulled = 0;
  const source = new ReadableStream<string>({
    pull(controller) {
      pulled++;
      controller.enqueue(
        pulled === 1 ? 'a;b\nc;d\n1;"open\n' : "filler line\n".repeat(10),
      );
      if (pulled === 1000) controller.close();
    },
  }, { highWaterMark: 0 });
  const reading = Array.fromAsync(
    source.pipeThrough(parseStream({ maxRecordChars: 500 })),
  );
  await assert.rejects(
    reading,
    (e) =>
      e instanceof InputError &&
      /^CSV_IN: line 3: record longer than 500 characters/.test(e.message),
  );
  assert.ok(pulled < 10, `stopped after ${pulled} chunks`);
});

Deno.test("parse: ',' delimiter and a firstLine offset", async () => {
  const got = await records('"a,1",b\n\n"c",d\n', {
    delimiter: ",",
    firstLine: 10,
  });
  assert.deepEqual(got, [
    { kind: "row", line: 10, fields: ["a,1", "b"] },
    { kind: "blank", line: 11 },
    { kind: "row", line: 12, fields: ["c", "d"] },
  ]);
});

Deno.test("parse: empty input gives no batches", async () => {
  assert.deepEqual(await parse([]), { records: [], batches: [] });
  assert.deepEqual(await parse(["", ""]), { records: [], batches: [] });
});
