/**
 * Fault matrix, ambiguous deliveries: the service stored the movie but the
 * importer never saw the answer — it came after the timeout, or the
 * connection was closed instead. Each such row is counted as ambiguous
 * with its line number, retried with the same Idempotency-Key, and ends
 * delivered; a service that honours the key stores it once, one that
 * ignores it may store it twice, but never without the report saying so
 * (the point of sending with undici: fetch silently re-sends such a POST).
 */
import assert from "node:assert/strict";
import { type SinkOptions, startSink } from "../lib/sink/server.ts";
import {
  account,
  assertNoCrash,
  bodiesByLine,
  caseDir,
  exportIn,
  importer,
  multiset,
  readReport,
  storedBodies,
} from "./_faults.ts";

/** Bodies stored more often than expected, with how many times too many. */
function duplicated(
  stored: string[],
  expected: string[],
): Map<string, number> {
  const want = multiset(expected);
  const extra = new Map<string, number>();
  for (const [body, n] of multiset(stored)) {
    if (n > (want.get(body) ?? 0)) extra.set(body, n - (want.get(body) ?? 0));
  }
  return extra;
}

/** The attempts a JSON DEBUG log shows failing below HTTP (timeouts, cut connections). */
function failedAttempts(stderr: string): number {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l)
  ).filter((e) =>
    e.level === "DEBUG" && typeof e.attempt === "number" &&
    typeof e.reason === "string"
  ).length;
}

const AMBIGUOUS: [string, SinkOptions][] = [
  ["slow answers past the timeout (stored, answered after 1.5 s)", {
    slowRate: 0.05,
    slowMs: 1500,
  }],
  ["store-then-drop (stored, connection closed without an answer)", {
    storeDropRate: 0.05,
  }],
];

for (const [fault, options] of AMBIGUOUS) {
  for (const idempotency of [false, true]) {
    Deno.test(
      `ambiguous deliveries, ${fault}${
        idempotency ? ", service honouring the key" : ""
      }: counted with their lines, every row delivered, ${
        idempotency
          ? "0 duplicates"
          : "each duplicate a row the report lists as ambiguous"
      }`,
      async () => {
        const sink = startSink({
          port: 0,
          failRate: 0,
          seed: 5,
          log: false,
          store: true,
          idempotency,
          ...options,
        });
        const dir = await caseDir();
        try {
          const { csv, expected } = await exportIn(dir, {
            rows: 1000,
            seed: 19,
          });
          const out = await importer(dir, sink.port, [
            "--csv-in",
            csv,
            "--url-out",
            `${sink.url}/movies`,
            "--timeout",
            "250ms",
            "--log-format",
            "json",
            "--log-level",
            "DEBUG",
          ]).done;
          assert.equal(out.code, 0, out.stderr.slice(-3000));
          assertNoCrash(out.stderr);
          const report = await readReport(dir);
          const c = report.counts;
          assert.equal(c.pending + c.refused, 0, "every row delivered");
          assert.ok(c.ambiguous > 0, "the fault happened");
          assert.equal(report.ambiguous.items.length, c.ambiguous);
          const lines = await bodiesByLine(csv);
          for (const line of report.ambiguous.items) {
            assert.ok(lines.has(line), `ambiguous line ${line} is a valid row`);
          }
          const stored = storedBodies(sink);
          const result = account(stored, expected);
          assert.equal(result.lost, 0, "no row lost");
          const failures = failedAttempts(out.stderr);
          console.log(
            `${fault}${
              idempotency ? " (idempotency)" : ""
            }: ${c.ambiguous} ambiguous rows, ${failures} failed attempts, ${result.duplicates} duplicates`,
          );
          if (idempotency) {
            assert.equal(result.duplicates, 0, "no row stored twice");
            return;
          }
          assert.ok(
            result.duplicates <= failures,
            `${result.duplicates} duplicates, ${failures} ambiguous attempts`,
          );
          const ambiguousBodies = new Set(
            report.ambiguous.items.map((l) => lines.get(l)),
          );
          for (const body of duplicated(stored, expected).keys()) {
            assert.ok(
              ambiguousBodies.has(body),
              `a duplicate nobody was told of: ${body}`,
            );
          }
        } finally {
          await sink.close();
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  }
}
