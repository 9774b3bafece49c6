import assert from "node:assert/strict";
import { defaultLayout, headerLayout } from "../lib/importer/csv/layout.ts";
import type { Job } from "../lib/importer/deliver.ts";
import { Governor } from "../lib/importer/governor.ts";
import { bodyDigest, type RowKey, RowKeys } from "../lib/importer/identity.ts";
import type { Ledger } from "../lib/importer/ledger.ts";
import { createLogger } from "../lib/importer/log.ts";
import {
  createRecorder,
  type OutcomeName,
  type RowOutcome,
} from "../lib/importer/outcomes.ts";
import { rejectsColumns, type RejectsWriter } from "../lib/importer/rejects.ts";
import { emptyTally, MAX_LISTED, type Tally } from "../lib/importer/report.ts";
import { response } from "./_attempts.ts";
import { seededRandom } from "../lib/shared/random.ts";

const BODY =
  '{"year":1997,"length":194,"title":"Titanic","subject":"Drama","actor":"","actress":"","director":"","popularity":80,"awards":"Yes","image":"t.png"}';

const job = (line: number, k = 0): Job => ({
  line,
  key: { ...bodyDigest(BODY), k },
  body: BODY,
});

/** A recorder over fakes that remember where each row went. */
function recorder(
  options: { stopOnErrors?: number; logRows?: boolean; reimported?: boolean } =
    {},
) {
  const tally = emptyTally();
  const added: Array<
    { line: number; reason: string; fields: readonly string[] }
  > = [];
  const rejects: RejectsWriter = {
    add: (line, reason, fields) => added.push({ line, reason, fields }),
    get count() {
      return added.length;
    },
    error: null,
    flush() {},
    close() {},
  };
  const recorded: RowKey[] = [];
  const ledger: Ledger = {
    path: "ledger/x.ledger",
    keys: new RowKeys(),
    held: 0,
    cutBytes: 0,
    badLines: 0,
    error: null,
    record: (key) => recorded.push(key),
    flushSync() {},
    close() {},
  };
  const logged: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: "DEBUG",
    format: "json",
    write: (line) => logged.push(JSON.parse(line)),
    rowWarningsPerSecond: 1e9,
  });
  const governor = new Governor({
    url: "http://x/movies",
    stopOnErrors: options.stopOnErrors,
  });
  const counted: OutcomeName[] = [];
  const layout = options.reimported
    ? headerLayout(["line", "reason", "title", "year", "awards"])
    : defaultLayout();
  const r = createRecorder({
    tally,
    rejects,
    columns: rejectsColumns(layout),
    ledger,
    governor,
    log,
    logRows: options.logRows,
    count: (o) => counted.push(o),
  });
  return { r, tally, added, recorded, logged, governor, counted };
}

const invalid = (
  line: number,
  fields: string[] = ["1700", "", "Old"],
): RowOutcome => ({
  kind: "invalid",
  line,
  fields,
  rejection: {
    field: "year",
    rule: "range",
    message: 'year "1700" is out of range: must be from 1888 to 2026',
  },
});

/** The tally's buckets a row can end in. */
function buckets(t: Tally) {
  return {
    delivered: t.delivered,
    alreadyDelivered: t.alreadyDelivered,
    skippedDuplicates: t.skippedDuplicates,
    invalid: t.invalid,
    refused: t.refused,
    pending: t.pending,
  };
}

const zero = buckets(emptyTally());

Deno.test("outcomes: delivered goes to the ledger and the tally only", () => {
  const { r, tally, added, recorded, governor, counted, logged } = recorder();
  r.record({
    kind: "delivered",
    job: job(4, 2),
    attempts: 1,
    ambiguous: false,
  });
  assert.deepEqual(recorded, [job(4, 2).key]);
  assert.deepEqual(buckets(tally), { ...zero, delivered: 1 });
  assert.deepEqual(added, []);
  assert.equal(governor.errors, 0);
  assert.deepEqual(counted, ["delivered"]);
  assert.deepEqual(logged, []);
  assert.deepEqual(r.pending, { items: [], more: 0 });
  assert.deepEqual(r.ambiguous, { items: [], more: 0 });
});

Deno.test("outcomes: an invalid row goes to the rejects file with its own fields, and counts as a row error", () => {
  const { r, tally, added, recorded, governor, logged } = recorder();
  r.record(invalid(7));
  assert.deepEqual(added, [{
    line: 7,
    reason: 'year "1700" is out of range: must be from 1888 to 2026',
    fields: ["1700", "", "Old"],
  }]);
  assert.deepEqual(buckets(tally), { ...zero, invalid: 1 });
  assert.deepEqual(tally.reasons, { "year is out of range": 1 });
  assert.deepEqual(recorded, []);
  assert.equal(governor.errors, 1);
  assert.equal(logged.length, 1);
  assert.equal(logged[0].level, "WARNING");
  assert.equal(logged[0].line, 7);
  assert.equal(logged[0].reason, "year is out of range");
});

Deno.test("outcomes: a re-imported rejects file's line and reason are not written again", () => {
  const { r, added } = recorder({ reimported: true });
  r.record(invalid(3, ["12", "year is out of range", "Old", "1700", "No"]));
  assert.deepEqual(added[0].fields, ["Old", "1700", "No"]);
  r.record({
    kind: "refused",
    job: job(4),
    attempts: 1,
    status: 409,
    message: "duplicate movie",
  });
  assert.deepEqual(added[1].fields, ["Titanic", "1997", "Yes"]);
});

Deno.test("outcomes: a refused row goes to the rejects file as it was sent, with the service's words", () => {
  const { r, tally, added, recorded, governor, counted } = recorder();
  r.record({
    kind: "refused",
    job: job(9),
    attempts: 2,
    status: 422,
    message: "title looks odd",
  });
  assert.deepEqual(added, [{
    line: 9,
    reason: "service refused it: title looks odd",
    fields: [
      "1997",
      "194",
      "Titanic",
      "Drama",
      "",
      "",
      "",
      "80",
      "Yes",
      "t.png",
    ],
  }]);
  assert.deepEqual(buckets(tally), { ...zero, refused: 1 });
  assert.deepEqual(tally.reasons, { "service answered HTTP 422": 1 });
  assert.deepEqual(recorded, []);
  assert.equal(governor.errors, 1);
  assert.deepEqual(counted, ["refused"]);
});

Deno.test("outcomes: pending rows are listed with their last error; only those out of retries are row errors", () => {
  const { r, tally, added, recorded, governor, logged } = recorder();
  r.record({
    kind: "pending",
    job: job(5),
    attempts: 16,
    ambiguous: false,
    cause: "retries",
    lastError: "HTTP 503",
  });
  r.record({
    kind: "pending",
    job: job(6),
    attempts: 0,
    ambiguous: false,
    cause: "stopped",
    lastError: "not sent: the run stopped",
  });
  assert.deepEqual(r.pending.items, [{ line: 5, error: "HTTP 503" }, {
    line: 6,
    error: "not sent: the run stopped",
  }]);
  assert.deepEqual(buckets(tally), { ...zero, pending: 2 });
  assert.deepEqual(added, []);
  assert.deepEqual(recorded, []);
  assert.equal(governor.errors, 1);
  assert.equal(logged.length, 1);
  assert.equal(logged[0].level, "ERROR");
  assert.equal(logged[0].line, 5);
});

Deno.test("outcomes: ambiguous attempts are listed, delivered or not", () => {
  const { r, tally } = recorder();
  r.record({ kind: "delivered", job: job(2), attempts: 2, ambiguous: true });
  r.record({
    kind: "pending",
    job: job(3),
    attempts: 16,
    ambiguous: true,
    cause: "retries",
    lastError: "timed out",
  });
  r.record({ kind: "delivered", job: job(4), attempts: 1, ambiguous: false });
  assert.equal(tally.ambiguous, 2);
  assert.deepEqual(r.ambiguous, { items: [2, 3], more: 0 });
  assert.deepEqual(buckets(tally), { ...zero, delivered: 2, pending: 1 });
});

Deno.test("outcomes: skipped rows are counted and go nowhere else", () => {
  const { r, tally, added, recorded, governor, counted, logged } = recorder();
  r.record({ kind: "already_delivered", line: 3, duplicate: false });
  r.record({ kind: "duplicate", line: 4, of: 3 });
  r.record({ kind: "valid", line: 5 });
  assert.deepEqual(buckets(tally), {
    ...zero,
    alreadyDelivered: 1,
    skippedDuplicates: 1,
  });
  assert.deepEqual([added, recorded, logged], [[], [], []]);
  assert.equal(governor.errors, 0);
  assert.deepEqual(counted, ["already_delivered", "duplicate", "valid"]);
});

Deno.test("outcomes: STOP_ON_ERRORS stops the run on the Nth row error, whatever its kind", () => {
  const { r, governor } = recorder({ stopOnErrors: 3 });
  r.record(invalid(2));
  r.record({
    kind: "pending",
    job: job(3),
    attempts: 0,
    ambiguous: false,
    cause: "stopped",
    lastError: "x",
  });
  r.record({
    kind: "refused",
    job: job(4),
    attempts: 1,
    status: 400,
    message: "no",
  });
  assert.ok(governor.going);
  r.record({
    kind: "pending",
    job: job(5),
    attempts: 16,
    ambiguous: false,
    cause: "retries",
    lastError: "HTTP 503",
  });
  assert.equal(governor.end, "stopped_on_errors");
});

Deno.test("outcomes: logRows false logs no row", () => {
  const { r, logged, added } = recorder({ logRows: false });
  r.record(invalid(2));
  r.record({
    kind: "pending",
    job: job(5),
    attempts: 16,
    ambiguous: false,
    cause: "retries",
    lastError: "HTTP 503",
  });
  assert.deepEqual(logged, []);
  assert.equal(added.length, 1);
});

Deno.test("outcomes: the pending and ambiguous lists stop at MAX_LISTED and count the rest", () => {
  const { r, tally } = recorder({ logRows: false });
  for (let line = 1; line <= MAX_LISTED + 5; line++) {
    r.record({
      kind: "pending",
      job: job(line),
      attempts: 1,
      ambiguous: true,
      cause: "stopped",
      lastError: "x",
    });
  }
  assert.equal(r.pending.items.length, MAX_LISTED);
  assert.equal(r.pending.more, 5);
  assert.equal(r.pending.items[MAX_LISTED - 1].line, MAX_LISTED);
  assert.equal(r.ambiguous.items.length, MAX_LISTED);
  assert.equal(r.ambiguous.more, 5);
  assert.equal(tally.pending, MAX_LISTED + 5);
});

Deno.test("outcomes: every row recorded is counted in exactly one bucket (random runs)", () => {
  const random = seededRandom(42);
  for (let run = 0; run < 20; run++) {
    const { r, tally, added, recorded, counted } = recorder({ logRows: false });
    const n = 1 + Math.floor(random() * 500);
    let valid = 0;
    for (let line = 2; line < n + 2; line++) {
      const pick = Math.floor(random() * 8);
      const j = job(line, line);
      const amb = random() < 0.3;
      const outcome: RowOutcome = [
        { kind: "delivered", job: j, attempts: 1, ambiguous: amb },
        { kind: "already_delivered", line, duplicate: amb },
        { kind: "duplicate", line, of: 1 },
        invalid(line),
        {
          kind: "refused",
          job: j,
          attempts: 1,
          status: 400 + (line % 3),
          message: "no",
        },
        {
          kind: "pending",
          job: j,
          attempts: 16,
          ambiguous: amb,
          cause: "retries",
          lastError: "HTTP 503",
        },
        {
          kind: "pending",
          job: j,
          attempts: 0,
          ambiguous: false,
          cause: "stopped",
          lastError: "stopped",
        },
        { kind: "valid", line },
      ][pick] as RowOutcome;
      if (outcome.kind === "valid") valid++;
      r.record(outcome);
    }
    const sum = Object.values(buckets(tally)).reduce((a, b) => a + b, 0);
    assert.equal(sum + valid, n);
    assert.equal(counted.length, n);
    assert.equal(recorded.length, tally.delivered);
    assert.equal(added.length, tally.invalid + tally.refused);
    assert.equal(
      Object.values(tally.reasons).reduce((a, b) => a + b, 0),
      tally.invalid + tally.refused,
    );
    assert.equal(r.pending.items.length + r.pending.more, tally.pending);
    assert.equal(r.ambiguous.items.length + r.ambiguous.more, tally.ambiguous);
  }
});

/** A refused row, as a wrong URL gives it. */
const notFound = (line: number): RowOutcome => ({
  kind: "refused",
  job: job(line, line),
  attempts: 1,
  status: 404,
  message: "404 page not found",
});

Deno.test("outcomes: rows refused while the set-up is in doubt are held, then rejected once a 2xx proves it fine", () => {
  const { r, tally, added, governor } = recorder();
  governor.attempt(response(404, null, "404 page not found"), 0);
  r.record(notFound(2));
  governor.attempt(response(404, null, "404 page not found"), 1);
  r.record(notFound(3));
  r.record(invalid(4)); // another outcome meanwhile: still in doubt, still held
  assert.ok(governor.setup === "in_doubt");
  assert.equal(tally.refused, 0);
  assert.deepEqual(added.map((a) => a.line), [4]);
  governor.attempt(response(201), 2); // the URL is right after all
  r.record({ kind: "delivered", job: job(5), attempts: 1, ambiguous: false });
  assert.equal(tally.refused, 2);
  assert.deepEqual(added.map((a) => a.line).sort(), [2, 3, 4]);
  r.finish();
  assert.equal(tally.refused, 2);
  assert.deepEqual(buckets(tally), {
    ...zero,
    delivered: 1,
    invalid: 1,
    refused: 2,
  });
});

Deno.test("outcomes: rows held when the URL proves wrong stay pending, not rejected", () => {
  const { r, tally, added, governor } = recorder();
  for (let i = 0; i < 20; i++) {
    governor.attempt(response(404, null, "404 page not found"), i);
    r.record(notFound(i + 2));
  }
  assert.equal(governor.end, "wrong_url");
  r.record(notFound(30)); // answered after the verdict
  r.finish();
  assert.deepEqual(added, []);
  assert.deepEqual(buckets(tally), { ...zero, pending: 21 });
  assert.equal(r.pending.items[0].error, "404 page not found");
});

Deno.test("outcomes: a run that ends while the set-up is still in doubt loses no row (they stay pending)", () => {
  // BUG: finish() re-records each held row, and record() holds it again
  // while governor.setup === "in_doubt" is still true (a run of 5 rows all
  // answered 404, fewer than the 20 answers the verdict needs): the rows
  // end in no count at all, not even pending, and the report's counts no
  // longer add up to the rows read.
  const { r, tally, added, governor } = recorder();
  for (let i = 0; i < 5; i++) {
    governor.attempt(response(404, null, "404 page not found"), i);
    r.record(notFound(i + 2));
  }
  assert.equal(governor.end, null);
  r.finish();
  const sum = Object.values(buckets(tally)).reduce((a, b) => a + b, 0);
  assert.equal(sum, 5, `rows counted: ${JSON.stringify(buckets(tally))}`);
  // Still in doubt at the end: the URL may be wrong, not the rows.
  assert.deepEqual(buckets(tally), { ...zero, pending: 5 });
  assert.deepEqual(added, []);
});
