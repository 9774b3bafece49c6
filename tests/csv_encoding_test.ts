import assert from "node:assert/strict";
import {
  type ByteReader,
  chooseEncoding,
  type DecodeOptions,
  decodeStream,
  firstInvalidUtf8,
  hasUtf8Bom,
  incompleteUtf8Tail,
  lineAtOffset,
  scanUtf8,
  sniffBytes,
  utf8Facts,
} from "../lib/importer/csv/encoding.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc(p)] : p));

/** A reader over `data` giving at most `step` bytes per read. */
function reader(data: Uint8Array, step = Infinity): ByteReader {
  let at = 0;
  return {
    read(p) {
      if (at >= data.length) return Promise.resolve(null);
      const n = Math.min(p.length, step, data.length - at);
      p.set(data.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

/** Feeds `data` in pieces of `size` bytes through decodeStream. */
async function decode(
  data: Uint8Array,
  size: number,
  options: DecodeOptions = {},
): Promise<string> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) {
    chunks.push(data.subarray(i, i + size));
  }
  const parts = await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(decodeStream(options)),
  );
  return parts.join("");
}

// "Loma, José; 😀 €\n" in UTF-8: 1-, 2-, 3- and 4-byte characters.
const MIXED = "year;title\nLoma, José;😀 €\n";

Deno.test("encoding: BOM and incomplete tails", () => {
  assert.ok(hasUtf8Bom(bytes([0xef, 0xbb, 0xbf])));
  assert.ok(!hasUtf8Bom(bytes([0xef, 0xbb])));
  assert.ok(!hasUtf8Bom(bytes("year")));
  assert.equal(incompleteUtf8Tail(bytes("ab")), 0);
  assert.equal(incompleteUtf8Tail(bytes("a", [0xf0, 0x9f, 0x98])), 3);
  assert.equal(incompleteUtf8Tail(bytes("a", [0xf0, 0x9f, 0x98, 0x80])), 0);
  assert.equal(incompleteUtf8Tail(bytes("a", [0xe2, 0x82])), 2);
  assert.equal(incompleteUtf8Tail(bytes("a", [0xc3])), 1);
  assert.equal(incompleteUtf8Tail(bytes([])), 0);
});

Deno.test("encoding: firstInvalidUtf8 agrees with a fatal TextDecoder", () => {
  const cases: [number[], number][] = [
    [[0x61, 0xc3, 0xa9], -1],
    [[0x61, 0xe9, 0x62], 1], // Windows-1252 é
    [[0xc0, 0x80], 0], // overlong
    [[0xe0, 0x80, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0x62, 0xe2, 0x82], 2], // cut off at the end
    [[0x80], 0], // lone continuation byte
    [[0xf0, 0x9f, 0x98, 0x80, 0xff], 4],
  ];
  for (const [b, at] of cases) {
    assert.equal(firstInvalidUtf8(new Uint8Array(b)), at, b.join(" "));
    let valid = true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(b));
    } catch {
      valid = false;
    }
    assert.equal(valid, at === -1, `TextDecoder on ${b.join(" ")}`);
  }
});

Deno.test("encoding: scanUtf8 finds the same answer whatever the buffer and read sizes", async () => {
  const valid = bytes(MIXED.repeat(50));
  const invalidAt = valid.length - 5;
  const invalid = valid.slice();
  invalid[invalidAt] = 0xe9;
  const bom = bytes([0xef, 0xbb, 0xbf], MIXED);
  for (const bufferSize of [4, 5, 7, 64, 1 << 20]) {
    for (const step of [1, 3, Infinity]) {
      const label = `buffer ${bufferSize}, reads of ${step}`;
      assert.deepEqual(
        await scanUtf8(reader(valid, step), { bufferSize }),
        { bom: false, invalidAt: -1, invalidLine: 0, complete: true },
        label,
      );
      assert.equal(
        (await scanUtf8(reader(invalid, step), { bufferSize })).invalidAt,
        invalidAt,
        label,
      );
      assert.equal(
        (await scanUtf8(reader(bom, step), { bufferSize })).bom,
        true,
        label,
      );
    }
  }
  // Cut off in the middle of a character at the very end.
  const cut = bytes("ab", [0xf0, 0x9f]);
  assert.equal((await scanUtf8(reader(cut), { bufferSize: 4 })).invalidAt, 2);
  assert.deepEqual(await scanUtf8(reader(new Uint8Array(0))), {
    bom: false,
    invalidAt: -1,
    invalidLine: 0,
    complete: true,
  });
});

Deno.test("encoding: lineAtOffset counts the newlines before an offset", async () => {
  const data = bytes("a\nbb\n\nccc\n");
  assert.equal(await lineAtOffset(reader(data, 2), 0), 1);
  assert.equal(await lineAtOffset(reader(data, 2), 1), 1);
  assert.equal(await lineAtOffset(reader(data, 2), 2), 2);
  assert.equal(await lineAtOffset(reader(data, 2), 6), 4);
});

Deno.test("encoding: utf8Facts of a whole input and of a sniffed prefix", () => {
  const w1252 = bytes("year\n1984;Jos", [0xe9], "\n");
  assert.deepEqual(utf8Facts(w1252, true), {
    bom: false,
    invalidAt: 13,
    invalidLine: 2,
    complete: true,
  });
  // A prefix may end in the middle of a character; the whole input may not.
  const prefix = bytes("Jos", [0xc3]);
  assert.equal(utf8Facts(prefix, false).invalidAt, -1);
  assert.equal(utf8Facts(prefix, true).invalidAt, 3);
});

Deno.test("encoding: the detection rule", () => {
  const valid = { bom: false, invalidAt: -1, invalidLine: 0, complete: true };
  const invalid = { bom: false, invalidAt: 9, invalidLine: 2, complete: true };
  assert.deepEqual(chooseEncoding("auto", valid, "f.csv"), {
    encoding: "utf-8",
    bom: false,
    watch: false,
  });
  assert.deepEqual(
    chooseEncoding("auto", { ...valid, complete: false }, "f.csv"),
    {
      encoding: "utf-8",
      bom: false,
      watch: true,
    },
  );
  const fallback = chooseEncoding("auto", invalid, "f.csv");
  assert.equal(fallback.encoding, "windows-1252");
  assert.equal(
    fallback.warning,
    "CSV_IN: f.csv is not valid UTF-8 (first invalid byte on line 2, byte offset 9): reading it as Windows-1252",
  );
  const withBom = chooseEncoding("auto", { ...invalid, bom: true }, "f.csv");
  assert.equal(withBom.encoding, "utf-8");
  assert.match(withBom.warning!, /byte order mark/);
  assert.deepEqual(chooseEncoding("utf-8", invalid, "f.csv"), {
    encoding: "utf-8",
    bom: false,
    watch: true,
  });
  assert.deepEqual(chooseEncoding("windows-1252", valid, "f.csv"), {
    encoding: "windows-1252",
    bom: false,
    watch: false,
  });
});

Deno.test("encoding: decodeStream handles characters split across any chunk size", async () => {
  const data = bytes(MIXED);
  for (let size = 1; size <= 8; size++) {
    assert.equal(await decode(data, size), MIXED, `chunks of ${size}`);
    assert.equal(
      await decode(data, size, { onInvalid: () => assert.fail("valid") }),
      MIXED,
    );
  }
});

Deno.test("encoding: decodeStream strips a BOM, even one split over chunks", async () => {
  const data = bytes([0xef, 0xbb, 0xbf], MIXED);
  for (const size of [1, 2, 4, 100]) {
    assert.equal(
      await decode(data, size, { stripBom: true }),
      MIXED,
      `chunks of ${size}`,
    );
  }
  // Not asked to strip: U+FEFF stays (the caller decides from the bytes).
  assert.equal(await decode(data, 100), "\ufeff" + MIXED);
});

Deno.test("encoding: Windows-1252 bytes decode to the right characters", async () => {
  const data = bytes("Jos", [0xe9], ";", [0x80], ";", [0x93, 0x61, 0x94], "\n");
  assert.equal(
    await decode(data, 3, { encoding: "windows-1252" }),
    "José;€;“a”\n",
  );
});

Deno.test("encoding: invalid UTF-8 while watching: one call with the offset, U+FFFD, the rest intact", async () => {
  // 😀 is split over chunks just before the invalid byte, to check nothing pending is lost.
  const data = bytes("ab😀", [0xe9], "cd😀", [0xff], "é\n");
  for (let size = 1; size <= 9; size++) {
    const offsets: number[] = [];
    const text = await decode(data, size, {
      onInvalid: (o) => offsets.push(o),
    });
    assert.equal(text, "ab😀\ufffdcd😀\ufffdé\n", `chunks of ${size}`);
    assert.deepEqual(offsets, [6], `chunks of ${size}`);
  }
  // A character cut off at the end of the input.
  const offsets: number[] = [];
  assert.equal(
    await decode(bytes("ab", [0xe2, 0x82]), 1, {
      onInvalid: (o) => offsets.push(o),
    }),
    "ab\ufffd",
  );
  assert.deepEqual(offsets, [2]);
  // Offsets count the stripped BOM.
  const withBom: number[] = [];
  await decode(bytes([0xef, 0xbb, 0xbf], "x", [0xe9]), 2, {
    stripBom: true,
    onInvalid: (o) => withBom.push(o),
  });
  assert.deepEqual(withBom, [4]);
});

Deno.test("encoding: sniffBytes gives the first bytes and then the whole stream, lazily", async () => {
  let pulled = 0;
  const chunk = bytes("0123456789");
  const input = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(chunk);
      if (pulled === 100) c.close();
    },
  }, { highWaterMark: 0 });
  const { head, eof, stream } = await sniffBytes(input, 25);
  assert.equal(head.length, 30);
  assert.equal(eof, false);
  assert.equal(pulled, 3);
  const all = await new Response(stream).bytes();
  assert.equal(all.length, 1000);
  assert.equal(
    new TextDecoder().decode(all.subarray(0, 20)),
    "01234567890123456789",
  );

  const short = await sniffBytes(
    ReadableStream.from([bytes("ab"), bytes("c")]),
    25,
  );
  assert.equal(short.eof, true);
  assert.equal(new TextDecoder().decode(short.head), "abc");
  assert.equal(await new Response(short.stream).text(), "abc");
});
