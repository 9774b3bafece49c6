/**
 * Decodes a request body into a {@link Film} exactly as Go's
 * `json.Unmarshal(body, &film)` does, with Go's error messages.
 *
 * Like Go, decoding works on the raw bytes in two passes:
 *
 * 1. `checkValid`: a port of `encoding/json`'s scanner state machine. Any
 *    syntax error anywhere wins over type errors, with Go's wording
 *    (`invalid character 'x' after object key`, `unexpected end of JSON
 *    input`, ...), including Go's quirk of naming a non-ASCII byte as the
 *    Latin-1 character of the same value (a stray `é` is reported as `'Ã'`).
 * 2. The decode proper: keys match field names exactly or case-insensitively
 *    (Go's simple folding, so `"ſubject"` fills `subject`), unknown keys are
 *    skipped, `null` leaves a field unchanged, the last duplicate wins, and
 *    the first type error is reported after the whole body was walked.
 *
 * Strings are unquoted like Go's `unquoteBytes`: escapes are resolved, an
 * escaped lone surrogate becomes U+FFFD, and every byte that does not start
 * a well-formed UTF-8 sequence becomes one U+FFFD (Go's `utf8.DecodeRune`
 * consumes one byte on error, unlike `TextDecoder`, which replaces a whole
 * maximal subpart with one U+FFFD). So decoded strings are always valid
 * Unicode, which is what makes the service's "not valid utf8" rule
 * unreachable (see `rules.ts`).
 *
 * @module
 */

import { FILM_FIELDS, type FilmField, zeroFilm } from "./film.ts";
import type { Film } from "./film.ts";

/**
 * The outcome of {@link decodeFilm}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFilm, type FilmDecodeResult } from "./go_json.ts";
 * const result: FilmDecodeResult = decodeFilm(new TextEncoder().encode("{}"));
 * assert.ok(result.ok && result.film.title === "");
 * ```
 */
export type FilmDecodeResult =
  | { ok: true; film: Film }
  | { ok: false; error: string };

// ---------------------------------------------------------------------------
// Pass 1: Go's scanner (encoding/json/scanner.go), returning the error text.
//
// A transcription of Go's step functions, one function per state with Go's
// name: each reads one byte and sets the step for the next one. A step that
// hands the byte on to another (Go's `return stateX(s, c)`) sets that step
// first and calls it. Go's scan codes are reduced to true (go on) and false
// (a syntax error, its text in `s.error`).

const QUOTE_ESCAPES: Record<number, string> = {
  0x07: "\\a",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x0b: "\\v",
  0x5c: "\\\\",
};

/**
 * Go's `quoteChar`: how the scanner names a byte in an error message. A
 * byte is shown as the code point of the same value (so byte 0xC3 shows as
 * `'Ã'`), quoted like `strconv.Quote` would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteChar } from "./go_json.ts";
 * assert.ok(quoteChar(0x78) === "'x'");
 * assert.ok(quoteChar(0x0a) === "'\\n'");
 * assert.ok(quoteChar(0xc3) === "'Ã'");
 * ```
 */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const escape = QUOTE_ESCAPES[c];
  if (escape !== undefined) return `'${escape}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, "0")}'`;
  // strconv.IsPrint is false for U+0080..U+00A0 and U+00AD.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) {
    return `'\\u${c.toString(16).padStart(4, "0")}'`;
  }
  return `'${String.fromCharCode(c)}'`;
}

const MAX_NESTING_DEPTH = 10000;

// Parse states of the nesting stack.
const PARSE_OBJECT_KEY = 0;
const PARSE_OBJECT_VALUE = 1;
const PARSE_ARRAY_VALUE = 2;

/** Go's `scanner`: the step of the next byte, the nesting, the error. */
interface Scanner {
  step: Step;
  parseState: number[];
  endTop: boolean;
  error: string | null;
}

/** One step of the scanner on byte `c`; false on a syntax error. */
type Step = (s: Scanner, c: number) => boolean;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
    (c >= 0x41 && c <= 0x46);
}

/** Go's `s.error`: records the syntax error. */
function fail(s: Scanner, c: number, context: string): false {
  s.error = `invalid character ${quoteChar(c)} ${context}`;
  return false;
}

/** Moves on to `next` (Go's `s.step = next; return scanContinue`). */
function to(s: Scanner, next: Step): true {
  s.step = next;
  return true;
}

/** Hands byte `c` on to `next` (Go's `return next(s, c)`). */
function handOff(s: Scanner, next: Step, c: number): boolean {
  s.step = next;
  return next(s, c);
}

function pushParseState(s: Scanner, c: number, parseState: number): boolean {
  s.parseState.push(parseState);
  return s.parseState.length <= MAX_NESTING_DEPTH ||
    fail(s, c, "exceeded max depth");
}

function popParseState(s: Scanner): true {
  s.parseState.pop();
  if (s.parseState.length > 0) return to(s, stateEndValue);
  s.endTop = true;
  return to(s, stateEndTop);
}

/** After `[`: a value or `]`. */
function stateBeginValueOrEmpty(s: Scanner, c: number): boolean {
  if (isSpace(c)) return true;
  return handOff(s, c === 0x5d ? stateEndValue : stateBeginValue, c);
}

/** The beginning of a value. */
function stateBeginValue(s: Scanner, c: number): boolean {
  if (isSpace(c)) return true;
  if (c === 0x7b) { // {
    s.step = stateBeginStringOrEmpty;
    return pushParseState(s, c, PARSE_OBJECT_KEY);
  }
  if (c === 0x5b) { // [
    s.step = stateBeginValueOrEmpty;
    return pushParseState(s, c, PARSE_ARRAY_VALUE);
  }
  const next = VALUE_STARTS[c];
  if (next !== undefined) return to(s, next);
  return fail(s, c, "looking for beginning of value");
}

/** After `{`: a key or `}`. */
function stateBeginStringOrEmpty(s: Scanner, c: number): boolean {
  if (isSpace(c)) return true;
  if (c !== 0x7d) return handOff(s, stateBeginString, c);
  s.parseState[s.parseState.length - 1] = PARSE_OBJECT_VALUE;
  return handOff(s, stateEndValue, c);
}

/** After `{` or `,` in an object: a key. */
function stateBeginString(s: Scanner, c: number): boolean {
  if (isSpace(c)) return true;
  if (c === 0x22) return to(s, stateInString);
  return fail(s, c, "looking for beginning of object key string");
}

/** After a value: what may follow it where it stands. */
function stateEndValue(s: Scanner, c: number): boolean {
  const n = s.parseState.length;
  if (n === 0) {
    s.endTop = true; // the top-level value ended before this byte
    return handOff(s, stateEndTop, c);
  }
  if (isSpace(c)) return true;
  const parseState = s.parseState[n - 1];
  if (parseState === PARSE_OBJECT_KEY) return endObjectKey(s, c);
  if (parseState === PARSE_OBJECT_VALUE) return endObjectValue(s, c);
  return endArrayValue(s, c);
}

function endObjectKey(s: Scanner, c: number): boolean {
  if (c !== 0x3a) return fail(s, c, "after object key");
  s.parseState[s.parseState.length - 1] = PARSE_OBJECT_VALUE;
  return to(s, stateBeginValue);
}

function endObjectValue(s: Scanner, c: number): boolean {
  if (c === 0x2c) {
    s.parseState[s.parseState.length - 1] = PARSE_OBJECT_KEY;
    return to(s, stateBeginString);
  }
  if (c === 0x7d) return popParseState(s);
  return fail(s, c, "after object key:value pair");
}

function endArrayValue(s: Scanner, c: number): boolean {
  if (c === 0x2c) return to(s, stateBeginValue);
  if (c === 0x5d) return popParseState(s);
  return fail(s, c, "after array element");
}

/** After the top-level value: only spaces. */
function stateEndTop(s: Scanner, c: number): boolean {
  return isSpace(c) || fail(s, c, "after top-level value");
}

/** Inside a string. */
function stateInString(s: Scanner, c: number): boolean {
  if (c === 0x22) return to(s, stateEndValue);
  if (c === 0x5c) return to(s, stateInStringEsc);
  return c >= 0x20 || fail(s, c, "in string literal");
}

/** The bytes that may follow `\` besides `u`: b f n r t \ / ". */
const SIMPLE_ESCAPE_BYTES = new Set([
  0x62,
  0x66,
  0x6e,
  0x72,
  0x74,
  0x5c,
  0x2f,
  0x22,
]);

/** After `\` in a string. */
function stateInStringEsc(s: Scanner, c: number): boolean {
  if (SIMPLE_ESCAPE_BYTES.has(c)) return to(s, stateInString);
  if (c === 0x75) return to(s, stateInStringEscU);
  return fail(s, c, "in string escape code");
}

/** A step that takes one hex digit of `\uXXXX`, then goes to `next`. */
function hexDigit(next: Step): Step {
  return (s, c) =>
    isHex(c) ? to(s, next) : fail(s, c, "in \\u hexadecimal character escape");
}

const stateInStringEscU123 = hexDigit(stateInString);
const stateInStringEscU12 = hexDigit(stateInStringEscU123);
const stateInStringEscU1 = hexDigit(stateInStringEscU12);
const stateInStringEscU = hexDigit(stateInStringEscU1);

/** After `-`. */
function stateNeg(s: Scanner, c: number): boolean {
  if (c === 0x30) return to(s, state0);
  if (c >= 0x31 && c <= 0x39) return to(s, state1);
  return fail(s, c, "in numeric literal");
}

/** In the digits of a number that began with 1..9. */
function state1(s: Scanner, c: number): boolean {
  if (isDigit(c)) return true;
  return handOff(s, state0, c);
}

/** After the integer part of a number. */
function state0(s: Scanner, c: number): boolean {
  if (c === 0x2e) return to(s, stateDot);
  if (c === 0x65 || c === 0x45) return to(s, stateE);
  return handOff(s, stateEndValue, c);
}

/** After the decimal point. */
function stateDot(s: Scanner, c: number): boolean {
  if (isDigit(c)) return to(s, stateDot0);
  return fail(s, c, "after decimal point in numeric literal");
}

/** In the fraction digits. */
function stateDot0(s: Scanner, c: number): boolean {
  if (isDigit(c)) return true;
  if (c === 0x65 || c === 0x45) return to(s, stateE);
  return handOff(s, stateEndValue, c);
}

/** After `e` or `E`. */
function stateE(s: Scanner, c: number): boolean {
  if (c === 0x2b || c === 0x2d) return to(s, stateESign);
  return handOff(s, stateESign, c);
}

/** After the exponent's sign. */
function stateESign(s: Scanner, c: number): boolean {
  if (isDigit(c)) return to(s, stateE0);
  return fail(s, c, "in exponent of numeric literal");
}

/** In the exponent digits. */
function stateE0(s: Scanner, c: number): boolean {
  if (isDigit(c)) return true;
  return handOff(s, stateEndValue, c);
}

/** A step of a literal: expects byte `want`, then goes to `next`. */
function literalByte(want: number, next: Step, word: string): Step {
  const context = `in literal ${word} (expecting ${quoteChar(want)})`;
  return (s, c) => c === want ? to(s, next) : fail(s, c, context);
}

const stateTru = literalByte(0x65, stateEndValue, "true");
const stateTr = literalByte(0x75, stateTru, "true");
const stateT = literalByte(0x72, stateTr, "true");
const stateFals = literalByte(0x65, stateEndValue, "false");
const stateFal = literalByte(0x73, stateFals, "false");
const stateFa = literalByte(0x6c, stateFal, "false");
const stateF = literalByte(0x61, stateFa, "false");
const stateNul = literalByte(0x6c, stateEndValue, "null");
const stateNu = literalByte(0x6c, stateNul, "null");
const stateN = literalByte(0x75, stateNu, "null");

/** What byte starts a scalar value, and the step it leads to. */
const VALUE_STARTS: Readonly<Record<number, Step>> = {
  0x22: stateInString, // "
  0x2d: stateNeg, // -
  0x30: state0, // 0
  0x31: state1, // 1..9
  0x32: state1,
  0x33: state1,
  0x34: state1,
  0x35: state1,
  0x36: state1,
  0x37: state1,
  0x38: state1,
  0x39: state1,
  0x74: stateT, // t
  0x66: stateF, // f
  0x6e: stateN, // n
};

/**
 * Go's `checkValid`: scans the whole body and returns the syntax error Go
 * reports for it, or `null` when it is one well-formed JSON value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkValid } from "./go_json.ts";
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * assert.ok(checkValid(bytes('{"a":[1,2]}')) === null);
 * assert.ok(checkValid(bytes("")) === "unexpected end of JSON input");
 * assert.ok(
 *   checkValid(bytes('{"a" 1}')) === "invalid character '1' after object key",
 * );
 * ```
 */
export function checkValid(data: Uint8Array): string | null {
  const s: Scanner = {
    step: stateBeginValue,
    parseState: [],
    endTop: false,
    error: null,
  };
  const length = data.length;
  for (let i = 0; i < length; i++) {
    if (s.step === stateInString) {
      i = endOfPlainString(data, i);
      if (i === length) break;
    }
    if (!s.step(s, data[i])) return s.error;
  }
  return eof(s);
}

/**
 * A fast path through the body of a string: the index of the first byte
 * from `i` on that `stateInString` must see (a quote, a backslash or a
 * control byte), or the length.
 */
function endOfPlainString(data: Uint8Array, i: number): number {
  const length = data.length;
  for (; i < length; i++) {
    const c = data[i];
    if (c === 0x22 || c === 0x5c || c < 0x20) break;
  }
  return i;
}

/** Go's `scanner.eof()`: feeds a space to finish a trailing number. */
function eof(s: Scanner): string | null {
  if (s.endTop) return null;
  if (!s.step(s, 0x20)) return s.error;
  if (s.endTop) return null;
  return "unexpected end of JSON input";
}

// ---------------------------------------------------------------------------
// Pass 2: decode a body that passed checkValid.

const REPLACEMENT = "\uFFFD";
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

const FIELD_BY_NAME = new Map<string, FilmField>(
  FILM_FIELDS.map((f) => [f.name, f]),
);
const FIELD_BY_FOLDED_NAME = new Map<string, FilmField>(
  FILM_FIELDS.map((f) => [f.name.toUpperCase(), f]),
);

/**
 * Go's `foldName` restricted to what can match an ASCII field name: ASCII
 * letters fold to upper case, and so do the two non-ASCII runes whose
 * simple-fold orbit contains an ASCII letter (U+017F `ſ` → `S`, U+212A
 * Kelvin sign → `K`). Any other non-ASCII rune folds to a non-ASCII rune and
 * can never match, so it is kept as is.
 */
function foldKey(key: string): string {
  let out = "";
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) out += String.fromCharCode(c - 0x20);
    else if (c === 0x17f) out += "S";
    else if (c === 0x212a) out += "K";
    else out += key[i];
  }
  return out;
}

function lookupField(key: string): FilmField | undefined {
  return FIELD_BY_NAME.get(key) ??
    (key.length <= 10 ? FIELD_BY_FOLDED_NAME.get(foldKey(key)) : undefined);
}

/**
 * Go's `utf8.DecodeRune` on `data[i:end]`: the code point, or -1 when the
 * bytes do not start a well-formed sequence (Go then yields U+FFFD and
 * consumes exactly one byte). Returns `codePoint * 8 + size` to avoid
 * allocating a pair.
 */
function decodeRune(data: Uint8Array, i: number, end: number): number {
  const c0 = data[i];
  if (c0 < 0x80) return c0 * 8 + 1;
  if (c0 < 0xc2 || c0 > 0xf4) return -1;
  const size = c0 < 0xe0 ? 2 : c0 < 0xf0 ? 3 : 4;
  if (end - i < size) return -1;
  const c1 = data[i + 1];
  let lo = 0x80, hi = 0xbf;
  if (c0 === 0xe0) lo = 0xa0;
  else if (c0 === 0xed) hi = 0x9f;
  else if (c0 === 0xf0) lo = 0x90;
  else if (c0 === 0xf4) hi = 0x8f;
  if (c1 < lo || c1 > hi) return -1;
  if (size === 2) return (((c0 & 0x1f) << 6) | (c1 & 0x3f)) * 8 + 2;
  const c2 = data[i + 2];
  if (c2 < 0x80 || c2 > 0xbf) return -1;
  if (size === 3) {
    return (((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f)) * 8 + 3;
  }
  const c3 = data[i + 3];
  if (c3 < 0x80 || c3 > 0xbf) return -1;
  return (((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) |
        (c3 & 0x3f)) * 8 + 4;
}

function hex4(data: Uint8Array, i: number): number {
  let r = 0;
  for (let k = 0; k < 4; k++) {
    const c = data[i + k];
    r = r * 16 +
      (c <= 0x39 ? c - 0x30 : c <= 0x46 ? c - 0x41 + 10 : c - 0x61 + 10);
  }
  return r;
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: "\\",
  0x2f: "/",
  0x62: "\b",
  0x66: "\f",
  0x6e: "\n",
  0x72: "\r",
  0x74: "\t",
};

/** Go's `unquoteBytes` slow path on the string body `data[start:end]`. */
function unquoteSlow(data: Uint8Array, start: number, end: number): string {
  let out = "";
  let i = start;
  while (i < end) {
    const c = data[i];
    if (c === 0x5c) {
      const e = data[i + 1];
      if (e !== 0x75) {
        out += SIMPLE_ESCAPES[e];
        i += 2;
        continue;
      }
      const r = hex4(data, i + 2);
      i += 6;
      if (r < 0xd800 || r >= 0xe000) {
        out += String.fromCharCode(r);
        continue;
      }
      // A surrogate: only a high one followed by an escaped low one pairs
      // up (utf16.DecodeRune); otherwise U+FFFD, and the next escape is
      // decoded on its own.
      if (
        r < 0xdc00 && i + 6 <= end && data[i] === 0x5c && data[i + 1] === 0x75
      ) {
        const r2 = hex4(data, i + 2);
        if (r2 >= 0xdc00 && r2 < 0xe000) {
          out += String.fromCharCode(r, r2);
          i += 6;
          continue;
        }
      }
      out += REPLACEMENT;
    } else if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
    } else {
      const rune = decodeRune(data, i, end);
      if (rune < 0) {
        out += REPLACEMENT;
        i++;
      } else {
        out += String.fromCodePoint(rune >> 3);
        i += rune & 7;
      }
    }
  }
  return out;
}

/** Decoding state over a body that is known to be valid JSON. */
class Decoder {
  pos = 0;
  error: string | null = null;
  /**
   * The body decoded once; when it has as many UTF-16 units as the body
   * has bytes, unit i is byte i for every ASCII byte (each non-ASCII
   * sequence decodes to fewer units, or to one U+FFFD per lone bad byte),
   * so ASCII runs can be sliced out of it instead of decoded one by one.
   */
  readonly text: string;
  readonly mapped: boolean;

  constructor(readonly data: Uint8Array) {
    this.text = utf8.decode(data);
    this.mapped = this.text.length === data.length;
  }

  /** The ASCII bytes `data[start:end]` as a string. */
  ascii(start: number, end: number): string {
    if (this.mapped) return this.text.slice(start, end);
    let out = "";
    for (let i = start; i < end; i++) out += String.fromCharCode(this.data[i]);
    return out;
  }

  skipSpace(): void {
    const data = this.data;
    let pos = this.pos;
    while (pos < data.length && isSpace(data[pos])) pos++;
    this.pos = pos;
  }

  /** Reads the string at `pos` (its opening quote) the way Go unquotes. */
  string(): string {
    const data = this.data;
    const start = this.pos + 1;
    let i = start;
    let escaped = false;
    let ascii = true;
    for (;;) {
      const c = data[i];
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c >= 0x80) ascii = false;
      i++;
    }
    this.pos = i + 1;
    if (escaped) return unquoteSlow(data, start, i);
    if (ascii) return this.ascii(start, i);
    if (isWellFormedUtf8(data, start, i)) {
      return utf8.decode(data.subarray(start, i));
    }
    return unquoteSlow(data, start, i);
  }

  skipString(): void {
    const data = this.data;
    let i = this.pos + 1;
    for (;;) {
      const c = data[i];
      if (c === 0x22) break;
      i += c === 0x5c ? 2 : 1;
    }
    this.pos = i + 1;
  }

  /** Skips a number or a literal: up to the next delimiter. */
  skipScalar(): void {
    const data = this.data;
    let i = this.pos;
    while (i < data.length) {
      const c = data[i];
      if (c === 0x2c || c === 0x7d || c === 0x5d || isSpace(c)) break;
      i++;
    }
    this.pos = i;
  }

  skipValue(): void {
    const data = this.data;
    const c = data[this.pos];
    if (c === 0x22) return this.skipString();
    if (c !== 0x7b && c !== 0x5b) return this.skipScalar();
    let depth = 0;
    do {
      const b = data[this.pos];
      if (b === 0x22) {
        this.skipString();
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) depth--;
      this.pos++;
    } while (depth > 0);
  }

  typeError(value: string, field: FilmField | null, kind: string): void {
    if (this.error !== null) return; // Go keeps the first error only
    this.error = field === null
      ? `json: cannot unmarshal ${value} into Go value of type ${kind}`
      : `json: cannot unmarshal ${value} into Go struct field film.${field.name} of type ${kind}`;
  }

  top(): Film {
    const film = zeroFilm();
    this.skipSpace();
    const c = this.data[this.pos];
    const kind = "main.film";
    if (c === 0x7b) this.object(film);
    else if (c === 0x5b) this.typeError("array", null, kind);
    else if (c === 0x22) this.typeError("string", null, kind);
    else if (c === 0x74 || c === 0x66) this.typeError("bool", null, kind);
    else if (c !== 0x6e) this.typeError("number", null, kind);
    return film;
  }

  object(film: Film): void {
    const data = this.data;
    this.pos++; // {
    this.skipSpace();
    if (data[this.pos] === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      const key = this.string();
      this.skipSpace();
      this.pos++; // :
      this.skipSpace();
      const field = lookupField(key);
      if (field === undefined) this.skipValue();
      else this.fieldValue(film, field);
      this.skipSpace();
      if (data[this.pos++] !== 0x2c) return; // } ends the object
    }
  }

  fieldValue(film: Film, field: FilmField): void {
    const data = this.data;
    const kind = field.kind;
    const c = data[this.pos];
    switch (c) {
      case 0x22: // "
        if (kind === "string") {
          (film[field.name] as string) = this.string();
        } else {
          this.skipString();
          this.typeError("string", field, kind);
        }
        return;
      case 0x7b: // {
        this.typeError("object", field, kind);
        return this.skipValue();
      case 0x5b: // [
        this.typeError("array", field, kind);
        return this.skipValue();
      case 0x74: // t
      case 0x66: // f
        this.skipScalar();
        return this.typeError("bool", field, kind);
      case 0x6e: // null leaves the field as it is
        this.pos += 4;
        return;
    }
    const start = this.pos;
    this.skipScalar();
    if (kind === "string") return this.typeError("number", field, kind);
    const literal = this.ascii(start, this.pos);
    const value = kind === "int" ? parseInt64(literal) : Number(literal);
    if (value === undefined || !Number.isFinite(value)) {
      return this.typeError(`number ${literal}`, field, kind);
    }
    (film[field.name] as number) = value;
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Go's `strconv.ParseInt(literal, 10, 64)` for a JSON number literal: only
 * plain integers within int64 are accepted (`1997.0` and `1e3` are not).
 */
function parseInt64(literal: string): number | undefined {
  for (let i = 0; i < literal.length; i++) {
    const c = literal.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) return undefined;
  }
  if (literal.length >= 19) {
    const big = BigInt(literal);
    if (big > INT64_MAX || big < INT64_MIN) return undefined;
  }
  return Number(literal) + 0; // an int has no -0
}

function isWellFormedUtf8(data: Uint8Array, start: number, end: number) {
  let i = start;
  while (i < end) {
    if (data[i] < 0x80) {
      i++;
      continue;
    }
    const rune = decodeRune(data, i, end);
    if (rune < 0) return false;
    i += rune & 7;
  }
  return true;
}

/**
 * Decodes a request body into a film the way the real service's
 * `json.Unmarshal(body, &film)` does: the film, or Go's error message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFilm } from "./go_json.ts";
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const good = decodeFilm(bytes('{"Year":1997,"title":"Titanic","x":[1]}'));
 * assert.ok(good.ok && good.film.year === 1997);
 * const bad = decodeFilm(bytes('{"year":1997.5,"title":"x"}'));
 * assert.ok(
 *   !bad.ok && bad.error ===
 *     "json: cannot unmarshal number 1997.5 into Go struct field film.year of type int",
 * );
 * ```
 */
export function decodeFilm(body: Uint8Array): FilmDecodeResult {
  const syntaxError = checkValid(body);
  if (syntaxError !== null) return { ok: false, error: syntaxError };
  const decoder = new Decoder(body);
  const film = decoder.top();
  if (decoder.error !== null) return { ok: false, error: decoder.error };
  return { ok: true, film };
}
