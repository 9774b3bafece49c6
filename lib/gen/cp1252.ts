/**
 * A windows-1252 encoder (the WHATWG "windows-1252" index, the inverse of
 * `new TextDecoder("windows-1252")`), for the generator's Latin-1 variant.
 * `TextEncoder` only speaks UTF-8.
 *
 * @module
 */

/** Bytes 0x80–0x9F: the code point each one decodes to. */
const HIGH_C1: readonly number[] = [
  0x20ac,
  0x81,
  0x201a,
  0x192,
  0x201e,
  0x2026,
  0x2020,
  0x2021,
  0x2c6,
  0x2030,
  0x160,
  0x2039,
  0x152,
  0x8d,
  0x17d,
  0x8f,
  0x90,
  0x2018,
  0x2019,
  0x201c,
  0x201d,
  0x2022,
  0x2013,
  0x2014,
  0x2dc,
  0x2122,
  0x161,
  0x203a,
  0x153,
  0x9d,
  0x17e,
  0x178,
];

const SPECIAL: ReadonlyMap<number, number> = new Map(
  HIGH_C1.map((code, i) => [code, 0x80 + i]),
);

/**
 * Encodes a string as windows-1252 bytes; throws a `RangeError` on a
 * character that has no windows-1252 byte (U+FFFD, `ř`, emoji, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWindows1252 } from "./cp1252.ts";
 * const bytes = encodeWindows1252("Café €5");
 * assert.ok(bytes.length === 7 && bytes[3] === 0xe9 && bytes[5] === 0x80);
 * assert.ok(new TextDecoder("windows-1252").decode(bytes) === "Café €5");
 * ```
 */
export function encodeWindows1252(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) {
      out[i] = code;
      continue;
    }
    const byte = SPECIAL.get(code);
    if (byte === undefined) {
      throw new RangeError(
        `character U+${
          code.toString(16).toUpperCase().padStart(4, "0")
        } at index ${i} has no windows-1252 byte`,
      );
    }
    out[i] = byte;
  }
  return out;
}
