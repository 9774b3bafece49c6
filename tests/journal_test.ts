import assert from "node:assert/strict";
import {
  JournalMismatchError,
  LineSet,
  openJournal,
  parseJournal,
} from "../lib/importer/journal.ts";

const identity = {
  input: "/data/a.csv",
  size: 100,
  mtimeMs: 5,
  url: "http://x/movies",
};

Deno.test("LineSet: membership and size over a wide range", () => {
  const set = new LineSet();
  const lines = [0, 1, 7, 8, 9, 1000, 123_456, 2_000_001];
  for (const line of lines) set.add(line);
  set.add(7);
  assert.equal(set.size, lines.length);
  for (const line of lines) assert.ok(set.has(line), String(line));
  for (const line of [2, 6, 10, 999, 2_000_000, 5_000_000]) {
    assert.ok(!set.has(line), String(line));
  }
});

Deno.test("a journal resumes the same import and skips what was delivered", async () => {
  const path = await Deno.makeTempFile();
  const first = await openJournal(path, identity);
  assert.equal(first.start.kind, "new");
  for (const line of [2, 3, 5]) first.record(line);
  await first.close();
  const second = await openJournal(path, identity);
  assert.deepEqual(second.start, { kind: "resumed", delivered: 3 });
  assert.ok(second.has(3) && !second.has(4));
  second.record(4);
  await second.close();
  const parsed = parseJournal(await Deno.readTextFile(path));
  assert.equal(parsed?.lines.size, 4, "appended, not rewritten");
  await Deno.remove(path);
});

Deno.test("--fresh and another import start over; a changed input is refused", async () => {
  const path = await Deno.makeTempFile();
  const first = await openJournal(path, identity);
  first.record(2);
  await first.close();
  const fresh = await openJournal(path, identity, { fresh: true });
  assert.deepEqual(fresh.start, { kind: "fresh", previous: 1 });
  assert.ok(!fresh.has(2));
  fresh.record(9);
  await fresh.close();
  const other = await openJournal(path, {
    ...identity,
    url: "http://y/movies",
  });
  assert.equal(other.start.kind, "other_import");
  assert.ok(!other.has(9));
  await other.close();
  await assert.rejects(
    openJournal(path, { ...identity, url: "http://y/movies", size: 101 }),
    JournalMismatchError,
  );
  await Deno.remove(path);
});

Deno.test("a torn last line (a crash mid-write) is ignored", () => {
  const head = `# parse-and-post journal v1 ${JSON.stringify(identity)}\n`;
  const parsed = parseJournal(head + "2\n3\n1");
  assert.ok(parsed);
  assert.ok(parsed.lines.has(3));
  assert.ok(!parsed.lines.has(1));
  assert.equal(parseJournal("not a journal"), null);
});
