import assert from "node:assert/strict";
import {
  countOutsideQuotes,
  detectDelimiter,
  detectDialect,
  detectNewline,
  firstNonBlankLine,
  isBlank,
} from "../lib/importer/csv/dialect.ts";

const HEADER =
  "year;length;title;subject;actor;actress;director;popularity;awards;image";
const ROW =
  "2010;109;The Sorcerer's Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;NicholasCage.png";

Deno.test("dialect: ';' for the export's header and for a data row with commas in names", () => {
  assert.equal(detectDelimiter(HEADER), ";");
  assert.equal(detectDelimiter(ROW), ";"); // 9 ';' against 3 ','
  assert.equal(detectDialect(`${HEADER}\n${ROW}\n`).delimiter, ";");
});

Deno.test("dialect: ',' for quoted comma-separated rows, commas and ';' inside quotes not counted", () => {
  const quoted =
    '"2010","109","Lion; King, The","Adventure","Broderick, Matthew","Kelly; Moira"';
  assert.equal(countOutsideQuotes(quoted, ","), 5);
  assert.equal(countOutsideQuotes(quoted, ";"), 0);
  assert.equal(detectDelimiter(quoted), ",");
  // More ';' than ',' in the raw text, but all of them quoted.
  assert.equal(detectDelimiter('"a;b;c","d;e;f",x'), ",");
  // An escaped quote ("") does not flip the quoting state.
  assert.equal(detectDelimiter('"say ""hi"", ok",x,y'), ",");
});

Deno.test("dialect: a tie, and no delimiter at all, give ';'", () => {
  assert.equal(detectDelimiter("a,b;c"), ";");
  assert.equal(detectDelimiter("title"), ";");
  assert.equal(detectDialect("").delimiter, ";");
});

Deno.test("dialect: a forced delimiter wins over detection", () => {
  assert.equal(detectDialect("a,b,c\n", { delimiter: ";" }).delimiter, ";");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "," }).delimiter, ",");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "auto" }).delimiter, ";");
});

Deno.test("dialect: newline LF, CRLF, and none", () => {
  assert.equal(detectNewline("a;b\n"), "\n");
  assert.equal(detectNewline("a;b\r\n"), "\r\n");
  assert.equal(detectNewline("a;b"), "\n");
  assert.equal(detectDialect(`${HEADER}\r\n${ROW}\r\n`).newline, "\r\n");
  assert.equal(detectDialect(`${HEADER}\n${ROW}\r\n`).newline, "\n");
});

Deno.test("dialect: detected from the first NON-BLANK line", () => {
  const text = "\n  \r\n\t\n" + '"a;1","b","c"\r\n' + "x;y;z\n";
  assert.equal(firstNonBlankLine(text, false), '"a;1","b","c"\r\n');
  const d = detectDialect(text);
  assert.equal(d.delimiter, ",");
  assert.equal(d.newline, "\r\n");
});

Deno.test("dialect: an unfinished last line is not a line until the input ends", () => {
  assert.equal(firstNonBlankLine("\n\nyear;tit", false), null);
  assert.equal(firstNonBlankLine("\n\nyear;tit", true), "year;tit");
  assert.equal(firstNonBlankLine("\n \n", true), null);
  assert.equal(firstNonBlankLine("", true), null);
});

Deno.test("dialect: blank means whitespace only", () => {
  assert.ok(isBlank(""));
  assert.ok(isBlank(" \t\r\n"));
  assert.ok(!isBlank(";"));
  assert.ok(!isBlank(" x "));
});
