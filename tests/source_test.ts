import assert from "node:assert/strict";
import { COLUMNS } from "../lib/importer/movie.ts";
import {
  InputError,
  openSource,
  openSourceStream,
  type Source,
  type SourceItem,
  type SourceOptions,
} from "../lib/importer/source.ts";
import { BACKUP, backupCsv } from "./_shared_data.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc(p)] : p));

const HEADER =
  "year;length;title;subject;actor;actress;director;popularity;awards;image";
const ROW =
  "2010;109;The Sorcerer's Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;a.png";

async function items(source: Source): Promise<SourceItem[]> {
  return (await Array.fromAsync(source.items)).flat();
}

/** Opens, reads everything, closes; collects messages. */
async function read(
  input: string | Uint8Array | ReadableStream<Uint8Array> | { path: string },
  options: SourceOptions = {},
) {
  const warnings: string[] = [], info: string[] = [];
  const opts = {
    ...options,
    onWarning: (m: string) => warnings.push(m),
    onInfo: (m: string) => info.push(m),
  };
  const source = typeof input === "object" && "path" in input
    ? await openSource(input.path, opts)
    : await openSourceStream(input, opts);
  const all = await items(source);
  await source.close();
  return { source, items: all, warnings, info };
}

/** Writes `data` to a new temporary file; removed by `cleanup`. */
async function tempFile(
  data: string | Uint8Array,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await Deno.makeTempFile({
    prefix: "source_test_",
    suffix: ".csv",
  });
  await Deno.writeFile(path, typeof data === "string" ? enc(data) : data);
  return { path, cleanup: () => Deno.remove(path) };
}

async function withFile<T>(
  data: string | Uint8Array,
  f: (path: string) => Promise<T>,
): Promise<T> {
  const { path, cleanup } = await tempFile(data);
  try {
    return await f(path);
  } finally {
    await cleanup();
  }
}

/** A stream giving `data` in pieces of `size` bytes. */
function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) {
    chunks.push(data.slice(i, i + size));
  }
  return ReadableStream.from(chunks);
}

const summary = (list: SourceItem[]) => list.map((i) => `${i.kind}@${i.line}`);

// ---------------------------------------------------------------- file errors

Deno.test("source: file not found is an InputError", async () => {
  const path = "no/such/dir/movies.csv";
  await assert.rejects(
    () => openSource(path),
    (e) =>
      e instanceof InputError &&
      e.message === `CSV_IN: file not found: ${path}`,
  );
});

Deno.test("source: a directory is not a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => openSource(dir),
      (e) =>
        e instanceof InputError && e.message === `CSV_IN: not a file: ${dir}`,
    );
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("source: an empty file, a BOM alone, blank lines only: InputError", async () => {
  for (
    const [data, message] of [
      [new Uint8Array(0), "CSV_IN: empty file: PATH"],
      [bytes([0xef, 0xbb, 0xbf]), "CSV_IN: empty file: PATH"],
      ["\n \r\n\n", "CSV_IN: empty file: PATH (only blank lines)"],
    ] as const
  ) {
    await withFile(data, async (path) => {
      await assert.rejects(
        () => openSource(path),
        (e) =>
          e instanceof InputError &&
          e.message === message.replace("PATH", path),
      );
    });
  }
});

Deno.test("source: a Deno permission error is rethrown untouched, not an InputError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      script,
      `import { InputError, openSource } from ${
        JSON.stringify(
          new URL("../lib/importer/source.ts", import.meta.url).href,
        )
      };
try { await openSource(Deno.args[0]); console.log("opened"); }
catch (e) { console.log(e instanceof InputError ? "InputError" : e.constructor.name); }`,
    );
    const outside = new URL("../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        // No deno.json, but the project's lock and the cache this test run
        // already holds: without the lock, deno would ask the npm registry.
        "--no-config",
        `--lock=${import.meta.dirname}/../deno.lock`,
        "--frozen",
        "--cached-only",
        `--allow-read=${dir}`,
        script,
        outside,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    assert.equal(stdout, "NotCapable", new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------- encodings

Deno.test("source: UTF-8 file, fields untrimmed and exact", async () => {
  const text =
    `${HEADER}\n1984;101;Loma, José Ñ 😀;Action;A;B;C;14;No;x.png  \n`;
  await withFile(text, async (path) => {
    const r = await read({ path });
    assert.deepEqual(r.source.dialect, {
      delimiter: ";",
      newline: "\n",
      encoding: "utf-8",
      bom: false,
    });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.items[1], {
      kind: "row",
      line: 2,
      fields: [
        "1984",
        "101",
        "Loma, José Ñ 😀",
        "Action",
        "A",
        "B",
        "C",
        "14",
        "No",
        "x.png  ",
      ],
    });
  });
});

Deno.test("source: UTF-8 with a BOM: BOM removed, header still recognised", async () => {
  await withFile(
    bytes([0xef, 0xbb, 0xbf], `${HEADER}\n${ROW}\n`),
    async (path) => {
      const r = await read({ path });
      assert.equal(r.source.dialect.bom, true);
      assert.equal(r.source.dialect.encoding, "utf-8");
      assert.equal(r.source.layout.header?.[0], "year");
      assert.deepEqual(summary(r.items), ["header@1", "row@2"]);
      assert.deepEqual(r.warnings, []);
    },
  );
});

// The old Windows copy: capitalised names, *Image, a row of type names, CRLF, Windows-1252.
const OLD_EXPORT = bytes(
  "Year;Length;Title;Subject;Actor;Actress;Director;Popularity;Awards;*Image\r\n",
  "INT;INT;STRING;CAT;CAT;CAT;CAT;INT;BOOL;STRING\r\n",
  "1984;101;Target Eagle;Action;Connors, Chuck;Adams, Maud;Loma, Jos",
  [0xe9],
  " Antonio de la;14;No;NicholasCage.png\r\n",
  "\r\n",
  "1990;95;Caf",
  [0xe9],
  " ",
  [0x80],
  ";Comedy;A;B;C;;Yes;\r\n",
);

Deno.test("source: Windows-1252 file with capitalised header and type row", async () => {
  await withFile(OLD_EXPORT, async (path) => {
    const r = await read({ path });
    assert.deepEqual(r.source.dialect, {
      delimiter: ";",
      newline: "\r\n",
      encoding: "windows-1252",
      bom: false,
    });
    assert.equal(r.warnings.length, 1);
    assert.equal(
      r.warnings[0],
      `CSV_IN: ${path} is not valid UTF-8 (first invalid byte on line 3, byte offset ${
        OLD_EXPORT.indexOf(0xe9)
      }): reading it as Windows-1252`,
    );
    assert.deepEqual(summary(r.items), [
      "header@1",
      "type_row@2",
      "row@3",
      "blank@4",
      "row@5",
    ]);
    const [, , first, , second] = r.items;
    assert.ok(first.kind === "row" && second.kind === "row");
    assert.equal(first.fields[6], "Loma, José Antonio de la");
    assert.equal(second.fields[2], "Café €");
    assert.equal(second.fields.length, 10);
    assert.equal(r.source.layout.index.image, 9);
    assert.equal(r.source.layout.header?.[9], "*Image");
  });
});

Deno.test("source: forced encodings are obeyed", async () => {
  await withFile(OLD_EXPORT, async (path) => {
    const r = await read({ path }, { encoding: "utf-8" });
    assert.equal(r.source.dialect.encoding, "utf-8");
    const row = r.items[2];
    assert.ok(row.kind === "row");
    assert.equal(row.fields[6], "Loma, Jos\ufffd Antonio de la");
    assert.equal(r.warnings.length, 1, "one warning for the invalid bytes");
    assert.equal(
      r.warnings[0],
      `CSV_IN: ${path}: invalid UTF-8 at byte offset ${
        OLD_EXPORT.indexOf(0xe9)
      }: invalid bytes are read as U+FFFD`,
    );
  });
  await withFile(
    `${HEADER}\n1984;101;José;A;B;C;D;1;No;x.png\n`,
    async (path) => {
      const r = await read({ path }, { encoding: "windows-1252" });
      assert.equal(r.source.dialect.encoding, "windows-1252");
      const row = r.items[1];
      assert.ok(row.kind === "row" && row.fields[2] === "JosÃ©");
      assert.deepEqual(r.warnings, []);
    },
  );
});

Deno.test("source: an invalid byte only near the END of a large file still means Windows-1252, one warning", async () => {
  const body = `${ROW}\n`.repeat(30_000); // ~3 MB of plain ASCII: beyond any one read
  const data = bytes(
    `${HEADER}\n`,
    body,
    "2020;90;Caf",
    [0xe9],
    ";X;A;B;C;1;No;y.png\n",
  );
  const lastLine = 30_002;
  await withFile(data, async (path) => {
    const r = await read({ path });
    assert.equal(r.source.dialect.encoding, "windows-1252");
    assert.equal(r.warnings.length, 1);
    assert.match(
      r.warnings[0],
      new RegExp(`line ${lastLine}, byte offset ${data.length - 21}\\)`),
    );
    const last = r.items.at(-1)!;
    assert.equal(last.line, lastLine);
    assert.ok(last.kind === "row" && last.fields[2] === "Café");
    assert.equal(r.items.length, lastLine);
  });
});

Deno.test("source: a one-shot stream sniffs its first 64 KiB; a later invalid byte is U+FFFD with one warning", async () => {
  const body = `${ROW}\n`.repeat(2_000); // ~200 KB
  const late = bytes(
    `${HEADER}\n`,
    body,
    "2020;90;Caf",
    [0xe9],
    ";X;A;B;C;1;No;y.png\n",
    "2021;1;Caf",
    [0xe9],
    "\n",
  );
  const r = await read(chunked(late, 1000));
  assert.equal(r.source.dialect.encoding, "utf-8");
  assert.equal(r.warnings.length, 1);
  assert.match(
    r.warnings[0],
    /^CSV_IN: the input: invalid UTF-8 at byte offset \d+ \(only the first 65536 bytes were checked\)/,
  );
  const row = r.items.at(-2)!;
  assert.ok(row.kind === "row" && row.fields[2] === "Caf\ufffd");

  const early = bytes(
    `${HEADER}\n2020;90;Caf`,
    [0xe9],
    ";X;A;B;C;1;No;y.png\n",
    body,
  );
  const r2 = await read(chunked(early, 1000));
  assert.equal(r2.source.dialect.encoding, "windows-1252");
  assert.equal(r2.warnings.length, 1);
  const row2 = r2.items[1];
  assert.ok(row2.kind === "row" && row2.fields[2] === "Café");
});

Deno.test("source: the same items whatever the byte chunking (BOM, multi-byte, CRLF, quotes)", async () => {
  const data = bytes(
    [0xef, 0xbb, 0xbf],
    "\r\nline;reason;title;year;awards\r\n",
    'ignored;x;"Matrix; ""The""";1999;No\r\n',
    '3;y;"two\r\nlines é";2000;Yes\r\n',
    "\r\n",
    "4;z;Amélie 😀;2001;No",
  );
  const expected = await read(data);
  assert.deepEqual(summary(expected.items), [
    "blank@1",
    "header@2",
    "row@3",
    "row@4",
    "blank@6",
    "row@7",
  ]);
  assert.equal(expected.source.dialect.bom, true);
  assert.deepEqual(expected.source.layout.ignored, ["line", "reason"]);
  const quoted = expected.items[3];
  assert.ok(quoted.kind === "row" && quoted.fields[2] === "two\r\nlines é");
  for (let size = 1; size <= 9; size++) {
    const got = await read(chunked(data, size));
    assert.deepEqual(got.items, expected.items, `chunks of ${size}`);
    assert.deepEqual(got.source.dialect, expected.source.dialect);
    assert.deepEqual(got.source.layout, expected.source.layout);
  }
  const asText = await read(
    new TextDecoder("utf-8", { ignoreBOM: true }).decode(data),
  ); // BOM as U+FEFF
  assert.deepEqual(asText.items, expected.items);
  assert.equal(asText.source.dialect.bom, true);
});

// ---------------------------------------------------------------- dialects and layouts

Deno.test("source: a ','-separated, quoted, CRLF copy gives the same records as the ';' original", async () => {
  const original = [
    HEADER,
    ROW,
    "1941;",
    "",
    '1984;101;"Target Eagle";Action;A;B;C;14;No;x.png',
    ROW + ";",
  ].join("\n") +
    "\n";
  const quote = (f: string) => `"${f.replaceAll('"', '""')}"`;
  const commas = original.split("\n").map((line) =>
    line === ""
      ? ""
      : line.split(";").map((f) => quote(f.replaceAll('"', ""))).join(",")
  ).join("\r\n");
  const a = await read(original);
  const b = await read(commas);
  assert.equal(b.source.dialect.delimiter, ",");
  assert.equal(b.source.dialect.newline, "\r\n");
  assert.deepEqual(b.items, a.items);
  assert.deepEqual(b.source.layout, a.source.layout);
  const target = b.items[4];
  assert.ok(target.kind === "row" && target.fields[2] === "Target Eagle");
});

Deno.test("source: the delimiter can be forced", async () => {
  const r = await read("a,b;c,d\n1,2;3,4\n", { delimiter: ";" });
  assert.equal(r.source.dialect.delimiter, ";");
  const row = r.items[1];
  assert.ok(row.kind === "row");
  assert.deepEqual(row.fields, ["1,2", "3,4"]);
});

Deno.test("source: a file without a header reads in COLUMNS order, width 10", async () => {
  const r = await read(`\n${ROW}\n1941;\n`);
  assert.equal(r.source.layout.header, null);
  assert.equal(r.source.layout.width, COLUMNS.length);
  assert.equal(r.source.layout.index.title, 2);
  assert.deepEqual(summary(r.items), ["blank@1", "row@2", "row@3"]);
  const short = r.items[2];
  assert.ok(
    short.kind === "row" && short.fields.length === 2,
    "width checking is the caller's",
  );
});

Deno.test("source: a header in another order, after blank lines, with unknown columns", async () => {
  const r = await read(
    "\n\nTitle;Year;Budget;*Image;Awards\nMatrix;1999;63M;m.png;Yes\n",
  );
  assert.deepEqual(summary(r.items), [
    "blank@1",
    "blank@2",
    "header@3",
    "row@4",
  ]);
  const { layout } = r.source;
  assert.equal(layout.width, 5);
  assert.deepEqual(layout.ignored, ["Budget"]);
  assert.equal(layout.index.image, 3);
  assert.equal(layout.index.length, -1);
  assert.equal(r.info.length, 1);
  assert.match(r.info[0], /"Budget" \(field 3\)/);
  assert.equal(r.warnings.length, 1, "missing columns");
});

Deno.test("source: the importer's own rejects file reads back", async () => {
  const rejects =
    `line;reason;${HEADER}\n17;year must be between 1888 and 2026;1700;90;Old;A;B;C;D;1;No;x.png\n`;
  const r = await read(rejects);
  assert.deepEqual(r.source.layout.ignored, ["line", "reason"]);
  assert.equal(r.source.layout.index.year, 2);
  const row = r.items[1];
  assert.ok(
    row.kind === "row" && row.fields[r.source.layout.index.title] === "Old",
  );
});

Deno.test("source: a duplicated column fails the open, and the file is released", async () => {
  await withFile(`${HEADER};Title\n${ROW};x\n`, async (path) => {
    await assert.rejects(
      () => openSource(path),
      (e) =>
        e instanceof InputError &&
        /^CSV_IN: line 1: the header names column "title" twice/.test(
          e.message,
        ),
    );
  });
});

Deno.test("source: an unterminated quote errors the items stream with the line, and the file is released", async () => {
  await withFile(
    `${HEADER}\n${ROW}\n2020;1;"never closed;A;B;C;D;1;No;x.png\n${ROW}\n`,
    async (path) => {
      const source = await openSource(path);
      await assert.rejects(
        () => items(source),
        (e) =>
          e instanceof InputError &&
          /^CSV_IN: line 3: unterminated quoted field/.test(e.message),
      );
      await source.close();
    },
  );
});

Deno.test("source: maxRecordChars bounds the record length", async () => {
  const text = `${HEADER}\n${ROW}\n2020;1;"open\n${"x;y\n".repeat(100)}`;
  await assert.rejects(
    async () =>
      await items(await openSourceStream(text, { maxRecordChars: 100 })),
    (e) =>
      e instanceof InputError &&
      /^CSV_IN: line 3: record longer than 100 characters/.test(e.message),
  );
});

// ---------------------------------------------------------------- streaming

Deno.test("source: items are pull-driven: a slow consumer does not make the input read ahead", async () => {
  let pulled = 0, cancelled = false;
  const chunk = enc(`${ROW}\n`.repeat(Math.ceil(65536 / (ROW.length + 1))));
  const input = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(chunk.slice());
      if (pulled === 10_000) controller.close(); // ~650 MB if all read
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const source = await openSourceStream(input);
  const reader = source.items.getReader();
  assert.ok(!(await reader.read()).done);
  await new Promise((r) => setTimeout(r, 50));
  const afterOne = pulled;
  assert.ok(afterOne <= 6, `pulled ${afterOne} chunks for one batch`);
  for (let i = 0; i < 20; i++) await reader.read();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(pulled <= afterOne + 21, `pulled ${pulled} chunks for 21 batches`);
  await source.close();
  assert.ok((await reader.read()).done, "no more items after close()");
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(cancelled, "the input was cancelled");
});

Deno.test("source: close() part-way releases the file", async () => {
  await withFile(`${HEADER}\n${`${ROW}\n`.repeat(20_000)}`, async (path) => {
    const source = await openSource(path);
    const reader = source.items.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    await source.close();
    assert.ok((await reader.read()).done);
    // The test sanitizer fails this test if the file is still open.
  });
});

// ---------------------------------------------------------------- the real export

backupCsv.test(
  "source: the real backup.csv, kinds and physical line numbers computed from its text",
  async () => {
    const path = BACKUP;
    const text = await Deno.readTextFile(path);
    const lines = text.split("\n"); // physical lines, as awk counts them
    if (lines.at(-1) === "") lines.pop();
    const r = await read({ path });

    assert.deepEqual(r.source.dialect, {
      delimiter: ";",
      newline: "\n",
      encoding: "utf-8",
      bom: false,
    });
    assert.deepEqual(r.source.layout.header, lines[0].split(";"));
    assert.equal(r.source.layout.width, 10);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.info, []);

    const count = (kind: SourceItem["kind"]) =>
      r.items.filter((i) => i.kind === kind).length;
    const blankLines = lines.filter((l) => l.trim() === "").length;
    assert.ok(blankLines > 0);
    assert.equal(count("header"), 1);
    assert.equal(count("type_row"), 0);
    assert.equal(count("malformed"), 0);
    assert.equal(count("blank"), blankLines);
    assert.equal(count("row"), lines.length - 1 - blankLines);
    assert.equal(
      count("row") + count("blank"),
      6684,
      "SINK.md: 6,684 data rows",
    );

    // Every item sits on the physical line whose text it came from.
    const seen = new Set<number>();
    for (const item of r.items) {
      seen.add(item.line);
      const raw = lines[item.line - 1];
      if (item.kind === "blank") {
        assert.equal(raw.trim(), "", `line ${item.line}`);
      } else if (!raw.includes('"')) {
        assert.deepEqual(item.fields, raw.split(";"), `line ${item.line}`);
      }
    }
    assert.equal(
      seen.size,
      lines.length,
      "one item per physical line, none missing",
    );

    // The rows cut short to `1941;` are where grep finds them.
    const short = lines.flatMap((l, i) => l === "1941;" ? [i + 1] : []);
    assert.ok(short.length > 0);
    for (const line of short) {
      assert.deepEqual(r.items.find((i) => i.line === line), {
        kind: "row",
        line,
        fields: ["1941", ""],
      });
    }
    // The one quoted title is unquoted, and its row has the usual 10 fields.
    const quotedLine = lines.findIndex((l) => l.includes('"')) + 1;
    const quoted = r.items.find((i) => i.line === quotedLine);
    assert.ok(
      quoted?.kind === "row" && quoted.fields.length === 10 &&
        !quoted.fields.some((f) => f.includes('"')),
    );
    // Rows with one field too many or too few are passed on as they are.
    const widths = new Set(
      r.items.flatMap((i) => i.kind === "row" ? [i.fields.length] : []),
    );
    assert.ok(
      widths.has(9) && widths.has(11) && widths.has(2),
      [...widths].join(),
    );
  },
);
