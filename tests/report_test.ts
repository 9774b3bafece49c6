import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { Governor, type RunEnd } from "../lib/importer/governor.ts";
import {
  buildReport,
  emptyTally,
  exitCode,
  type Report,
  type ReportInput,
  summaryText,
  type Tally,
} from "../lib/importer/report.ts";
import { dryRunPath, writeReport } from "../lib/importer/report_file.ts";
import { ledgerPath } from "../lib/importer/ledger.ts";
import { refused, response } from "./_attempts.ts";

const END_VALUES: RunEnd[] = [
  "complete",
  "interrupted",
  "stopped_on_errors",
  "gave_up",
  "unreachable",
  "wrong_url",
  "wrong_shape",
  "output_error",
  "input_error",
  "permission",
];

type Counts = Omit<Tally, "reasons">;
const counts = (c: Partial<Counts>): Counts => {
  const { reasons: _, ...zero } = emptyTally();
  return { ...zero, ...c };
};

/** Rows read = the buckets a row can end in (+ valid rows, in a dry run, which include the skipped ones). */
function assertRowsAccounted(c: Counts, dryRun: boolean): void {
  if (dryRun) {
    assert.equal(c.valid + c.invalid, c.rowsRead, "dry run: valid + invalid");
    return;
  }
  assert.equal(
    c.delivered + c.alreadyDelivered + c.skippedDuplicates + c.invalid +
      c.refused + c.pending,
    c.rowsRead,
    "delivered + already delivered + skipped duplicates + invalid + refused + pending",
  );
  assert.equal(c.rowsRead - c.invalid, c.valid, "valid = rows read - invalid");
}

Deno.test("exitCode: the table, for every way a run ends", () => {
  const allDelivered = counts({
    rowsRead: 10,
    valid: 8,
    invalid: 2,
    delivered: 8,
    requests: 8,
  });
  const somePending = counts({
    rowsRead: 10,
    valid: 10,
    delivered: 9,
    pending: 1,
    requests: 20,
  });
  const someRefused = counts({
    rowsRead: 10,
    valid: 10,
    delivered: 9,
    refused: 1,
    requests: 10,
  });
  const allInvalid = counts({ rowsRead: 5, invalid: 5 });
  const nothing = counts({});
  const allSkipped = counts({ rowsRead: 4, valid: 4, alreadyDelivered: 4 });
  const table: Array<[RunEnd, Counts, number]> = [
    ["complete", allDelivered, 0],
    ["complete", allSkipped, 0],
    ["complete", nothing, 0],
    ["complete", somePending, 1],
    ["complete", someRefused, 1],
    ["complete", allInvalid, 2],
    ["interrupted", allDelivered, 3],
    ["interrupted", nothing, 3],
    ["stopped_on_errors", allInvalid, 3],
    ["stopped_on_errors", somePending, 3],
    ["gave_up", somePending, 1],
    [
      "unreachable",
      counts({ rowsRead: 3, valid: 3, pending: 3, requests: 4 }),
      1,
    ],
    ["output_error", allDelivered, 1],
    [
      "wrong_url",
      counts({ rowsRead: 20, valid: 20, refused: 20, requests: 20 }),
      2,
    ],
    ["wrong_shape", allInvalid, 2],
    ["input_error", nothing, 2],
    [
      "input_error",
      counts({ rowsRead: 3, valid: 3, delivered: 3, requests: 3 }),
      1,
    ],
    ["permission", nothing, 2],
    [
      "permission",
      counts({ rowsRead: 3, valid: 3, delivered: 1, pending: 2, requests: 3 }),
      2,
    ],
  ];
  for (const [end, c, code] of table) {
    assert.equal(exitCode(end, c), code, `${end} ${JSON.stringify(c)}`);
  }
  for (const end of END_VALUES) {
    assert.ok([0, 1, 2, 3].includes(exitCode(end, nothing)), end);
  }
  assert.deepEqual(new Set(table.map(([end]) => end)), new Set(END_VALUES));
});

/** A report of a run with every optional count and line, and big numbers. */
function bigReport(over: Partial<Report> = {}): Report {
  const c = counts({
    lines: 98_765_432,
    headerRows: 1,
    typeRows: 1,
    blankLines: 1_234_567,
    rowsRead: 97_530_863,
    valid: 86_419_753,
    duplicates: 12_345_678,
    delivered: 66_419_754,
    alreadyDelivered: 9_999_999,
    skippedDuplicates: 5_000_000,
    invalid: 11_111_110,
    refused: 4_000_000,
    pending: 1_000_000,
    ambiguous: 999_999,
    requests: 87_654_321,
    retries: 12_345_678,
  });
  return {
    input: "data/backup.csv",
    url: "http://localhost:9009/movies",
    dryRun: false,
    end: "complete",
    exitCode: 1,
    elapsedMs: 86_400_000,
    deliveredPerSecond: 925,
    counts: c,
    notReadFrom: 98_765_433,
    latencyMs: { p50: 12.34, p99: 250.01, max: 9000.5 },
    reasons: {
      "title contains U+FFFD (corrupted in the file)": 1_000_000,
      "image is not a .png, .jpg or .jpeg name": 2_000_000,
      "awards is not Yes, No or empty": 3_000_000,
      "row has the wrong number of fields": 4_000_000,
      "service answered HTTP 422": 4_000_000,
      "row has malformed quotes": 111_110,
    },
    rejectsFile: "rejects.csv",
    reportFile: "report.json",
    ledger: {
      path: ledgerPath("ledger", "http://localhost:9009/movies"),
      heldAtStart: 5,
      fresh: false,
    },
    message: "",
    ...over,
  } as unknown as Report;
}

function assertFits(text: string): void {
  const lines = text.split("\n");
  for (const line of lines.slice(1)) {
    assert.ok(
      line.length <= 80,
      `${line.length} columns: ${JSON.stringify(line)}`,
    );
  }
}

Deno.test("summaryText: every count line fits 80 columns, with tens of millions of rows and every optional line", () => {
  const report = bigReport();
  const text = summaryText(report);
  assertFits(text);
  for (
    const expected of [
      /lines read +98765432 +\(1 header, 1 type-name, 1234567 blank\)/,
      /rows read +97530863 +\(12345678 exact duplicates/,
      /delivered +66419754/,
      /already delivered +9999999/,
      /duplicates skipped +5000000/,
      /refused by service +4000000/,
      /pending +1000000/,
      /ambiguous +999999/,
      /invalid +11111110/,
      /not read +line 98765433/,
      /requests +87654321 +\(12345678 retries/,
      /p50 12\.3 ms, p99 250\.0 ms/,
      /elapsed +86400\.00 s/,
      /rejected rows by reason/,
      /ledger: +ledger\/localhost_9009_movies-/,
      /exit code: 1$/,
    ]
  ) assert.match(text, expected);
  const dry = summaryText(bigReport({ dryRun: true, url: null, ledger: null }));
  assertFits(dry);
  assert.match(dry, /valid \(not sent\) +86419753/);
  assert.ok(!dry.includes("requests"));
  assert.match(
    dry.split("\n")[0],
    /^data\/backup\.csv → \(dry run\): complete$/,
  );
});

Deno.test("summaryText: a stop message fits 80 columns (wrapped)", () => {
  // BUG: summaryText prints the governor's message on one line; most are
  // 100-200 columns.
  const stops: Array<[RunEnd, string]> = [];
  const stop = (act: (g: Governor) => void) => {
    const g = new Governor({
      url: "http://localhost:9009/movies",
      connectTimeoutMs: 0,
      giveUpMs: 0,
      setupAnswers: 1,
    });
    act(g);
    assert.ok(g.end !== null);
    stops.push([g.end, g.message]);
  };
  stop((g) => g.attempt(refused, 0));
  stop((g) => g.attempt(response(404, null, "404 page not found"), 0));
  stop((g) => {
    g.attempt(response(201), 0);
    g.attempt(refused, 1);
  });
  stop((g) =>
    g.attempt({
      kind: "network",
      error: "permission",
      message:
        'Requires net access to "importer-staging.internal.example.com:8443"',
      sent: false,
    }, 0)
  );
  assert.deepEqual(stops.map(([end]) => end), [
    "unreachable",
    "wrong_url",
    "gave_up",
    "permission",
  ]);
  for (const [end, message] of stops) {
    const text = summaryText(bigReport({ end, message }));
    assert.ok(text.includes(message.split(" ").slice(0, 3).join(" ")), text);
    assertFits(text);
  }
});

Deno.test("summaryText: the rejects, report and ledger paths fit 80 columns for ordinary paths", () => {
  // BUG: both paths go on one line ("  rejects: …   report: …"), and the
  // ledger line prints a name of up to 83 characters after 10 columns.
  const text = summaryText(bigReport({
    rejectsFile: "/home/maria/imports/2026-12/rejects.csv",
    reportFile: "/home/maria/imports/2026-12/report.json",
  }));
  assert.ok(text.includes("/home/maria/imports/2026-12/rejects.csv"));
  assertFits(text);
  // The ledger's own name is up to 83 characters in the default folder.
  const url = "http://importer-staging.internal.example.com:8443/api/v2/movies";
  const withLedger = summaryText(
    bigReport({
      ledger: { path: ledgerPath("ledger", url), heldAtStart: 0, fresh: false },
    }),
  );
  assert.ok(withLedger.includes(ledgerPath("ledger", url)));
  assertFits(withLedger);
});

Deno.test("summaryText: the requests line fits 80 columns with a billion requests or long latencies", () => {
  // BUG: the latency figures share the requests line: 9-digit counts, or
  // 8-digit counts with a p99 at the default 10 s timeout, push it past 80.
  const base = bigReport();
  const billion = bigReport({
    counts: {
      ...base.counts,
      lines: 1_234_567_890,
      requests: 1_234_567_890,
      retries: 234_567_890,
    },
  });
  assertFits(summaryText(billion));
  // Tens of millions of requests, 1 % of them timing out (the default 10 s).
  const slow = bigReport({
    latencyMs: { p50: 1234.56, p99: 10000.01, max: 10000.5 },
  });
  assertFits(summaryText(slow));
});

function input(over: Partial<ReportInput> = {}): ReportInput {
  const tally: Tally = {
    ...emptyTally(),
    lines: 12,
    headerRows: 1,
    blankLines: 1,
    rowsRead: 10,
    valid: 8,
    duplicates: 1,
    delivered: 5,
    alreadyDelivered: 2,
    invalid: 2,
    pending: 1,
    ambiguous: 1,
    requests: 9,
    retries: 3,
    reasons: { "year is out of range": 2 },
  };
  return {
    options: { csvIn: "in/a.csv", urlOut: "http://x/movies" },
    paths: { rejects: "rejects.csv", report: "report.json" },
    tally,
    end: "complete",
    message: "",
    started: Date.parse("2026-12-01T10:00:00.000Z"),
    now: Date.parse("2026-12-01T10:00:02.500Z"),
    latency: { quantile: (q) => q === 0.5 ? 1.23456 : 9.87654, max: 12.3456 },
    notReadFrom: null,
    pending: { items: [{ line: 9, error: "HTTP 503" }], more: 0 },
    ambiguous: { items: [9], more: 0 },
    ledger: { path: "ledger/x.ledger", held: 2 },
    settings: [{ name: "URL_OUT", value: "http://x/movies", source: "flag" }],
    resources: { userCpuMs: 1, systemCpuMs: 2, peakRssBytes: 3 },
    version: "9.9.9",
    ...over,
  };
}

Deno.test("buildReport: the run's figures, and the counts account for every row", () => {
  const report = buildReport(input());
  assertRowsAccounted(report.counts, false);
  assert.equal(report.tool, "parse-and-post");
  assert.equal(report.version, "9.9.9");
  assert.equal(report.input, "in/a.csv");
  assert.equal(report.inputPath, resolve("in/a.csv"));
  assert.equal(report.url, "http://x/movies");
  assert.equal(report.dryRun, false);
  assert.equal(report.exitCode, 1); // one row pending
  assert.equal(report.exitCode, exitCode(report.end, report.counts));
  assert.equal(report.startedAt, "2026-12-01T10:00:00.000Z");
  assert.equal(report.finishedAt, "2026-12-01T10:00:02.500Z");
  assert.equal(report.elapsedMs, 2500);
  assert.equal(report.deliveredPerSecond, 2);
  assert.deepEqual(report.latencyMs, { p50: 1.23, p99: 9.88, max: 12.35 });
  assert.deepEqual(report.reasons, { "year is out of range": 2 });
  assert.ok(!("reasons" in report.counts));
  assert.deepEqual(report.ledger, {
    path: "ledger/x.ledger",
    heldAtStart: 2,
    fresh: false,
  });
  assert.equal(report.pending.items[0].line, 9);
  assert.deepEqual(report.resources, {
    userCpuMs: 1,
    systemCpuMs: 2,
    peakRssBytes: 3,
  });
  // JSON all the way.
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

Deno.test("buildReport: a dry run has no URL; nothing sent means zero latency; resources are measured when not given", () => {
  const tally: Tally = {
    ...emptyTally(),
    lines: 4,
    rowsRead: 3,
    valid: 2,
    invalid: 1,
    alreadyDelivered: 1,
    reasons: {},
  };
  const report = buildReport(input({
    options: {
      csvIn: "/abs/a.csv",
      urlOut: "http://x/movies",
      dryRun: true,
      fresh: true,
    },
    tally,
    latency: null,
    ledger: null,
    resources: undefined,
    inputPath: "/given/path.csv",
  }));
  assertRowsAccounted(report.counts, true);
  assert.equal(report.url, null);
  assert.equal(report.dryRun, true);
  assert.equal(report.inputPath, "/given/path.csv");
  assert.deepEqual(report.latencyMs, { p50: 0, p99: 0, max: 0 });
  assert.equal(report.ledger, null);
  assert.ok(
    report.resources.peakRssBytes > 0 && report.resources.userCpuMs >= 0,
  );
  assert.equal(report.exitCode, 0);
  const fresh = buildReport(
    input({ options: { csvIn: "a", urlOut: "http://x/m", fresh: true } }),
  );
  assert.equal(fresh.ledger?.fresh, true);
  assert.equal(
    buildReport(input({ now: input().started })).deliveredPerSecond,
    0,
  );
});

Deno.test("dryRunPath: .dry-run before the extension, never the same path", () => {
  const cases: Array<[string, string]> = [
    ["rejects.csv", "rejects.dry-run.csv"],
    ["out/rejects.csv", "out/rejects.dry-run.csv"],
    ["report.json", "report.dry-run.json"],
    ["report", "report.dry-run"],
    ["out.d/report", "out.d/report.dry-run"],
    ["a/b.tar.gz", "a/b.tar.dry-run.gz"],
    ["/abs/x.JSON", "/abs/x.dry-run.JSON"],
  ];
  for (const [path, expected] of cases) {
    assert.equal(dryRunPath(path), expected);
    assert.notEqual(dryRunPath(path), path);
  }
});

Deno.test("writeReport: atomic, no temporary file left, replaces the old report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.json");
    Deno.writeTextFileSync(path, '{"end":"running"}');
    const report = buildReport(input());
    assert.equal(writeReport(path, report), null);
    assert.deepEqual(
      JSON.parse(Deno.readTextFileSync(path)),
      JSON.parse(JSON.stringify(report)),
    );
    assert.ok(Deno.readTextFileSync(path).endsWith("}\n"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "report.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport: a missing folder or a folder in the way is one line, and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = writeReport(join(dir, "missing", "report.json"), {
      end: "complete",
    });
    assert.ok(missing !== null);
    assert.match(missing, /^cannot write the report .*missing\/report\.json: /);
    assert.ok(!missing.includes("\n"));
    Deno.mkdirSync(join(dir, "taken"));
    const taken = writeReport(join(dir, "taken"), { end: "complete" });
    assert.ok(taken !== null && !taken.includes("\n"), String(taken));
    assert.match(taken, /^cannot write the report /);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["taken"]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "taken"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
