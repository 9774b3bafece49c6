import assert from "node:assert/strict";
import { Papa } from "../lib/importer/_deps.ts";
import {
  COVER_KINDS,
  csvChunks,
  DEFAULT_DEFECTS,
  type DefectRates,
  emptyTally,
  generateCsv,
  generateCsvBytes,
  type GenOptions,
  NO_DEFECTS,
  resolveGenOptions,
  type Tally,
  TALLY_KINDS,
  writeCsv,
} from "../lib/gen/generate.ts";
import { encodeWindows1252 } from "../lib/gen/cp1252.ts";
import * as vocab from "../lib/gen/vocab.ts";

const ROOT = new URL("../", import.meta.url);
const utf8 = new TextDecoder();
const latin1 = new TextDecoder("windows-1252");
const CURRENT_YEAR = new Date().getFullYear();
const IMAGE_RULE = /.+\.(png|jpg|jpeg)$/;

/** Every rate (but `short`, whose rows keep only a year and so may
 * coincide by chance) raised so that each kind shows up many times. */
const BUSY: Partial<DefectRates> = {
  blank: 0.01,
  extra_field: 0.01,
  missing_field: 0.01,
  fffd: 0.05,
  trailing_space: 0.02,
  empty_length: 0.05,
  empty_popularity: 0.02,
  quoted: 0.01,
  year_range: 0.01,
  popularity_range: 0.01,
  awards: 0.01,
  image: 0.01,
  empty_title: 0.01,
};

function text(options: Partial<GenOptions>): string {
  return utf8.decode(generateCsvBytes(options).bytes);
}

/** Lines of a generated file (each ends with the newline), newline removed. */
function lines(body: string, newline = "\n"): string[] {
  assert.ok(body === "" || body.endsWith(newline), "last line terminated");
  const all = body.split(newline);
  all.pop();
  return all;
}

/** Field-level facts gathered independently of the generator. */
interface Scan {
  tally: Tally;
  yearLow: number;
  yearHigh: number;
  popHigh: number;
  awardsMaybe: number;
  imageGif: number;
}

/** Counts what a `;`-separated UTF-8 file holds, by reading its text. */
function scan(dataLines: string[]): Scan {
  const t = emptyTally();
  const s = {
    yearLow: 0,
    yearHigh: 0,
    popHigh: 0,
    awardsMaybe: 0,
    imageGif: 0,
  };
  const seen = new Set<string>(), validSeen = new Set<string>();
  for (const line of dataLines) {
    t.rows++;
    if (line === "") {
      t.blank++;
      continue;
    }
    t.data++;
    if (seen.has(line)) t.duplicate++;
    seen.add(line);
    const f = line.split(";");
    if (f.length === 2) t.short++;
    else if (f.length === 11) t.extra_field++;
    else if (f.length === 9) t.missing_field++;
    else {
      assert.equal(f.length, 10, line);
      const title = f[2].replace(/^"(.*)"$/, "$1");
      const year = Number(f[0]), pop = f[7] === "" ? 0 : Number(f[7]);
      assert.ok(Number.isInteger(year), line);
      const broken = {
        fffd: line.includes("\uFFFD"),
        year_range: year < 1888 || year > CURRENT_YEAR,
        popularity_range: pop < 0 || pop > 100,
        awards: !["", "Yes", "No"].includes(f[8]),
        image: f[9] !== "" && !IMAGE_RULE.test(f[9]),
        empty_title: title === "",
      };
      for (const [kind, bad] of Object.entries(broken)) {
        if (bad) t[kind as keyof typeof broken]++;
      }
      if (Object.values(broken).some(Boolean)) t.invalid++;
      else {
        t.valid++;
        validSeen.add(line);
      }
      if (f.some((v) => v.endsWith(" "))) t.trailing_space++;
      if (f[1] === "") t.empty_length++;
      if (f[7] === "") t.empty_popularity++;
      if (line.includes('"')) t.quoted++;
      if (/[\u0080-\ufffc]/.test(line)) t.accented++;
      if (year < 1888) s.yearLow++;
      if (year > CURRENT_YEAR) s.yearHigh++;
      if (pop > 100) s.popHigh++;
      if (f[8] === "maybe") s.awardsMaybe++;
      if (f[9].endsWith(".gif")) s.imageGif++;
    }
  }
  t.movies = seen.size;
  t.valid_movies = validSeen.size;
  return { tally: t, ...s };
}

function parse(body: string, delimiter: string): string[][] {
  const result = Papa.parse<string[]>(body.replace(/\r?\n$/, ""), {
    delimiter,
    newline: body.includes("\r\n") ? "\r\n" : "\n",
  });
  assert.deepEqual(result.errors, []);
  return result.data;
}

Deno.test("same seed gives the same bytes, another seed other bytes", () => {
  const a = generateCsvBytes({ rows: 3000, seed: 5 }).bytes;
  const b = generateCsvBytes({ rows: 3000, seed: 5 }).bytes;
  const c = generateCsvBytes({ rows: 3000, seed: 6 }).bytes;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("chunk size and stream vs bytes do not change the output", async () => {
  const options = { rows: 2500, seed: 11, defects: BUSY };
  const whole = generateCsvBytes(options);
  const small = generateCsvBytes({ ...options, chunkRows: 7 });
  assert.deepEqual(small.bytes, whole.bytes);
  assert.deepEqual(small.tally, whole.tally);
  const { stream, tally } = generateCsv({ ...options, chunkRows: 100 });
  const streamed = new Uint8Array(await new Response(stream).arrayBuffer());
  assert.deepEqual(streamed, whole.bytes);
  assert.deepEqual(await tally, whole.tally);
});

Deno.test("the stream is pulled chunk by chunk, and a cancel settles the tally", async () => {
  const { stream, tally } = generateCsv({ rows: 1_000_000, chunkRows: 1000 });
  const reader = stream.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length < 200_000);
  await reader.cancel();
  const partial = await tally;
  assert.ok(partial.rows >= 1000 && partial.rows <= 3000, `${partial.rows}`);
});

Deno.test("rows counts the lines after the header: data lines plus blank lines", () => {
  for (
    const [options, headerRows] of [
      [{}, 1],
      [{ header: false }, 0],
      [{ encoding: "windows-1252" }, 2],
      [{ encoding: "windows-1252", header: false }, 0],
      [{ newline: "\r\n" }, 1],
      [{ delimiter: ",", quoteAll: true }, 1],
    ] as [Partial<GenOptions>, number][]
  ) {
    for (const rows of [0, 1, 2, 5, 999]) {
      const { bytes, tally } = generateCsvBytes({
        ...options,
        rows,
        defects: { blank: 0.2 },
      });
      const body = options.encoding ? latin1.decode(bytes) : utf8.decode(bytes);
      const all = lines(body, options.newline ?? "\n");
      assert.equal(all.length, headerRows + rows, JSON.stringify(options));
      assert.equal(tally.rows, rows);
      assert.equal(tally.data + tally.blank, rows);
      assert.equal(
        all.slice(headerRows).filter((l) => l === "").length,
        tally.blank,
      );
      if (options.newline !== "\r\n") assert.ok(!body.includes("\r"));
    }
  }
});

Deno.test("the tally matches an independent reading of the text", () => {
  for (const seed of [1, 2, 3]) {
    const { bytes, tally } = generateCsvBytes({
      rows: 20_000,
      seed,
      defects: BUSY,
    });
    const all = lines(utf8.decode(bytes));
    assert.equal(
      all[0],
      "year;length;title;subject;actor;actress;director;popularity;awards;image",
    );
    const { tally: seen } = scan(all.slice(1));
    assert.deepEqual(seen, tally);
    for (const kind of TALLY_KINDS) {
      if (kind !== "short") assert.ok(tally[kind] > 0, `some ${kind}`);
    }
  }
});

Deno.test("the tally's invariants hold, short rows included", () => {
  const { tally: t } = generateCsvBytes({
    rows: 20_000,
    seed: 9,
    defects: { ...BUSY, short: 0.02 },
  });
  assert.ok(t.short > 100);
  assert.equal(t.rows, t.data + t.blank);
  assert.equal(
    t.data,
    t.valid + t.invalid + t.short + t.extra_field + t.missing_field,
  );
  assert.equal(
    t.invalid,
    t.fffd + t.year_range + t.popularity_range + t.awards + t.image +
      t.empty_title,
  );
  assert.equal(t.movies, t.data - t.duplicate);
  assert.ok(t.valid_movies <= t.movies && t.valid_movies * 4 >= t.valid);
});

Deno.test("default rates reproduce the real export's mix", () => {
  const { tally: t, bytes } = generateCsvBytes({ rows: 100_000, seed: 4 });
  const share = (n: number) => n / t.rows;
  const near = (kind: keyof DefectRates & keyof Tally, tolerance: number) =>
    assert.ok(
      Math.abs(share(t[kind]) - DEFAULT_DEFECTS[kind]) <= tolerance,
      `${kind}: ${share(t[kind])} vs ${DEFAULT_DEFECTS[kind]}`,
    );
  near("fffd", 0.004);
  near("empty_length", 0.004);
  near("duplicate", 0.01);
  near("blank", 0.0005);
  near("extra_field", 0.0006);
  near("empty_popularity", 0.001);
  // Every movie about four times, and copies never adjacent.
  assert.ok(Math.abs(t.data / t.movies - 4) < 0.05);
  const all = lines(utf8.decode(bytes)).filter((l) => l !== "");
  for (let i = 1; i < all.length; i++) {
    if (all[i].split(";").length > 2) assert.notEqual(all[i], all[i - 1]);
  }
});

Deno.test("a clean file has only valid, distinct, 10-field rows", () => {
  const { bytes, tally } = generateCsvBytes({
    rows: 5000,
    defects: NO_DEFECTS,
  });
  assert.equal(tally.valid, 5000);
  assert.equal(tally.movies, 5000);
  const all = lines(utf8.decode(bytes)).slice(1);
  assert.ok(all.every((l) => l.split(";").length === 10));
  assert.equal(new Set(all).size, 5000);
  assert.ok(!all.some((l) => l.includes("\uFFFD") || l.includes('"')));
});

Deno.test("coverAll forces every kind even in a tiny file", () => {
  const { bytes, tally } = generateCsvBytes({
    rows: 60,
    seed: 99,
    coverAll: true,
  });
  const s = scan(lines(utf8.decode(bytes)).slice(1));
  assert.deepEqual(s.tally, tally);
  for (const kind of TALLY_KINDS) assert.ok(tally[kind] > 0, kind);
  assert.ok(
    s.yearLow && s.yearHigh && s.popHigh && s.awardsMaybe && s.imageGif,
  );
  assert.equal(COVER_KINDS.length, 15);
});

Deno.test("windows-1252: type-name row, accents as single bytes, no U+FFFD", () => {
  const options = { rows: 4000, seed: 21, defects: BUSY };
  const { bytes, tally } = generateCsvBytes({
    ...options,
    encoding: "windows-1252",
  });
  const body = latin1.decode(bytes);
  const all = lines(body);
  assert.equal(
    all[0],
    "Year;Length;Title;Subject;Actor;Actress;Director;Popularity;Awards;*Image",
  );
  assert.equal(all[1], "INT;INT;STRING;CAT;CAT;CAT;CAT;INT;BOOL;STRING");
  assert.ok(body.includes("é"));
  assert.ok(bytes.includes(0xe9));
  assert.throws(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  assert.ok(!body.includes("\uFFFD"));
  assert.equal(tally.fffd, 0);
  assert.ok(tally.accented > 0);
  // The same movies as the UTF-8 file of that seed, only unbroken.
  const u = lines(text(options)).slice(1);
  const w = all.slice(2);
  assert.equal(u.length, w.length);
  let restored = 0;
  for (let i = 0; i < u.length; i++) {
    if (u[i] === w[i]) continue;
    assert.ok(u[i].includes("\uFFFD"), u[i]);
    const fields = w[i].split(";"), broken = u[i].split(";");
    assert.equal(fields.length, broken.length);
    fields.forEach((f, j) => {
      if (f !== broken[j]) {
        assert.equal(f.replace(/[\u0080-\uffff]/g, "\uFFFD"), broken[j]);
      }
    });
    restored++;
  }
  assert.ok(restored > 0);
});

Deno.test("',' output parses into the same fields as ';' output", () => {
  const options = { rows: 3000, seed: 8, defects: BUSY };
  const { tally } = generateCsvBytes(options);
  const semi = parse(text(options), ";");
  const comma = parse(text({ ...options, delimiter: "," }), ",");
  const quoted = parse(
    text({ ...options, delimiter: ",", quoteAll: true, newline: "\r\n" }),
    ",",
  );
  assert.deepEqual(comma, semi);
  assert.deepEqual(quoted, semi);
  assert.equal(
    comma.filter((row) => row.length === 10).length - 1, // header
    tally.valid + tally.invalid,
  );
  assert.ok(comma.some((row) => row.length === 10 && row[4].includes(",")));
});

Deno.test("bad options are refused with a one-line message", () => {
  const bad: Partial<GenOptions>[] = [
    { rows: -1 },
    { rows: 1.5 },
    { seed: -1 },
    { seed: 2 ** 32 },
    { delimiter: "|" as ";" },
    { encoding: "latin1" as "utf-8" },
    { newline: "\r" as "\n" },
    { chunkRows: 0 },
    { defects: { fffd: 2 } },
    { defects: { nope: 0.1 } as Partial<DefectRates> },
    { defects: { short: 0.6, extra_field: 0.6 } },
  ];
  for (const options of bad) {
    assert.throws(() => resolveGenOptions(options), (e: Error) => {
      assert.ok(!e.message.includes("\n"));
      return e instanceof RangeError || e instanceof TypeError;
    });
    assert.throws(() => csvChunks(options));
  }
});

Deno.test("writeCsv writes the same bytes and returns the tally", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    const tally = await writeCsv(path, { rows: 700, seed: 2 });
    const expected = generateCsvBytes({ rows: 700, seed: 2 });
    assert.deepEqual(await Deno.readFile(path), expected.bytes);
    assert.deepEqual(tally, expected.tally);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the windows-1252 encoder inverts TextDecoder and refuses the rest", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const decoded = latin1.decode(all);
  assert.deepEqual(encodeWindows1252(decoded), all);
  assert.throws(() => encodeWindows1252("\uFFFD"), RangeError);
  assert.throws(() => encodeWindows1252("ř"), RangeError);
});

Deno.test("the vocabulary is Latin-1-safe and holds no delimiter or quote", () => {
  const words = [
    ...vocab.ADJECTIVES,
    ...vocab.NOUNS,
    ...vocab.PLACES,
    ...vocab.GIVEN_NAMES,
    ...vocab.SURNAMES,
    ...vocab.ACCENTED_SURNAMES,
    ...vocab.ACCENTED_GIVEN,
    ...vocab.STAGE_NAMES,
    ...vocab.SUBJECTS.map(([s]) => s),
    ...vocab.IMAGES.map(([s]) => s),
  ];
  for (const word of words) {
    assert.ok(!/[;",\r\n]/.test(word), word);
    encodeWindows1252(word);
  }
});

// --- data/sample.csv and the command line

const GEN = new URL("gen.ts", ROOT);

async function runGen(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", GEN.pathname, ...args],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: out.stdout,
    stderr: utf8.decode(out.stderr),
  };
}

/** The command documented in gen.ts's header for data/sample.csv. */
async function documentedCommand(): Promise<string[]> {
  const source = await Deno.readTextFile(GEN);
  const match = source.match(/deno task gen (.+) --out data\/sample\.csv/);
  assert.ok(match, "gen.ts documents how data/sample.csv is made");
  return match[1].split(/\s+/);
}

Deno.test("data/sample.csv is exactly what the documented command writes", async () => {
  const args = await documentedCommand();
  const readme = await Deno.readTextFile(new URL("data/README.md", ROOT));
  assert.ok(
    readme.includes(`deno task gen ${args.join(" ")} --out data/sample.csv`),
    "data/README.md shows the same command",
  );
  const committed = await Deno.readFile(new URL("data/sample.csv", ROOT));
  const { code, stdout, stderr } = await runGen(args);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout, committed, "regenerate data/sample.csv");
  assert.match(stderr, /^rows=300 data=\d+ /);
});

Deno.test("data/sample.csv holds every kind of bad row at least once", async () => {
  const all = lines(
    await Deno.readTextFile(new URL("data/sample.csv", ROOT)),
  );
  assert.equal(
    all[0],
    "year;length;title;subject;actor;actress;director;popularity;awards;image",
  );
  const s = scan(all.slice(1));
  const t = s.tally;
  for (
    const kind of [
      "blank",
      "short",
      "extra_field",
      "missing_field",
      "empty_length",
      "empty_popularity",
      "fffd",
      "trailing_space",
      "duplicate",
      "quoted",
      "accented",
      "empty_title",
    ] as const
  ) assert.ok(t[kind] > 0, kind);
  assert.ok(all.some((l) => /^\d{4};$/.test(l)), "a 1941;-style row");
  assert.ok(s.yearLow > 0 && s.yearHigh > 0 && s.popHigh > 0);
  assert.ok(s.awardsMaybe > 0 && s.imageGif > 0);
  // data/README.md quotes the sample's tally.
  const readme = await Deno.readTextFile(new URL("data/README.md", ROOT));
  for (
    const fact of [
      `${t.rows} rows = ${t.data} data lines + ${t.blank}`,
      `${t.valid} valid, ${t.invalid} breaking a rule, ${t.short} short`,
      `${t.duplicate} duplicates of ${t.movies} movies`,
    ]
  ) assert.ok(readme.replace(/\s+/g, " ").includes(fact), fact);
  // Empty length and popularity also on otherwise valid rows.
  const valid = all.slice(1).filter((l) => {
    const f = l.split(";");
    return f.length === 10 && !l.includes("\uFFFD") && f[2] !== "" &&
      Number(f[0]) >= 1888 && Number(f[0]) <= CURRENT_YEAR &&
      ["Yes", "No"].includes(f[8]) && IMAGE_RULE.test(f[9]) &&
      (f[7] === "" || Number(f[7]) <= 100);
  });
  assert.ok(valid.some((l) => l.split(";")[1] === ""));
  assert.ok(valid.some((l) => l.split(";")[7] === ""));
});

Deno.test("gen.ts: a bad --rows exits 2 with one line on stderr", async () => {
  for (
    const bad of [["--rows", "abc"], ["--rows", "-3"], ["--encoding", "koi8"], [
      "--frobnicate",
    ]]
  ) {
    const { code, stdout, stderr } = await runGen(bad);
    assert.equal(code, 2, bad.join(" "));
    assert.equal(stdout.length, 0);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    assert.ok(!stderr.includes("    at "), "no stack trace");
  }
});

Deno.test("gen.ts: flags reach the generator and the tally goes to stderr", async () => {
  const { code, stdout, stderr } = await runGen([
    "--rows",
    "40",
    "--seed",
    "3",
    "--delimiter",
    ",",
    "--encoding",
    "windows-1252",
    "--no-header",
    "--crlf",
    "--clean",
  ]);
  assert.equal(code, 0, stderr);
  const expected = generateCsvBytes({
    rows: 40,
    seed: 3,
    delimiter: ",",
    encoding: "windows-1252",
    header: false,
    newline: "\r\n",
    defects: NO_DEFECTS,
  });
  assert.deepEqual(stdout, expected.bytes);
  const counts = Object.fromEntries(
    stderr.trim().split(" ").map((kv) => kv.split("=")),
  );
  for (const kind of TALLY_KINDS) {
    assert.equal(Number(counts[kind]), expected.tally[kind], kind);
  }
});
