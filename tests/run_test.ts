import assert from "node:assert/strict";
import { seededRandom } from "../lib/shared/random.ts";
import { created, response, unavailable } from "./_attempts.ts";
import { csvFile, recorder, rejectedLines, run } from "./_import_harness.ts";
import { BACKUP, backupCsv } from "./_shared_data.ts";
import { ledgerPath } from "../lib/importer/ledger.ts";

const HEADER =
  "year;length;title;subject;actor;actress;director;popularity;awards;image";
const SMALL = [
  HEADER,
  "2010;109;Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;NicholasCage.png",
  "",
  "1941;",
  "1994;88;Lion King;Adventure;Broderick, Matthew;Kelly, Moira;Allers, Roger;93;Yes;a.png",
  "1955;86;Dreams;Drama;Bj\uFFFDrnstrand, Gunnar;Andersson, Harriet;Bergman, Ingmar;14;No;Bergman.png",
  '1984;101;"Target Eagle";Action;Connors, Chuck;Adams, Maud;Loma, José;14;no;a.png',
  "1990;;Valkenvania;Comedy;Chase, Chevy;;;;82;No;x.png",
  "1800;90;Too Early;Drama;;;;;;",
  "1999;90;Empty Numbers;Drama;;;;;;",
  "",
].join("\n");

Deno.test("every row ends in one count; the rejects file lists exactly the rejected lines", async () => {
  const service = recorder();
  const r = await run(await csvFile(SMALL), {}, { send: service.send });
  const c = r.report.counts;
  assert.equal(r.exitCode, 0);
  assert.deepEqual(
    {
      lines: c.lines,
      header: c.headerRows,
      blank: c.blankLines,
      rows: c.rowsRead,
      delivered: c.delivered,
      invalid: c.invalid,
    },
    { lines: 10, header: 1, blank: 1, rows: 8, delivered: 4, invalid: 4 },
  );
  assert.deepEqual(rejectedLines(r.rejects), [4, 6, 8, 9]);
  assert.equal(service.sent.length, 4);
  assert.deepEqual(JSON.parse(service.sent[2]), {
    year: 1984,
    length: 101,
    title: "Target Eagle",
    subject: "Action",
    actor: "Connors, Chuck",
    actress: "Adams, Maud",
    director: "Loma, José",
    popularity: 14,
    awards: "No",
    image: "a.png",
  });
  assert.deepEqual(JSON.parse(service.sent[3]).popularity, null);
  assert.match(r.rejects, /^4;wrong number of fields: 2, expected 10;1941;$/m);
  assert.match(
    r.rejects,
    /^9;"year ""1800"" is out of range: must be from 1888 to 2026";1800;/m,
  );
  assert.deepEqual(r.report.reasons, {
    "row has the wrong number of fields": 2,
    "actor contains U+FFFD (corrupted in the file)": 1,
    "year is out of range": 1,
  });
  assert.match(r.summary, /delivered\s+4/);
});

backupCsv.test("backup.csv through 20 % random 503s: every valid row delivered once, accounting complete", async () => {
  const random = seededRandom(7);
  const service = recorder(() => random() < 0.2 ? unavailable : created);
  const r = await run(BACKUP, { concurrency: 8 }, { send: service.send });
  const c = r.report.counts;
  const text = await Deno.readTextFile(BACKUP);
  const physicalLines = text.endsWith("\n")
    ? text.split("\n").length - 1
    : text.split("\n").length;
  assert.equal(r.exitCode, 0);
  assert.equal(c.lines, physicalLines);
  assert.equal(
    c.headerRows + c.blankLines + c.delivered + c.invalid,
    physicalLines,
  );
  assert.equal(c.pending + c.refused, 0);
  assert.equal(c.requests, service.sent.length);
  assert.equal(
    c.requests - c.retries,
    c.delivered,
    "one first attempt per delivered row",
  );
  assert.ok(
    c.retries > c.delivered * 0.15,
    `retries ${c.retries} look like 20 % of ${c.delivered}`,
  );
  const keys = new Set(service.keys);
  assert.equal(keys.size, c.delivered, "one Idempotency-Key per row");
  assert.equal(rejectedLines(r.rejects).length, c.invalid);
  const blank = text.split("\n").flatMap((l, i) =>
    l.trim() === "" && i < physicalLines ? [i + 1] : []
  );
  const rejected = new Set(rejectedLines(r.rejects));
  for (const line of blank) assert.ok(!rejected.has(line));
});

Deno.test("a 400 from the service puts the row in rejects with the service's message; exit 1", async () => {
  const service = recorder((body) =>
    body.includes("Lion King")
      ? {
        kind: "response",
        status: 400,
        body: "title is required\n",
        retryAfter: null,
      }
      : created
  );
  const r = await run(await csvFile(SMALL), {}, { send: service.send });
  assert.equal(r.exitCode, 1);
  assert.equal(r.report.counts.refused, 1);
  assert.match(
    r.rejects,
    /^5;service refused it: HTTP 400: title is required;1994;/m,
  );
  assert.equal(r.report.reasons["service answered HTTP 400"], 1);
});

Deno.test("rows still failing after the retries stay pending, not rejected; exit 1; the next run sends them", async () => {
  const service = recorder(() => unavailable);
  const csv = await csvFile(SMALL);
  const r = await run(csv, { maxRetries: 2 }, { send: service.send });
  assert.equal(r.exitCode, 1);
  assert.equal(r.report.counts.pending, 4);
  assert.equal(service.sent.length, 12);
  assert.deepEqual(
    rejectedLines(r.rejects),
    [4, 6, 8, 9],
    "only the invalid rows",
  );
  assert.deepEqual(r.report.pending.items.map((p) => p.line), [2, 5, 7, 10]);
  assert.match(
    r.report.pending.items[0].error,
    /gave up after 3 attempts: HTTP 503/,
  );
  const again = recorder();
  const b = await run(csv, {}, { send: again.send, dir: r.dir });
  assert.equal(
    again.sent.length,
    4,
    "the pending rows are sent by the next run",
  );
  assert.equal(b.exitCode, 0);
});

Deno.test("STOP_ON_ERRORS stops reading at once: exit 3, where reading stopped is said", async () => {
  const r = await run(await csvFile(SMALL), { stopOnErrors: 2 }, {});
  const c = r.report.counts;
  assert.equal(r.exitCode, 3);
  assert.equal(r.report.end, "stopped_on_errors");
  assert.equal(c.invalid, 2);
  assert.ok(c.rowsRead < 8, "the rest of the file is not read");
  assert.equal(r.report.notReadFrom, 7);
  assert.equal(c.delivered + c.invalid + c.pending, c.rowsRead);
  assert.match(r.summary, /not read +line 7 to the end/);
});

Deno.test("STOP_ON_ERRORS counts answers as they arrive: every row refused stops within 2 × concurrency requests", async () => {
  const lines = [HEADER];
  for (let i = 0; i < 300; i++) {
    lines.push(`1999;90;Movie ${i};Drama;;;;50;No;m${i}.png`);
  }
  const service = recorder(() => response(400, null, "title is required\n"));
  const r = await run(await csvFile(lines.join("\n")), {
    stopOnErrors: 10,
    concurrency: 16,
  }, { send: service.send });
  assert.equal(r.exitCode, 3);
  assert.ok(
    service.sent.length <= 10 + 2 * 16,
    `${service.sent.length} requests`,
  );
  assert.equal(r.report.counts.refused, service.sent.length);
});

Deno.test("interrupted, then resumed: no row sent twice, every row delivered once; rerun and --fresh", async () => {
  const lines = [HEADER];
  for (let i = 0; i < 500; i++) {
    lines.push(`${1900 + (i % 100)};90;Movie ${i};Drama;;;;50;No;m${i}.png`);
  }
  const csv = await csvFile(lines.join("\n") + "\n");
  const interrupt = new AbortController();
  const first = recorder((_body, n) => {
    if (n === 100) interrupt.abort("SIGINT");
    return created;
  });
  const dir = await Deno.makeTempDir();
  const a = await run(csv, { concurrency: 4 }, {
    send: first.send,
    signal: interrupt.signal,
    dir,
  });
  assert.equal(a.exitCode, 3);
  assert.equal(a.report.end, "interrupted");
  const ca = a.report.counts;
  assert.equal(ca.delivered + ca.pending, ca.rowsRead);
  assert.ok(ca.delivered >= 100);
  assert.ok(a.report.notReadFrom !== null, "reading stopped at once");
  const second = recorder();
  const b = await run(csv, { concurrency: 4 }, { send: second.send, dir });
  assert.equal(b.exitCode, 0);
  assert.equal(b.report.counts.alreadyDelivered, ca.delivered);
  assert.equal(b.report.counts.delivered, 500 - ca.delivered);
  const all = [...first.sent, ...second.sent].map((body) =>
    JSON.parse(body).title
  );
  assert.equal(new Set(all).size, 500);
  assert.equal(all.length, 500, "no row sent twice");
  assert.ok(b.logs.some((l) => /already delivered to .* are skipped/.test(l)));
  const third = recorder();
  const c = await run(csv, {}, { send: third.send, dir });
  assert.equal(third.sent.length, 0, "a finished import sends nothing again");
  assert.equal(c.report.counts.alreadyDelivered, 500);
  const fresh = recorder();
  const f = await run(csv, { fresh: true }, { send: fresh.send, dir });
  assert.equal(fresh.sent.length, 500, "--fresh sends everything again");
  assert.ok(
    f.logs.some((l) => /--fresh: the ledger .* holds 500 rows/.test(l)),
    "and says so first",
  );
});

Deno.test("the ledger is per URL: importing elsewhere never discards it", async () => {
  const csv = await csvFile(SMALL);
  const dir = await Deno.makeTempDir();
  const a = recorder();
  await run(csv, {}, { send: a.send, dir });
  const b = recorder();
  await run(csv, { urlOut: "http://other.test/films" }, { send: b.send, dir });
  assert.equal(
    b.sent.length,
    4,
    "another URL is another ledger: everything is sent there",
  );
  const c = recorder();
  await run(csv, {}, { send: c.send, dir });
  assert.equal(c.sent.length, 0, "the first URL's ledger is intact");
  assert.notEqual(
    ledgerPath(`${dir}/ledger`, "http://service.test/movies"),
    ledgerPath(`${dir}/ledger`, "http://other.test/films"),
  );
});

Deno.test("rows are known by content: touch, a copy, an appended export, an edit elsewhere send only what is new", async () => {
  const dir = await Deno.makeTempDir();
  const csv = await csvFile(SMALL);
  await run(csv, {}, { dir });
  const edited = SMALL.replace("Lion King", "Lion King II") +
    "2001;100;Appended;Drama;;;;10;No;z.png\n";
  const copy = await csvFile(edited);
  const service = recorder();
  const r = await run(copy, {}, { send: service.send, dir });
  assert.deepEqual(service.sent.map((b) => JSON.parse(b).title), [
    "Lion King II",
    "Appended",
  ]);
  assert.equal(r.report.counts.alreadyDelivered, 3);
});

Deno.test("exact duplicates: counted, sent as they are; --dedupe skips them as duplicates of the first line", async () => {
  const row =
    "2010;109;Apprentice;Fantasy;Cage, Nicolas;Palmer, Teresa;Turteltaub, Jon;40;No;a.png";
  const csv = await csvFile(
    [HEADER, row, row, `${row} `, "2011;1;Other;;;;;1;No;"].join("\n"),
  );
  const all = recorder();
  const a = await run(csv, {}, { send: all.send });
  assert.equal(all.sent.length, 4, "copies are different rows");
  assert.equal(new Set(all.keys).size, 4, "each with its own key");
  assert.equal(a.report.counts.duplicates, 2);
  const once = recorder();
  const b = await run(csv, { dedupe: true }, { send: once.send });
  assert.equal(once.sent.length, 2);
  assert.equal(b.report.counts.skippedDuplicates, 2);
  assert.equal(b.exitCode, 0);
});

Deno.test("a wrong URL (the first answers all 404): stops after 20, exit 2, nothing in the rejects file", async () => {
  const lines = [HEADER];
  for (let i = 0; i < 300; i++) {
    lines.push(`1999;90;Movie ${i};Drama;;;;50;No;m${i}.png`);
  }
  const service = recorder(() => response(404, null, "404 page not found\n"));
  const r = await run(await csvFile(lines.join("\n")), {}, {
    send: service.send,
  });
  assert.equal(r.exitCode, 2);
  assert.equal(r.report.end, "wrong_url");
  assert.ok(service.sent.length <= 20 + 16, `${service.sent.length} requests`);
  assert.match(
    r.report.message,
    /answered HTTP 404: 404 page not found .*first 20 requests/,
  );
  assert.deepEqual(rejectedLines(r.rejects), []);
  assert.equal(r.report.counts.refused, 0);
});

Deno.test("the data in the wrong shape (tab-separated, read as ;): exit 2, what to try, nothing sent", async () => {
  const tabbed = SMALL.split("\n").filter((l) => l.split(";").length === 10)
    .map((l) => l.replaceAll(";", "\t")).join("\n");
  const service = recorder();
  const r = await run(await csvFile(tabbed), { delimiter: ";" }, {
    send: service.send,
  });
  assert.equal(r.exitCode, 2);
  assert.equal(r.report.end, "wrong_shape");
  assert.match(r.report.message, /--delimiter tab/);
  assert.equal(service.sent.length, 0);
  const auto = await run(await csvFile(tabbed), {}, { send: recorder().send });
  assert.equal(auto.exitCode, 0, "detected as tab-separated");
  assert.equal(auto.report.counts.delivered, 4);
});

Deno.test("nothing valid in the file: exit 2, never 0", async () => {
  const r = await run(
    await csvFile([HEADER, "1800;1;Old;;;;;1;No;", "1941;"].join("\n")),
    {},
  );
  assert.equal(r.report.counts.valid, 0);
  assert.equal(r.exitCode, 2);
});

Deno.test("a dry run never overwrites a real run's rejects file or report", async () => {
  const dir = await Deno.makeTempDir();
  const csv = await csvFile(SMALL);
  await run(csv, {}, { dir });
  const real = await Deno.readTextFile(`${dir}/report.json`);
  await run(csv, { dryRun: true }, { dir });
  assert.equal(await Deno.readTextFile(`${dir}/report.json`), real);
  assert.match(
    await Deno.readTextFile(`${dir}/report.dry-run.json`),
    /"dryRun": true/,
  );
});

Deno.test("a missing output folder: one line naming it, exit 2, nothing sent", async () => {
  for (const option of ["rejectsPath", "reportPath"] as const) {
    const service = recorder();
    const r = await run(await csvFile(SMALL), {
      [option]: "/nonexistent/dir/out",
    }, { send: service.send });
    assert.equal(r.exitCode, 2, option);
    assert.equal(service.sent.length, 0);
    assert.ok(
      r.logs.some((l) => / ERROR .*\/nonexistent\/dir\/out/.test(l)),
      option,
    );
  }
});

Deno.test("dry run: no request, the JSON bodies on stdout, same rejects", async () => {
  const service = recorder();
  const r = await run(await csvFile(SMALL), { dryRun: true }, {
    send: service.send,
  });
  assert.equal(service.sent.length, 0);
  assert.equal(r.exitCode, 0);
  const bodies = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(bodies.length, 4);
  assert.equal(r.report.counts.valid, 4);
  assert.deepEqual(rejectedLines(r.rejects), [4, 6, 8, 9]);
});

Deno.test("the export's variants give the same movies: no header, Windows-1252 with type row, quoted commas", async () => {
  const rows = [
    "1994;88;Lion King;Adventure;Broderick, Matthew;Kelly, Moira;Allers, Roger;93;Yes;a.png",
    "1990;149;Camille Claudel;Drama;Depardieu, Gérard;Adjani, Isabelle;Nuytten, Bruno;32;No;b.jpg",
  ];
  const canonical = await run(await csvFile([HEADER, ...rows].join("\n")), {
    dryRun: true,
  });
  const headerless = await run(await csvFile(rows.join("\n")), {
    dryRun: true,
  });
  const latin = [
    "Year;Length;Title;Subject;Actor;Actress;Director;Popularity;Awards;*Image",
    "INT;INT;STRING;CAT;CAT;CAT;CAT;INT;BOOL;STRING",
    ...rows,
  ].join("\r\n");
  const bytes = Uint8Array.from(latin, (ch) => ch.charCodeAt(0)); // é is 0xE9 in Windows-1252
  const windows = await run(await csvFile(bytes), { dryRun: true });
  const quoted = rows.map((r) => r.split(";").map((f) => `"${f}"`).join(","));
  const commas = await run(
    await csvFile([HEADER.replaceAll(";", ","), ...quoted].join("\n")),
    { dryRun: true },
  );
  assert.match(canonical.stdout, /Depardieu, Gérard/);
  assert.equal(headerless.stdout, canonical.stdout);
  assert.equal(windows.stdout, canonical.stdout);
  assert.equal(commas.stdout, canonical.stdout);
  assert.equal(windows.report.counts.typeRows, 1);
  assert.ok(
    windows.logs.some((l) => /WARNING .*Windows-1252/i.test(l)),
    "one warning about the encoding",
  );
  assert.ok(
    windows.logs.some((l) => /type names/.test(l)),
    "the type row is said to be skipped",
  );
});

Deno.test("a rejects file, fixed, imports again (line and reason ignored)", async () => {
  const first = await run(await csvFile(SMALL), { dryRun: true });
  const fixed = first.rejects.replaceAll("Bj\uFFFDrnstrand", "Björnstrand")
    .replace(";1800;", ";1900;");
  const again = await run(await csvFile(fixed), { dryRun: true });
  assert.equal(again.report.counts.valid, 2);
  assert.equal(
    again.report.counts.invalid,
    2,
    "the two rows with the wrong shape are still wrong",
  );
  assert.match(again.stdout, /"actor":"Björnstrand, Gunnar"/);
  assert.match(again.stdout, /"year":1900/);
  assert.equal(
    again.rejects.split("\n")[0],
    first.rejects.split("\n")[0],
    "same header",
  );
  assert.match(
    again.rejects,
    /^2;wrong number of fields: 2, expected 10;1941;$/m,
  );
});

Deno.test("a missing input: exit 2, one line, nothing sent", async () => {
  const service = recorder();
  const r = await run("/nonexistent/movies.csv", {}, { send: service.send });
  assert.equal(r.exitCode, 2);
  assert.equal(r.report, null);
  assert.equal(service.sent.length, 0);
  const errors = r.logs.filter((l) => l.includes(" ERROR "));
  assert.equal(errors.length, 1);
  assert.match(
    errors[0],
    /file not found: .*looked in \/nonexistent\/movies.csv/,
  );
});
