import assert from "node:assert/strict";
import {
  countOutsideQuotes,
  DELIMITER_ALLOWED,
  DELIMITERS,
  delimiterWord,
  detectDelimiter,
  detectDialect,
  detectNewline,
  firstNonBlankLine,
  isBlank,
  parseDelimiter,
  showDelimiter,
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
  assert.equal(detectDelimiter("a\tb;c"), ";");
  assert.equal(detectDelimiter("a|b;c"), ";");
  assert.equal(detectDelimiter("title"), ";");
  assert.equal(detectDialect("").delimiter, ";");
});

Deno.test("dialect: tab and '|' are detected like ';' and ','", () => {
  const tsv = HEADER.replaceAll(";", "\t");
  const psv = HEADER.replaceAll(";", "|");
  assert.equal(detectDelimiter(tsv), "\t");
  assert.equal(detectDelimiter(psv), "|");
  // A data row: 9 tabs against the 3 commas of "Cage, Nicolas" and others.
  assert.equal(detectDelimiter(ROW.replaceAll(";", "\t")), "\t");
  assert.equal(detectDelimiter(ROW.replaceAll(";", "|")), "|");
  assert.equal(detectDialect(`\n${tsv}\r\n${ROW}\r\n`).delimiter, "\t");
  assert.equal(detectDialect(`${psv}\n`).newline, "\n");
  // Quoted tabs and pipes do not count.
  assert.equal(detectDelimiter('"a\tb\tc"|"d|e"|f'), "|");
  assert.equal(detectDelimiter('"a|b|c"\t"d"\tf'), "\t");
});

Deno.test("dialect: after ';' a tie goes to tab, then '|', then ','", () => {
  assert.deepEqual(DELIMITERS, [";", "\t", "|", ","]);
  assert.equal(detectDelimiter("a\tb,c"), "\t");
  assert.equal(detectDelimiter("a|b,c"), "|");
  assert.equal(detectDelimiter("a\tb|c"), "\t");
  assert.equal(detectDelimiter("a\tb\tc|d|e,f,g;h;i"), ";");
  // A strict majority wins whatever the order.
  assert.equal(detectDelimiter("a,b,c|d"), ",");
});

Deno.test("dialect: a forced delimiter wins over detection", () => {
  assert.equal(detectDialect("a,b,c\n", { delimiter: ";" }).delimiter, ";");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "," }).delimiter, ",");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "\t" }).delimiter, "\t");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "|" }).delimiter, "|");
  assert.equal(detectDialect("a;b;c\n", { delimiter: "auto" }).delimiter, ";");
});

Deno.test("dialect: the user's words for a delimiter", () => {
  const cases: [string, string | null][] = [
    ["auto", "auto"],
    ["AUTO", "auto"],
    [";", ";"],
    ["semicolon", ";"],
    [",", ","],
    ["Comma", ","],
    ["tab", "\t"],
    ["TAB", "\t"],
    ["\\t", "\t"], // backslash-t, as typed in a shell
    ["\t", "\t"], // a tab character ($'\t')
    ["|", "|"],
    ["pipe", "|"],
    [" pipe ", "|"],
    ["", null],
    [" ", null],
    ["colon", null],
    [":", null],
    ["\\T", null], // an escape is lower-case only
    [";;", null],
    ["toString", null], // not a property of any object
  ];
  for (const [text, expected] of cases) {
    assert.equal(parseDelimiter(text), expected, JSON.stringify(text));
  }
  for (const word of ["auto", "semicolon", "comma", "tab", "pipe", "\\t"]) {
    assert.ok(DELIMITER_ALLOWED.includes(word), word);
  }
  assert.ok(!DELIMITER_ALLOWED.includes("\n"));
});

Deno.test("dialect: delimiters as messages and hints write them", () => {
  assert.deepEqual(
    DELIMITERS.map((d) => [showDelimiter(d), delimiterWord(d)]),
    [['";"', "semicolon"], ["tab", "tab"], ['"|"', "pipe"], ['","', "comma"]],
  );
  // Every hint word reads back as its delimiter.
  for (const d of DELIMITERS) assert.equal(parseDelimiter(delimiterWord(d)), d);
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
