/**
 * Row identity by content. A row's key is a 96-bit digest of the exact JSON
 * body that is sent (the first 96 bits of its XXH3-128, over its UTF-8
 * bytes) plus its occurrence
 * number among equal bodies in this input: the 4th copy of a movie is a
 * different row from the 3rd. Keys do not depend on line numbers, file
 * names or times, so they stay the same across retries, reruns, `touch`,
 * copies, appends, edits elsewhere in the file and a re-imported rejects
 * file.
 *
 * {@link RowKeys} holds, in typed arrays, every distinct body seen in this
 * input (to number the occurrences) and every key an earlier run delivered
 * (loaded from the ledger): 14 bytes a slot.
 *
 * @module
 */

import { hash } from "node:crypto";
import { createXXHash128 } from "./_deps.ts";

/** A row's key: the body's digest as three 32-bit words, and the occurrence. */
export interface RowKey {
  /** The digest's first 32 bits. */
  d0: number;
  /** The digest's next 32 bits. */
  d1: number;
  /** The digest's last 32 bits. */
  d2: number;
  /** Equal bodies before this one in the input (0 for the first). */
  k: number;
}

/** How the digest is made; written into the ledger's header. */
export const DIGEST = "xxh128/96";

// One hasher for the process (WebAssembly, instantiated once when this
// module loads); each call below uses it from start to end, synchronously.
const hasher = await createXXHash128();
const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/**
 * The body's digest as three 32-bit words (`k` is 0: set it from
 * {@link RowKeys.occur}): the first 96 bits of the XXH3-128 of its UTF-8
 * bytes (hash-wasm, WebAssembly). A non-cryptographic hash: two different
 * bodies share those 96 bits with a chance of about n² / 2⁹⁷ (10⁻¹⁶ for ten
 * million rows) — accidents, not attacks, are what the ledger guards
 * against. It costs about a microsecond a row, a third of SHA-256 through
 * `node:crypto`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyDigest } from "./identity.ts";
 * assert.deepEqual(bodyDigest('{"title":"Heat"}'), bodyDigest('{"title":"Heat"}'));
 * assert.notDeepEqual(bodyDigest('{"title":"Heat"}'), bodyDigest('{"title":"Heat "}'));
 * assert.notDeepEqual(bodyDigest('{"a":"é"}'), bodyDigest('{"a":"e"}'));
 * ```
 */
export function bodyDigest(body: string): RowKey {
  if (body.length * 3 > scratch.length) {
    scratch = new Uint8Array(body.length * 3);
  }
  const { written } = encoder.encodeInto(body, scratch);
  hasher.init();
  hasher.update(scratch.subarray(0, written));
  const d = hasher.digest("binary");
  return {
    d0: ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0,
    d1: ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0,
    d2: ((d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11]) >>> 0,
    k: 0,
  };
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
const hex8 = (w: number) =>
  HEX[(w >>> 24) & 0xff] + HEX[(w >>> 16) & 0xff] + HEX[(w >>> 8) & 0xff] +
  HEX[w & 0xff];

/**
 * A key as the ledger writes it (without the newline): 24 hex digits, a
 * space, the occurrence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyText } from "./identity.ts";
 * assert.equal(keyText({ d0: 1, d1: 0xabcdef01, d2: 0xffffffff, k: 3 }), "00000001abcdef01ffffffff 3");
 * ```
 */
export function keyText(key: RowKey): string {
  return `${hex8(key.d0)}${hex8(key.d1)}${hex8(key.d2)} ${key.k}`;
}

/** The value of an ASCII hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Reads one ledger line (`bytes[start..end)`, without its newline) into
 * `out`; false when it is not exactly a key line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKeyLine, type RowKey } from "./identity.ts";
 * const line = new TextEncoder().encode("00000001abcdef01ffffffff 12");
 * const out: RowKey = { d0: 0, d1: 0, d2: 0, k: 0 };
 * assert.ok(parseKeyLine(line, 0, line.length, out));
 * assert.deepEqual(out, { d0: 1, d1: 0xabcdef01, d2: 0xffffffff, k: 12 });
 * assert.ok(!parseKeyLine(line, 0, 20, out));
 * ```
 */
export function parseKeyLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: RowKey,
): boolean {
  if (end - start < 26 || end - start > 34 || bytes[start + 24] !== 32) {
    return false;
  }
  const words = [0, 0, 0];
  for (let i = 0; i < 24; i++) {
    const v = hexValue(bytes[start + i]);
    if (v < 0) return false;
    words[i >> 3] = words[i >> 3] * 16 + v;
  }
  let k = 0;
  for (let i = start + 25; i < end; i++) {
    const c = bytes[i];
    if (c < 48 || c > 57) return false;
    k = k * 10 + (c - 48);
  }
  [out.d0, out.d1, out.d2] = words;
  out.k = k;
  return true;
}

/**
 * The `Idempotency-Key` of a row for a destination: the URL's tag (see
 * {@link urlTag}) and the row's key. The same across retries and reruns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { idempotencyKey, urlTag } from "./identity.ts";
 * const tag = urlTag("http://localhost:9009/movies");
 * const key = idempotencyKey(tag, { d0: 1, d1: 2, d2: 3, k: 0 });
 * assert.equal(key, `${tag}-000000010000000200000003-0`);
 * ```
 */
export function idempotencyKey(tag: string, key: RowKey): string {
  return `${tag}-${hex8(key.d0)}${hex8(key.d1)}${hex8(key.d2)}-${key.k}`;
}

/**
 * A short tag for a URL (8 hex digits of the SHA-256 of its normal form:
 * `http://LOCALHOST:80/movies` is `http://localhost/movies`), for
 * idempotency keys and ledger file names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlTag } from "./identity.ts";
 * assert.match(urlTag("http://localhost:9009/movies"), /^[0-9a-f]{8}$/);
 * assert.notEqual(urlTag("http://a/movies"), urlTag("http://a/films"));
 * assert.equal(urlTag("http://LOCALHOST:80/movies"), urlTag("http://localhost/movies"));
 * ```
 */
export function urlTag(url: string): string {
  return hash("sha256", new URL(url).href, "hex").slice(0, 8);
}

/** Options for {@link RowKeys}. */
export interface RowKeysOptions {
  /** Slots to start with (grows as needed). @default 1024 */
  capacity?: number;
  /** Also remember each body's first line, for "duplicate of line N". @default false */
  firstLines?: boolean;
}

/** A slot's meta word: in use, ledger bits for occurrences 0..6, seen count. */
const IN_USE = 0x8000;
const LEDGER_SHIFT = 8;
const LEDGER_BITS = 7;
const SEEN_MAX = 0xff;
/** The table grows past this share of slots in use. */
const MAX_LOAD = 0.875;

/**
 * The bodies seen in this input and the keys delivered by earlier runs, in
 * one open-addressing table (linear probing) of 96-bit digests: 12 bytes of
 * digest and a 2-byte meta word a slot, kept at most 87.5 % full. Rare cases
 * (a body seen more than 255 times, a delivered occurrence above 6) spill
 * into small maps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyDigest, RowKeys } from "./identity.ts";
 * const keys = new RowKeys();
 * const d = bodyDigest('{"title":"Heat"}');
 * keys.markDelivered({ ...d, k: 1 });         // an earlier run delivered the 2nd copy
 * assert.equal(keys.occur(d, 2), 0);          // first copy in this input, line 2
 * assert.equal(keys.lastDelivered(0), false);
 * assert.equal(keys.occur(d, 7), 1);          // second copy, line 7
 * assert.equal(keys.lastDelivered(1), true);
 * ```
 */
export class RowKeys {
  #capacity: number;
  #words: Uint32Array;
  #meta: Uint16Array;
  #first: Uint32Array | null;
  #used = 0;
  #last = -1;
  #seenOverflow = new Map<string, number>();
  #deliveredOverflow = new Set<string>();
  /** Keys marked delivered. */
  delivered = 0;

  constructor(options: RowKeysOptions = {}) {
    this.#capacity = Math.max(16, Math.ceil(options.capacity ?? 1024));
    this.#words = new Uint32Array(this.#capacity * 3);
    this.#meta = new Uint16Array(this.#capacity);
    this.#first = options.firstLines ? new Uint32Array(this.#capacity) : null;
  }

  /** Distinct digests held. */
  get size(): number {
    return this.#used;
  }

  /** Bytes of typed arrays held. */
  get byteLength(): number {
    return this.#words.byteLength + this.#meta.byteLength +
      (this.#first?.byteLength ?? 0);
  }

  /** Records that an earlier run delivered this key. */
  markDelivered(key: RowKey): void {
    const slot = this.#find(key.d0, key.d1, key.d2, true);
    if (key.k < LEDGER_BITS) {
      const bit = 1 << (LEDGER_SHIFT + key.k);
      if ((this.#meta[slot] & bit) !== 0) return;
      this.#meta[slot] |= bit;
    } else {
      const name = `${spill(key)}:${key.k}`;
      if (this.#deliveredOverflow.has(name)) return;
      this.#deliveredOverflow.add(name);
    }
    this.delivered++;
  }

  /**
   * Counts one more row with this body (first seen at `line`) and returns
   * its occurrence number: 0 for the first.
   */
  occur(digest: RowKey, line: number): number {
    const slot = this.#find(digest.d0, digest.d1, digest.d2, true);
    this.#last = slot;
    const seen = this.#meta[slot] & SEEN_MAX;
    if (seen === 0 && this.#first !== null) this.#first[slot] = line;
    if (seen < SEEN_MAX) {
      this.#meta[slot]++;
      return seen;
    }
    const name = spill(digest);
    const more = this.#seenOverflow.get(name) ?? 0;
    this.#seenOverflow.set(name, more + 1);
    return SEEN_MAX + more;
  }

  /** Whether the row just counted by {@link occur}, occurrence `k`, was delivered earlier. */
  lastDelivered(k: number): boolean {
    if (k < LEDGER_BITS) {
      return (this.#meta[this.#last] & (1 << (LEDGER_SHIFT + k))) !== 0;
    }
    const at = this.#last * 3, w = this.#words;
    return this.#deliveredOverflow.has(
      `${w[at]}:${w[at + 1]}:${w[at + 2]}:${k}`,
    );
  }

  /** The first line of the body just counted by {@link occur} (needs `firstLines`). */
  lastFirstLine(): number {
    return this.#first?.[this.#last] ?? 0;
  }

  #find(d0: number, d1: number, d2: number, insert: boolean): number {
    let i = this.#probe(d0, d1, d2);
    if (this.#meta[i] !== 0) return i;
    if (!insert) return -1;
    // Grown only for a digest not held yet: a lookup never grows it.
    if (this.#used + 1 > this.#capacity * MAX_LOAD) {
      this.#grow();
      i = this.#probe(d0, d1, d2);
    }
    const at = i * 3;
    this.#words[at] = d0;
    this.#words[at + 1] = d1;
    this.#words[at + 2] = d2;
    this.#meta[i] = IN_USE;
    this.#used++;
    return i;
  }

  /** The slot holding this digest, or the empty slot where it would go. */
  #probe(d0: number, d1: number, d2: number): number {
    const cap = this.#capacity, w = this.#words, meta = this.#meta;
    let i = Math.floor((d0 >>> 0) / 4294967296 * cap);
    while (meta[i] !== 0) {
      const at = i * 3;
      if (w[at] === d0 && w[at + 1] === d1 && w[at + 2] === d2) return i;
      if (++i === cap) i = 0;
    }
    return i;
  }

  #grow(): void {
    const old = { words: this.#words, meta: this.#meta, first: this.#first };
    const oldCapacity = this.#capacity;
    this.#capacity = Math.ceil(oldCapacity * 1.25) + 1;
    this.#words = new Uint32Array(this.#capacity * 3);
    this.#meta = new Uint16Array(this.#capacity);
    this.#first = old.first && new Uint32Array(this.#capacity);
    this.#used = 0;
    for (let j = 0; j < oldCapacity; j++) {
      if (old.meta[j] === 0) continue;
      const at = j * 3;
      const i = this.#find(
        old.words[at],
        old.words[at + 1],
        old.words[at + 2],
        true,
      );
      this.#meta[i] = old.meta[j];
      if (this.#first && old.first) this.#first[i] = old.first[j];
    }
  }
}

/** The overflow maps' name for a digest. */
function spill(key: RowKey): string {
  return `${key.d0 >>> 0}:${key.d1 >>> 0}:${key.d2 >>> 0}`;
}
