/**
 * A generator of realistic, repeatable test CSVs in the shape of the movie
 * export (`year;length;title;subject;actor;actress;director;popularity;awards;image`),
 * with the same mix of broken rows as the real `backup.csv` and, at small
 * rates, rows that break the receiving service's rules (`shared/SINK.md`).
 *
 * Output is a pull-based byte stream built in chunks of many rows, so a
 * million rows take constant memory. Alongside the bytes the generator
 * keeps a {@linkcode Tally} of what it wrote, so a test can compare an
 * importer's summary with the truth without parsing the file.
 *
 * Layout: the file holds `rows` lines after the header row(s); each is a
 * blank line or a data line. Data lines walk a catalogue of
 * `round(rows × (1 − defects.duplicate))` movies over and over (movie
 * `j mod catalogue` on data line `j`), so with the default rate every movie
 * appears about four times, a catalogue apart, never adjacent. A movie's
 * defects belong to the movie, so all its copies are byte-identical, as in
 * the real export. Every movie is a pure function of `(seed, index)`.
 *
 * @module
 */

import { type Random, seededRandom } from "../shared/random.ts";
import { COLUMNS } from "../importer/movie.ts";
import { encodeWindows1252 } from "./cp1252.ts";
import {
  ACCENTED_GIVEN,
  ACCENTED_SURNAMES,
  ADJECTIVES,
  GIVEN_NAMES,
  IMAGES,
  NOUNS,
  PLACES,
  STAGE_NAMES,
  SUBJECTS,
  SURNAMES,
} from "./vocab.ts";

/**
 * Probabilities of each defect. Line-level rates (`blank`) are per line;
 * every other rate is per movie, which is also its share of data lines since
 * each copy of a movie is identical. `short`, `extra_field` and
 * `missing_field` exclude one another; so do `fffd`, `year_range`,
 * `popularity_range`, `awards`, `image` and `empty_title` (a row breaks at
 * most one service rule, so the tally is exact). The rest are independent.
 * Defaults were measured on `backup.csv` (6,684 lines after the header);
 * the rule violations, absent there, get a small rate of 0.1 % each.
 */
export interface DefectRates {
  /**
   * An empty line (5 of 6,684 lines).
   * @default 0.00075
   */
  blank: number;
  /**
   * A row cut short after the year, like `1941;` (4 of 6,684).
   * @default 0.0006
   */
  short: number;
  /**
   * One extra empty field inserted after the subject (8 of 6,684): 11 fields.
   * @default 0.0012
   */
  extra_field: number;
  /**
   * One field between subject and director dropped (4 of 6,684): 9 fields.
   * @default 0.0006
   */
  missing_field: number;
  /**
   * A name already broken into U+FFFD `�` (216 of 6,684). Never emitted in
   * windows-1252, which has no U+FFFD: such movies keep their accents there.
   * @default 0.0323
   */
  fffd: number;
  /**
   * A name (mostly the director) with a trailing space (16 of 6,684).
   * Still valid.
   * @default 0.0024
   */
  trailing_space: number;
  /**
   * An empty length (268 of 6,663 well-formed rows). Still valid.
   * @default 0.0402
   */
  empty_length: number;
  /**
   * An empty popularity (24 of 6,663). Still valid.
   * @default 0.0036
   */
  empty_popularity: number;
  /**
   * The title needlessly quoted, `"Like This"` (1 of 6,684). Still valid.
   * @default 0.00015
   */
  quoted: number;
  /**
   * Share of data lines that repeat an earlier movie (1,662 distinct lines
   * in 6,684: 0.751, every movie about four times). `0` writes each once.
   * @default 0.75
   */
  duplicate: number;
  /**
   * Year before 1888 or after the current year (far future: 2101–2199).
   * @default 0.001
   */
  year_range: number;
  /**
   * Popularity above 100 (or, one time in five, below 0).
   * @default 0.001
   */
  popularity_range: number;
  /**
   * Awards other than `Yes`, `No` or empty (`maybe`, `unknown`, …).
   * @default 0.001
   */
  awards: number;
  /**
   * Image with an extension other than png/jpg/jpeg (`.gif`, `.bmp`, …).
   * @default 0.001
   */
  image: number;
  /**
   * Empty title.
   * @default 0.001
   */
  empty_title: number;
}

/** The name of one defect rate. */
export type DefectKind = keyof DefectRates;

/**
 * Defect rates measured on the real export (see {@linkcode DefectRates}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_DEFECTS } from "./generate.ts";
 * assert.ok(DEFAULT_DEFECTS.duplicate === 0.75);
 * ```
 */
export const DEFAULT_DEFECTS: Readonly<DefectRates> = Object.freeze({
  blank: 0.00075,
  short: 0.0006,
  extra_field: 0.0012,
  missing_field: 0.0006,
  fffd: 0.0323,
  trailing_space: 0.0024,
  empty_length: 0.0402,
  empty_popularity: 0.0036,
  quoted: 0.00015,
  duplicate: 0.75,
  year_range: 0.001,
  popularity_range: 0.001,
  awards: 0.001,
  image: 0.001,
  empty_title: 0.001,
});

/**
 * Every rate at zero: a clean file, each movie once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCsvBytes, NO_DEFECTS } from "./generate.ts";
 * const { tally } = generateCsvBytes({ rows: 50, defects: NO_DEFECTS });
 * assert.ok(tally.valid === 50 && tally.duplicate === 0);
 * ```
 */
export const NO_DEFECTS: Readonly<DefectRates> = Object.freeze(
  Object.fromEntries(
    Object.keys(DEFAULT_DEFECTS).map((k) => [k, 0]),
  ) as unknown as DefectRates,
);

/** Options of the generator. */
export interface GenOptions {
  /**
   * Lines after the header row(s): data lines plus blank lines.
   * @default 1000
   */
  rows: number;
  /**
   * Seed of every random choice (an integer from 0 to 2^32 − 1); the same
   * options give the same bytes.
   * @default 1
   */
  seed: number;
  /**
   * Write the header row (and, for windows-1252, the row of type names).
   * @default true
   */
  header: boolean;
  /**
   * Field separator. With `,` fields holding a comma or a quote are quoted.
   * @default ";"
   */
  delimiter: ";" | ",";
  /**
   * Output encoding. `windows-1252` is the older export: capitalised header
   * (`Year;…;*Image`), a second header row of type names, and no U+FFFD.
   * @default "utf-8"
   */
  encoding: "utf-8" | "windows-1252";
  /**
   * Line terminator, also after the last line.
   * @default "\n"
   */
  newline: "\n" | "\r\n";
  /**
   * Quote every field (header included), not only those that need it.
   * @default false
   */
  quoteAll: boolean;
  /**
   * Defect rates, merged over {@linkcode DEFAULT_DEFECTS}; pass
   * {@linkcode NO_DEFECTS} for a clean file.
   * @default DEFAULT_DEFECTS
   */
  defects: Partial<DefectRates>;
  /**
   * Guarantee at least one row of every kind (see {@linkcode COVER_KINDS})
   * and one blank line, whatever the rates, by forcing one movie per kind,
   * spread over the catalogue. Needs a catalogue of at least 15 movies
   * (with 4 copies each, 60 rows); smaller ones get the first kinds.
   * @default false
   */
  coverAll: boolean;
  /**
   * Lines per generated chunk (one `Uint8Array` each).
   * @default 4096
   */
  chunkRows: number;
}

/**
 * The kinds `coverAll` forces, one movie each, in this order. `year_low` and
 * `year_high` are the two halves of `year_range`, `popularity_high` a
 * `popularity_range` above 100, `awards` is `maybe`, `image` a `.gif`,
 * `accented` a valid row with an intact non-ASCII name (`Müller, Zoë`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COVER_KINDS } from "./generate.ts";
 * assert.ok(COVER_KINDS.includes("year_high"));
 * ```
 */
export const COVER_KINDS = [
  "short",
  "extra_field",
  "missing_field",
  "fffd",
  "trailing_space",
  "empty_length",
  "empty_popularity",
  "quoted",
  "year_low",
  "year_high",
  "popularity_high",
  "awards",
  "image",
  "empty_title",
  "accented",
] as const;

/** One kind forced by `coverAll`. */
export type CoverKind = typeof COVER_KINDS[number];

/** The tally counters of a rendered movie's defect bits, in bit order. */
const BIT_KINDS = [
  "short",
  "extra_field",
  "missing_field",
  "fffd",
  "year_range",
  "popularity_range",
  "awards",
  "image",
  "empty_title",
  "trailing_space",
  "empty_length",
  "empty_popularity",
  "quoted",
  "accented",
] as const;

/**
 * The counters of a {@linkcode Tally}, in display order. Invariants:
 * `rows = data + blank`;
 * `data = valid + invalid + short + extra_field + missing_field`;
 * `invalid = fffd + year_range + popularity_range + awards + image + empty_title`;
 * `movies = data − duplicate` (distinct movies written);
 * `valid_movies` ≤ `movies` counts distinct valid ones (what an importer
 * that drops duplicates would post). `trailing_space`, `empty_length`,
 * `empty_popularity`, `quoted` and `accented` (an intact non-ASCII letter)
 * count well-formed (10-field) rows, valid or not, and may overlap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TALLY_KINDS } from "./generate.ts";
 * assert.ok(TALLY_KINDS[0] === "rows");
 * ```
 */
export const TALLY_KINDS = [
  "rows",
  "data",
  "blank",
  "valid",
  "invalid",
  ...BIT_KINDS,
  "duplicate",
  "movies",
  "valid_movies",
] as const;

/** One counter of a {@linkcode Tally}. */
export type TallyKind = typeof TALLY_KINDS[number];

/**
 * What the generator wrote, counted per line (see {@linkcode TALLY_KINDS}).
 * `valid` rows are the ones the service accepts (201 unless the random 503
 * strikes): 10 fields, no rule broken; duplicates included. In windows-1252
 * `fffd` is always 0: those movies keep their accents and count as `valid`
 * and `accented`.
 */
export type Tally = Record<TallyKind, number>;

/**
 * A tally with every counter at zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTally } from "./generate.ts";
 * assert.ok(emptyTally().valid === 0);
 * ```
 */
export function emptyTally(): Tally {
  return Object.fromEntries(TALLY_KINDS.map((k) => [k, 0])) as Tally;
}

/**
 * Fills in defaults and checks every option, throwing a `RangeError` (or
 * `TypeError`) with a one-line message on a bad value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveGenOptions } from "./generate.ts";
 * assert.ok(resolveGenOptions({ rows: 5 }).seed === 1);
 * let failed = false;
 * try { resolveGenOptions({ rows: -1 }); } catch { failed = true; }
 * assert.ok(failed);
 * ```
 */
export function resolveGenOptions(
  options: Partial<GenOptions> = {},
): GenOptions & { defects: DefectRates } {
  const o = { ...DEFAULTS, ...dropUndefined(options) };
  checkSettings(o);
  const defects = { ...DEFAULT_DEFECTS, ...dropUndefined(o.defects ?? {}) };
  checkDefects(defects);
  return { ...o, defects };
}

/** Throws on the first bad setting other than the defect rates. */
function checkSettings(o: Omit<GenOptions, "defects">): void {
  if (!Number.isSafeInteger(o.rows) || o.rows < 0) {
    throw new RangeError(
      `rows must be a whole number ≥ 0, got ${String(o.rows)}`,
    );
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new RangeError(
      `seed must be a whole number from 0 to 4294967295, got ${String(o.seed)}`,
    );
  }
  if (typeof o.header !== "boolean") {
    throw new TypeError(`header must be true or false`);
  }
  if (o.delimiter !== ";" && o.delimiter !== ",") {
    throw new RangeError(
      `delimiter must be ";" or ",", got ${JSON.stringify(o.delimiter)}`,
    );
  }
  if (o.encoding !== "utf-8" && o.encoding !== "windows-1252") {
    throw new RangeError(
      `encoding must be "utf-8" or "windows-1252", got ${
        JSON.stringify(o.encoding)
      }`,
    );
  }
  if (o.newline !== "\n" && o.newline !== "\r\n") {
    throw new RangeError(
      `newline must be "\\n" or "\\r\\n", got ${JSON.stringify(o.newline)}`,
    );
  }
  if (!Number.isSafeInteger(o.chunkRows) || o.chunkRows < 1) {
    throw new RangeError(
      `chunkRows must be a whole number ≥ 1, got ${String(o.chunkRows)}`,
    );
  }
}

/** Throws on an unknown defect, a rate out of 0..1, or a group beyond 1. */
function checkDefects(defects: DefectRates): void {
  for (const [kind, rate] of Object.entries(defects)) {
    if (!(kind in DEFAULT_DEFECTS)) {
      throw new RangeError(`unknown defect "${kind}"`);
    }
    if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
      throw new RangeError(
        `defect rate ${kind} must be from 0 to 1, got ${String(rate)}`,
      );
    }
  }
  const shape = defects.short + defects.extra_field + defects.missing_field;
  if (shape > 1) {
    throw new RangeError(
      `short + extra_field + missing_field must not exceed 1`,
    );
  }
  const fault = defects.fffd + defects.year_range + defects.popularity_range +
    defects.awards + defects.image + defects.empty_title;
  if (fault > 1) {
    throw new RangeError(
      `fffd + year_range + popularity_range + awards + image + empty_title must not exceed 1`,
    );
  }
}

/**
 * The CSV as chunks of bytes, generated lazily; the generator's return value
 * is the final tally. `tally`, if given, is updated as chunks are produced
 * (to watch progress or read the count of a cancelled run). Options are
 * checked at once, before the first chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvChunks } from "./generate.ts";
 * let bytes = 0;
 * for (const chunk of csvChunks({ rows: 100, chunkRows: 30 })) bytes += chunk.length;
 * assert.ok(bytes > 100 * 40);
 * ```
 */
export function csvChunks(
  options: Partial<GenOptions> = {},
  tally: Tally = emptyTally(),
): Generator<Uint8Array, Tally, void> {
  const o = resolveGenOptions(options);
  return chunkGenerator(o, tally);
}

/**
 * The CSV as a pull-based web stream (one chunk of `chunkRows` lines per
 * pull, constant memory), with a promise of the tally that settles when the
 * stream is read to its end (or cancelled: then it counts what was made).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCsv } from "./generate.ts";
 * const { stream, tally } = generateCsv({ rows: 20, seed: 3 });
 * const text = await new Response(stream).text();
 * assert.ok(text.startsWith("year;length;title;"));
 * assert.ok((await tally).rows === 20);
 * ```
 */
export function generateCsv(
  options: Partial<GenOptions> = {},
): { stream: ReadableStream<Uint8Array>; tally: Promise<Tally> } {
  const counts = emptyTally();
  const chunks = csvChunks(options, counts);
  const { promise, resolve } = Promise.withResolvers<Tally>();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) {
        controller.close();
        resolve(next.value);
      } else {
        controller.enqueue(next.value);
      }
    },
    cancel() {
      resolve(counts);
    },
  });
  return { stream, tally: promise };
}

/**
 * The whole CSV in memory, with its tally (for tests and small files).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCsvBytes } from "./generate.ts";
 * const { bytes, tally } = generateCsvBytes({ rows: 10, header: false });
 * const lines = new TextDecoder().decode(bytes).split("\n");
 * assert.ok(lines.length === 11 && tally.rows === 10);
 * ```
 */
export function generateCsvBytes(
  options: Partial<GenOptions> = {},
): { bytes: Uint8Array; tally: Tally } {
  const chunks: Uint8Array[] = [];
  const it = csvChunks(options);
  let next = it.next();
  let size = 0;
  while (!next.done) {
    chunks.push(next.value);
    size += next.value.length;
    next = it.next();
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes, tally: next.value };
}

/**
 * Streams the CSV into a file (created or truncated) and returns its tally.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeCsv } from "./generate.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * const tally = await writeCsv(path, { rows: 12 });
 * assert.ok(tally.rows === 12 && (await Deno.stat(path)).size > 0);
 * await Deno.remove(path);
 * ```
 */
export async function writeCsv(
  path: string | URL,
  options: Partial<GenOptions> = {},
): Promise<Tally> {
  const { stream, tally } = generateCsv(options);
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  await stream.pipeTo(file.writable);
  return await tally;
}

// ---------------------------------------------------------------------------
// Internals

const DEFAULTS: Omit<GenOptions, "defects"> & {
  defects: Partial<DefectRates>;
} = {
  rows: 1000,
  seed: 1,
  header: true,
  delimiter: ";",
  encoding: "utf-8",
  newline: "\n",
  quoteAll: false,
  defects: DEFAULT_DEFECTS,
  coverAll: false,
  chunkRows: 4096,
};

/** Header of the Latin-1 export, then its row of type names. */
const LATIN1_HEADER = [
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
const LATIN1_TYPES = [
  "INT",
  "INT",
  "STRING",
  "CAT",
  "CAT",
  "CAT",
  "CAT",
  "INT",
  "BOOL",
  "STRING",
];

// Natural (non-defect) shares, measured on backup.csv's 6,663 10-field rows.
const EMPTY_ACTOR = 32 / 6663;
const EMPTY_ACTRESS = 1552 / 6663;
const EMPTY_DIRECTOR = 1052 / 6663;
const EMPTY_IMAGE = 4 / 6663;
const AWARDS_YES = 660 / 6663;
const ACCENTED = 8 / 6684; // intact é/ö that survived the export
// Year and length deciles (min, 10 %, …, max); the last year bucket is
// stretched to 2024 so valid years stay valid.
const YEAR_DECILES = [
  1920,
  1949,
  1961,
  1971,
  1978,
  1983,
  1986,
  1988,
  1990,
  1991,
  2024,
];
const LENGTH_DECILES = [62, 80, 89, 93, 97, 102, 107, 112, 120, 132, 180];

// Bits of a rendered movie.
const SHORT = 1 << 0;
const EXTRA = 1 << 1;
const MISSING = 1 << 2;
const FFFD = 1 << 3;
const YEAR = 1 << 4;
const POP = 1 << 5;
const AWARDS = 1 << 6;
const IMAGE = 1 << 7;
const NO_TITLE = 1 << 8;
const TRAILING = 1 << 9;
const NO_LENGTH = 1 << 10;
const NO_POP = 1 << 11;
const QUOTED = 1 << 12;
const ACCENT = 1 << 13;
const SHAPE = SHORT | EXTRA | MISSING;
const FAULT = FFFD | YEAR | POP | AWARDS | IMAGE | NO_TITLE;

type Resolved = GenOptions & { defects: DefectRates };
/** Resolved options plus what every row needs, computed once. */
type Plan = Resolved & {
  faults: readonly (readonly [number, number])[];
  special: RegExp;
};

function makePlan(o: Resolved): Plan {
  const d = o.defects;
  return {
    ...o,
    faults: [
      [FFFD, d.fffd],
      [YEAR, d.year_range],
      [POP, d.popularity_range],
      [AWARDS, d.awards],
      [IMAGE, d.image],
      [NO_TITLE, d.empty_title],
    ],
    special: o.delimiter === ";" ? /[;"\r\n]/ : /[,"\r\n]/,
  };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** A well-mixed 32-bit seed for movie `index` (murmur3's finaliser). */
function mix(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function pick<T>(r: Random, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

/** A sampler for `[value, weight]` pairs. */
function weighted(pairs: readonly (readonly [string, number])[]) {
  const total = pairs.reduce((sum, [, w]) => sum + w, 0);
  let running = 0;
  const cumulative = pairs.map(([, w]) => (running += w) / total);
  return (r: Random): string => {
    const u = r();
    for (let i = 0; i < cumulative.length; i++) {
      if (u < cumulative[i]) return pairs[i][0];
    }
    return pairs[pairs.length - 1][0];
  };
}

const pickSubject = weighted(SUBJECTS);
const pickImage = weighted(IMAGES);

function fromDeciles(r: Random, deciles: readonly number[]): number {
  const d = Math.floor(r() * 10);
  const lo = deciles[d], hi = deciles[d + 1];
  return lo + Math.floor(r() * (hi - lo + 1));
}

function makeTitle(r: Random): string {
  const p = r();
  if (p < 0.17) return r() < 0.7 ? pick(r, NOUNS) : pick(r, PLACES);
  if (p < 0.37) {
    return r() < 0.7
      ? `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}, The`
      : `${pick(r, NOUNS)}, The`;
  }
  if (p < 0.62) return `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`;
  if (p < 0.7) {
    return r() < 0.5
      ? `${pick(r, NOUNS)} of ${pick(r, PLACES)}`
      : `${pick(r, NOUNS)} of the ${pick(r, NOUNS)}`;
  }
  if (p < 0.745) return `${pick(r, GIVEN_NAMES)}'s ${pick(r, NOUNS)}`;
  if (p < 0.79) return `${pick(r, NOUNS)} & ${pick(r, NOUNS)}`;
  if (p < 0.83) {
    return r() < 0.5
      ? `A ${pick(r, NOUNS)} in ${pick(r, PLACES)}`
      : `A ${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`;
  }
  if (p < 0.845) {
    return `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)} ${
      2 + Math.floor(r() * 3)
    }`;
  }
  if (p < 0.86) {
    return `${pick(r, NOUNS)}: ${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`;
  }
  return `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)} of ${pick(r, PLACES)}`;
}

function makeName(r: Random): string {
  const p = r();
  if (p < 0.01) return pick(r, STAGE_NAMES);
  let surname = pick(r, SURNAMES);
  if (p < 0.023) surname = `${surname}-${pick(r, SURNAMES)}`;
  let given = pick(r, GIVEN_NAMES);
  if (r() < 0.05) {
    given = `${given} ${String.fromCharCode(65 + Math.floor(r() * 26))}.`;
  }
  return r() < 0.0006 ? `${surname},${given}` : `${surname}, ${given}`;
}

function makeAccentedName(r: Random): string {
  const given = r() < 0.5 ? pick(r, ACCENTED_GIVEN) : pick(r, GIVEN_NAMES);
  return `${pick(r, ACCENTED_SURNAMES)}, ${given}`;
}

/** What the export's broken names look like: each non-ASCII letter → `�`. */
function breakName(name: string): string {
  return name.replace(/[\u0080-\uffff]/g, "\uFFFD");
}

const YEAR_LOW = 1700, YEAR_HIGH = 2101;
const BAD_AWARDS = ["maybe", "Maybe", "unknown", "Both"];
const BAD_EXTENSIONS = [".gif", ".bmp", ".webp", ".tiff", ""];

type Forced = CoverKind | undefined;

/** A movie's fields as first drawn, before its defects. */
interface Movie {
  year: number;
  length: string;
  title: string;
  subject: string;
  /** Actor, actress, director. */
  names: string[];
  popularity: string;
  awards: string;
  image: string;
  /** Which name holds an intact accented name, or -1. */
  accented: number;
}

/** A movie's defects as drawn (or forced). */
interface Defects {
  /** One of SHORT, EXTRA, MISSING, or 0. */
  shape: number;
  /** One of the FAULT bits, or 0. */
  fault: number;
  trailing: boolean;
  noLength: boolean;
  noPop: boolean;
  quoted: boolean;
  yearHigh: boolean;
  popHigh: boolean;
  /** The first bad value of its list (`maybe`, `.gif`), not a drawn one. */
  exactBad: boolean;
  /** Draws that place the defect (which name, which field, which value). */
  uDetail: number;
  uDetail2: number;
}

/** Movie `index` as one rendered line (no newline) and its bits. */
function renderMovie(
  o: Plan,
  index: number,
  forced: Forced,
): { line: string; bits: number } {
  const r = seededRandom(mix(o.seed, index));
  // The base record: same draws whatever the options, so the variants of
  // one seed hold the same movies. Then the defect draws, always all of them.
  // The order of every draw fixes the bytes (tests/gen_test.ts holds
  // data/sample.csv to them): keep it when changing these steps.
  const movie = drawMovie(r);
  const defects = drawDefects(r, o);
  if (forced !== undefined) force(forced, movie, defects, r);
  if (defects.shape !== 0) {
    // Shifted and cut rows carry no other defect, so their tally is exact.
    defects.fault = 0;
    clearStyles(defects);
  }
  let bits = defects.shape;
  if (defects.fault !== 0) {
    bits |= APPLY_FAULT[defects.fault](o, movie, defects, r);
  }
  bits |= applyStyles(movie, defects);
  return { line: layoutLine(o, movie, defects), bits };
}

function drawMovie(r: Random): Movie {
  const year = fromDeciles(r, YEAR_DECILES);
  const length = r() < 0.003
    ? String(5 + Math.floor(r() * 446))
    : String(fromDeciles(r, LENGTH_DECILES));
  const title = makeTitle(r);
  const subject = pickSubject(r);
  const names = [
    r() < EMPTY_ACTOR ? "" : makeName(r),
    r() < EMPTY_ACTRESS ? "" : makeName(r),
    r() < EMPTY_DIRECTOR ? "" : makeName(r),
  ];
  const popularity = String(Math.floor(r() * 101));
  const awards = r() < AWARDS_YES ? "Yes" : "No";
  const image = drawImage(r);
  let accented = -1;
  if (r() < ACCENTED) {
    accented = Math.floor(r() * 3);
    names[accented] = makeAccentedName(r);
  }
  return {
    year,
    length,
    title,
    subject,
    names,
    popularity,
    awards,
    image,
    accented,
  };
}

function drawImage(r: Random): string {
  const image = pickImage(r);
  const style = r();
  if (style < EMPTY_IMAGE) return "";
  if (style < 0.02) return image.replace(/\.png$/, ".jpg");
  if (style < 0.025) return image.replace(/\.png$/, ".jpeg");
  return image;
}

function drawDefects(r: Random, o: Plan): Defects {
  const d = o.defects;
  const uShape = r(), uFault = r(), uDetail = r(), uDetail2 = r();
  const uTrailing = r(), uLength = r(), uPop = r(), uQuoted = r();
  return {
    shape: shapeOf(uShape, d),
    fault: faultOf(uFault, o.faults),
    trailing: uTrailing < d.trailing_space,
    noLength: uLength < d.empty_length,
    noPop: uPop < d.empty_popularity,
    quoted: uQuoted < d.quoted,
    yearHigh: uDetail < 0.5,
    popHigh: uDetail < 0.8,
    exactBad: false,
    uDetail,
    uDetail2,
  };
}

/** The shape defect a uniform draw `u` falls on (they exclude one another). */
function shapeOf(u: number, d: DefectRates): number {
  if (u < d.short) return SHORT;
  if (u < d.short + d.extra_field) return EXTRA;
  if (u < d.short + d.extra_field + d.missing_field) return MISSING;
  return 0;
}

/** The fault a uniform draw `u` falls on (they exclude one another). */
function faultOf(u: number, faults: Plan["faults"]): number {
  let cut = u;
  for (const [bit, rate] of faults) {
    if (cut < rate) return bit;
    cut -= rate;
  }
  return 0;
}

function clearStyles(defects: Defects): void {
  defects.trailing =
    defects.noLength =
    defects.noPop =
    defects.quoted =
      false;
}

/** The kind `coverAll` forces on this movie, in place of its own draws. */
function force(kind: CoverKind, movie: Movie, defects: Defects, r: Random) {
  defects.shape = 0;
  defects.fault = 0;
  clearStyles(defects);
  FORCE[kind](movie, defects, r);
}

/** How each kind of `coverAll` is forced (some draw a name on the way). */
const FORCE: Readonly<
  Record<CoverKind, (movie: Movie, defects: Defects, r: Random) => void>
> = {
  short: (_, x) => x.shape = SHORT,
  extra_field: (_, x) => x.shape = EXTRA,
  missing_field: (_, x) => x.shape = MISSING,
  fffd: (_, x) => x.fault = FFFD,
  trailing_space: (movie, x, r) => {
    x.trailing = true;
    if (movie.names.join("") === "") movie.names[2] = makeName(r);
  },
  empty_length: (_, x) => x.noLength = true,
  empty_popularity: (_, x) => x.noPop = true,
  quoted: (_, x) => x.quoted = true,
  year_low: (_, x) => {
    x.fault = YEAR;
    x.yearHigh = false;
  },
  year_high: (_, x) => {
    x.fault = YEAR;
    x.yearHigh = true;
  },
  popularity_high: (_, x) => {
    x.fault = POP;
    x.popHigh = true;
  },
  awards: (_, x) => {
    x.fault = AWARDS;
    x.exactBad = true;
  },
  image: (_, x) => {
    x.fault = IMAGE;
    x.exactBad = true;
  },
  empty_title: (_, x) => x.fault = NO_TITLE,
  accented: (movie, _, r) => {
    movie.accented = 0;
    movie.names[0] = makeAccentedName(r);
  },
};

/** Breaks the movie by its fault; the bits it shows in the output. */
type FaultStep = (o: Plan, movie: Movie, x: Defects, r: Random) => number;

const APPLY_FAULT: Readonly<Record<number, FaultStep>> = {
  [FFFD]: (o, movie, x, r) => {
    const which = x.uDetail < 0.58 ? 0 : x.uDetail < 0.73 ? 1 : 2;
    const name = makeAccentedName(r);
    if (o.encoding !== "utf-8") {
      movie.names[which] = name; // windows-1252 has no U+FFFD: keep the accents
      movie.accented = which;
      return 0;
    }
    movie.names[which] = breakName(name);
    if (movie.accented === which) movie.accented = -1;
    return FFFD;
  },
  [YEAR]: (_, movie, x) => {
    movie.year = x.yearHigh
      ? YEAR_HIGH + Math.floor(x.uDetail2 * 99)
      : YEAR_LOW + Math.floor(x.uDetail2 * 188);
    return YEAR;
  },
  [POP]: (_, movie, x) => {
    movie.popularity = x.popHigh
      ? String(101 + Math.floor(x.uDetail2 * 150))
      : String(-1 - Math.floor(x.uDetail2 * 20));
    x.noPop = false; // an empty popularity would hide the fault
    return POP;
  },
  [AWARDS]: (_, movie, x, r) => {
    movie.awards = x.exactBad ? "maybe" : pick(r, BAD_AWARDS);
    return AWARDS;
  },
  [IMAGE]: (_, movie, x, r) => {
    const base = (movie.image || pickImage(r)).replace(/\.(png|jpg|jpeg)$/, "");
    movie.image = base + (x.exactBad ? ".gif" : pick(r, BAD_EXTENSIONS));
    return IMAGE;
  },
  [NO_TITLE]: (_, movie) => {
    movie.title = "";
    return NO_TITLE;
  },
};

/** Applies the defects that leave a row valid; their bits (and ACCENT). */
function applyStyles(movie: Movie, x: Defects): number {
  const names = movie.names;
  let bits = 0;
  const accented = movie.accented;
  if (accented >= 0 && /[\u0080-\uffff]/.test(names[accented]) && !x.shape) {
    bits |= ACCENT;
  }
  if (x.trailing) {
    const which = names[2] ? 2 : names[0] ? 0 : names[1] ? 1 : -1;
    if (which >= 0) {
      names[which] += " ";
      bits |= TRAILING;
    }
  }
  if (x.noLength) {
    movie.length = "";
    bits |= NO_LENGTH;
  }
  if (x.noPop) {
    movie.popularity = "";
    bits |= NO_POP;
  }
  if (x.quoted) bits |= QUOTED;
  return bits;
}

/** The movie's line: cut short, shifted by a field, or the 10 fields. */
function layoutLine(o: Plan, movie: Movie, x: Defects): string {
  if (x.shape === SHORT) return `${movie.year}${o.delimiter}`;
  const fields = [
    String(movie.year),
    movie.length,
    movie.title,
    movie.subject,
    movie.names[0],
    movie.names[1],
    movie.names[2],
    movie.popularity,
    movie.awards,
    movie.image,
  ];
  if (x.shape === EXTRA) fields.splice(3 + Math.floor(x.uDetail * 5), 0, "");
  if (x.shape === MISSING) fields.splice(3 + Math.floor(x.uDetail * 4), 1);
  return joinFields(o, fields, x.quoted ? 2 : -1);
}

/** Joins fields, quoting where needed (and field `force`, the title). */
function joinFields(o: Plan, fields: string[], force: number): string {
  const delim = o.delimiter, special = o.special;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (o.quoteAll || i === force || special.test(f)) {
      fields[i] = `"${f.replaceAll('"', '""')}"`;
    }
  }
  return fields.join(delim);
}

function headerRows(o: Plan): string[] {
  if (!o.header) return [];
  const rows = o.encoding === "utf-8"
    ? [[...COLUMNS]]
    : [[...LATIN1_HEADER], [...LATIN1_TYPES]];
  return rows.map((fields) => joinFields(o, fields, -1));
}

function* chunkGenerator(
  resolved: Resolved,
  tally: Tally,
): Generator<Uint8Array, Tally, void> {
  const run = new Run(makePlan(resolved));
  const o = run.o;
  const encode = o.encoding === "utf-8"
    ? (text: string) => encoder.encode(text)
    : encodeWindows1252;
  const header = headerRows(o);
  while (run.row < o.rows || header.length > 0) {
    const lines: string[] = header.splice(0);
    run.lines(Math.min(o.rows, run.row + o.chunkRows), lines);
    lines.push("");
    run.writeTally(tally);
    yield encode(lines.join(o.newline));
  }
  run.writeTally(tally);
  return tally;
}

/** Movies in the catalogue: at least two (if two rows), so copies are never adjacent. */
function catalogueSize(o: Plan): number {
  return Math.max(
    1,
    Math.min(o.rows, 2),
    Math.round(o.rows * (1 - o.defects.duplicate)),
  );
}

/** The movie `coverAll` forces each kind on, spread over the catalogue. */
function forcedMovies(o: Plan, catalogue: number): Map<number, CoverKind> {
  const forced = new Map<number, CoverKind>();
  if (!o.coverAll) return forced;
  const k = COVER_KINDS.length;
  if (catalogue >= k) {
    COVER_KINDS.forEach((kind, i) =>
      forced.set(Math.floor((i + 0.5) * catalogue / k), kind)
    );
  } else {
    for (let i = 0; i < catalogue; i++) forced.set(i, COVER_KINDS[i]);
  }
  return forced;
}

/** One generation: where it is, and the counts of what it wrote. */
class Run {
  readonly catalogue: number;
  readonly forced: Map<number, CoverKind>;
  /** The line `coverAll` makes blank, or -1. */
  readonly forcedBlank: number;
  readonly blankRandom: Random;
  /** Counts of the rendered bits, in {@linkcode BIT_KINDS} order. */
  readonly counts = new Float64Array(BIT_KINDS.length);
  row = 0;
  dataLine = 0;
  valid = 0;
  invalid = 0;
  blank = 0;
  duplicate = 0;
  validMovies = 0;

  constructor(readonly o: Plan) {
    this.catalogue = catalogueSize(o);
    this.forced = forcedMovies(o, this.catalogue);
    this.forcedBlank = o.coverAll ? Math.floor(o.rows / 2) : -1;
    this.blankRandom = seededRandom(mix(o.seed, 0xfffffffe));
  }

  /** Appends the lines up to row `end` (excluded). */
  lines(end: number, lines: string[]): void {
    const blankRate = this.o.defects.blank;
    for (; this.row < end; this.row++) {
      const isBlank = this.blankRandom() < blankRate ||
        this.row === this.forcedBlank;
      if (isBlank) {
        lines.push("");
        this.blank++;
      } else {
        lines.push(this.dataRow());
      }
    }
  }

  /** The next data line: the next movie of the catalogue, counted. */
  dataRow(): string {
    const movie = this.dataLine % this.catalogue;
    const copy = this.dataLine >= this.catalogue;
    if (copy) this.duplicate++;
    this.dataLine++;
    const { line, bits } = renderMovie(this.o, movie, this.forced.get(movie));
    if (bits & SHAPE) {
      /* counted by its bit */
    } else if (bits & FAULT) this.invalid++;
    else {
      this.valid++;
      if (!copy) this.validMovies++;
    }
    for (let b = bits, i = 0; b !== 0; b >>>= 1, i++) {
      if (b & 1) this.counts[i]++;
    }
    return line;
  }

  writeTally(tally: Tally): void {
    BIT_KINDS.forEach((kind, i) => tally[kind] = this.counts[i]);
    tally.rows = this.row;
    tally.data = this.dataLine;
    tally.blank = this.blank;
    tally.valid = this.valid;
    tally.invalid = this.invalid;
    tally.duplicate = this.duplicate;
    tally.movies = this.dataLine - this.duplicate;
    tally.valid_movies = this.validMovies;
  }
}

const encoder = new TextEncoder();
