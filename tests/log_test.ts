import assert from "node:assert/strict";
import { createLogger } from "../lib/importer/log.ts";

Deno.test("levels: messages below the level are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "WARNING",
    write: (l) => lines.push(l),
    now: () => 0,
  });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.critical("c");
  assert.deepEqual(lines, [
    "1970-01-01T00:00:00.000Z WARNING w",
    "1970-01-01T00:00:00.000Z ERROR e",
    "1970-01-01T00:00:00.000Z CRITICAL c",
  ]);
  assert.equal(log.enabled("INFO"), false);
});

Deno.test("row messages are rate-limited per second and the rest counted", () => {
  const lines: string[] = [];
  let now = 0;
  const log = createLogger({
    write: (l) => lines.push(l),
    now: () => now,
    rowWarningsPerSecond: 3,
  });
  for (let i = 0; i < 100_000; i++) log.row(`row ${i}`);
  assert.equal(lines.length, 3);
  now = 1000;
  log.row("next second");
  assert.equal(lines.length, 5);
  assert.match(lines[3], /WARNING 99997 more row messages not shown/);
  assert.match(lines[4], /WARNING next second/);
  log.flush();
  assert.equal(lines.length, 5, "nothing suppressed since");
});

Deno.test("ERROR row messages share the limit; a WARNING level hides nothing of them", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "ERROR",
    write: (l) => lines.push(l),
    now: () => 0,
  });
  log.row("a warning");
  log.row("an error", "ERROR");
  assert.deepEqual(lines.map((l) => l.split(" ").slice(1).join(" ")), [
    "ERROR an error",
  ]);
});
