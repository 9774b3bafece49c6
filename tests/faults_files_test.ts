/**
 * Fault matrix, what happens to the files between runs: the input changed
 * after a complete import (touched, copied, appended to, edited, replaced
 * by a file of the same size and time, re-exported), a torn ledger tail,
 * and two importers at once on the same ledger. Rows are keyed by content,
 * so each rerun sends exactly the rows no earlier run delivered.
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import {
  account,
  assertNoCrash,
  caseDir,
  dryRunBodies,
  errorLines,
  exportIn,
  importer,
  ledgerFile,
  ledgerShape,
  multiset,
  readReport,
  storedBodies,
  waitUntil,
  writeExport,
} from "./_faults.ts";

/**
 * What the ledger should hold after runs of several files: each body as
 * many times as the most copies any one file had (a row's key is its body
 * and its occurrence among equal bodies in its file).
 */
class Delivered {
  readonly most = new Map<string, number>();

  /** Adds a file's bodies; returns how many of its rows are new (to be sent). */
  add(bodies: string[]): number {
    let fresh = 0;
    for (const [body, n] of multiset(bodies)) {
      const had = this.most.get(body) ?? 0;
      if (n > had) {
        fresh += n - had;
        this.most.set(body, n);
      }
    }
    return fresh;
  }
}

/** The data lines of a CSV text that are plainly valid rows (10 fields, no quotes, a title). */
function plainRows(lines: string[]): number[] {
  const found: number[] = [];
  lines.forEach((line, i) => {
    const f = line.split(";");
    if (
      i > 0 && f.length === 10 && !line.includes('"') &&
      !line.includes("\uFFFD") && /^[A-Za-z]/.test(f[2]) &&
      /^\d{4}$/.test(f[0])
    ) found.push(i);
  });
  return found;
}

function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** `line` with its title (third field) changed by `edit`. */
function retitled(line: string, edit: (title: string) => string): string {
  const f = line.split(";");
  f[2] = edit(f[2]);
  return f.join(";");
}

Deno.test("input changed after a complete import (touched, copied, appended, edited, same size and time, re-exported): each rerun sends exactly the new or changed rows; 0 lost, 0 duplicates", async (t) => {
  const sink = startSink({
    port: 0,
    failRate: 0.1,
    seed: 41,
    log: false,
    store: true,
  });
  const dir = await caseDir();
  const delivered = new Delivered();
  const csv = `${dir}/movies.csv`;
  const importFile = async (path: string, name: string) => {
    const bodies = await dryRunBodies(path);
    const fresh = delivered.add(bodies);
    const out = await importer(dir, sink.port, [
      "--csv-in",
      path,
      "--url-out",
      `${sink.url}/movies`,
    ]).done;
    assert.equal(out.code, 0, out.stderr);
    const c = (await readReport(dir)).counts;
    assert.equal(c.delivered, fresh, `${name}: delivered = new rows`);
    assert.equal(
      c.alreadyDelivered,
      bodies.length - fresh,
      `${name}: the rest already delivered`,
    );
    assert.equal(c.pending + c.refused, 0);
    const result = account(storedBodies(sink), delivered.most);
    assert.deepEqual(
      { lost: result.lost, duplicates: result.duplicates },
      { lost: 0, duplicates: 0 },
      name,
    );
    return fresh;
  };
  try {
    await writeExport(csv, { rows: 1200, seed: 21 });
    await t.step("complete import", async () => {
      assert.ok(await importFile(csv, "first import") > 1000);
    });
    await t.step("touch: nothing sent", async () => {
      const later = new Date(Date.now() + 60_000);
      await Deno.utime(csv, later, later);
      assert.equal(await importFile(csv, "touched"), 0);
    });
    await t.step(
      "a copy without -p (new mtime, new name): nothing sent",
      async () => {
        await Deno.copyFile(csv, `${dir}/copy.csv`);
        assert.equal(await importFile(`${dir}/copy.csv`, "copy"), 0);
      },
    );
    await t.step("2,000 rows appended: only those sent", async () => {
      const more = new TextDecoder().decode(
        await writeExport(`${dir}/more.csv`, { rows: 2000, seed: 22 }),
      );
      await Deno.writeTextFile(csv, more.slice(more.indexOf("\n") + 1), {
        append: true,
      });
      assert.ok(await importFile(csv, "appended") > 1500);
    });
    await t.step("one row in the middle edited: that row sent", async () => {
      const lines = (await Deno.readTextFile(csv)).split("\n");
      const middle = plainRows(lines).find((i) => i >= lines.length / 2)!;
      lines[middle] = retitled(lines[middle], (s) => `${s} (edited)`);
      await Deno.writeTextFile(csv, lines.join("\n"));
      assert.equal(await importFile(csv, "edited"), 1);
    });
    await t.step(
      "another content, same size and modification time: the changed row sent",
      async () => {
        const before = await Deno.stat(csv);
        const lines = (await Deno.readTextFile(csv)).split("\n");
        const row = plainRows(lines)[100];
        lines[row] = retitled(
          lines[row],
          (s) => (s[0] === "Q" ? "Z" : "Q") + s.slice(1),
        );
        await Deno.writeTextFile(csv, lines.join("\n"));
        await Deno.utime(csv, before.atime!, before.mtime!);
        const after = await Deno.stat(csv);
        assert.equal(after.size, before.size);
        assert.equal(after.mtime!.getTime(), before.mtime!.getTime());
        assert.equal(await importFile(csv, "same size and time"), 1);
      },
    );
    await t.step(
      "a new export of the same name, mostly the same rows: only the new rows sent",
      async () => {
        const lines = (await Deno.readTextFile(csv)).trimEnd().split("\n");
        const kept = lines.slice(1).filter((_, i) => i % 10 !== 3).reverse();
        const extra = new TextDecoder().decode(
          await writeExport(`${dir}/extra.csv`, { rows: 300, seed: 23 }),
        ).trimEnd().split("\n").slice(1);
        await Deno.writeTextFile(
          csv,
          [lines[0], ...kept.slice(0, 1000), ...extra, ...kept.slice(1000)]
            .join("\n") + "\n",
        );
        const fresh = await importFile(csv, "re-exported");
        assert.ok(fresh > 200 && fresh <= 300, `${fresh} new rows`);
      },
    );
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const idempotency of [false, true]) {
  Deno.test(
    `a torn ledger tail (half a key line)${
      idempotency ? ", service honouring the key" : ""
    }: cut with a warning, only the torn row re-sent, ${
      idempotency ? "0 duplicates" : "at most once"
    }; the ledger well-formed after`,
    async () => {
      const sink = startSink({
        port: 0,
        failRate: 0,
        log: false,
        store: true,
        idempotency,
      });
      const dir = await caseDir();
      try {
        const { csv, expected } = await exportIn(dir, { rows: 800, seed: 12 });
        const extra = ["--csv-in", csv, "--url-out", `${sink.url}/movies`];
        assert.equal((await importer(dir, sink.port, extra).done).code, 0);
        const path = await ledgerFile(`${dir}/ledger`);
        const text = await Deno.readTextFile(path);
        const lines = text.trimEnd().split("\n");
        const last = lines.pop()!;
        assert.match(last, /^[0-9a-f]{24} \d+$/, "the last line is a key");
        const torn = last.slice(0, 13);
        await Deno.writeTextFile(path, lines.join("\n") + "\n" + torn);
        const out = await importer(dir, sink.port, extra).done;
        assert.equal(out.code, 0, out.stderr);
        assertNoCrash(out.stderr);
        assert.match(
          out.stderr,
          new RegExp(
            `WARNING ledger .*\\.ledger: a torn last line \\(${torn.length} bytes, a crash mid-write\\) was cut`,
          ),
        );
        const report = await readReport(dir);
        assert.equal(report.counts.delivered, 1, "the torn row is sent again");
        assert.equal(report.counts.alreadyDelivered, expected.length - 1);
        const result = account(storedBodies(sink), expected);
        assert.equal(result.lost, 0);
        assert.equal(result.duplicates, idempotency ? 0 : 1);
        const after = ledgerShape(await Deno.readTextFile(path));
        assert.deepEqual(after.bad, [], "only key and run lines");
        assert.equal(after.keys, expected.length);
        const third = await importer(dir, sink.port, extra).done;
        assert.equal(third.code, 0, third.stderr);
        assert.equal((await readReport(dir)).counts.delivered, 0);
      } finally {
        await sink.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test("two importers at once on the same ledger (the same command twice): the second exits 2 at once naming the ledger and the first's pid and sends nothing; the first completes with its rejects file and report intact; nothing doubled", async () => {
  const sink = startSink({
    port: 0,
    failRate: 0,
    log: false,
    store: true,
    latencyMs: 10,
  });
  const dir = await caseDir();
  try {
    const csv = `${dir}/movies.csv`;
    // Half the rows invalid, so the first has written rejects to its file
    // (64 KiB at a time) before the second starts.
    await writeExport(csv, { rows: 1600, seed: 14, defects: { fffd: 0.5 } });
    const expected = await dryRunBodies(csv);
    const extra = [
      "--csv-in",
      csv,
      "--url-out",
      `${sink.url}/movies`,
      "--concurrency",
      "4",
    ];
    const first = importer(dir, sink.port, extra);
    await waitUntil(
      () => sizeOf(`${dir}/rejects.csv`) > 60_000,
      "the first's rejects written",
    );
    const second = await importer(dir, sink.port, extra).done;
    const during = await readReport(dir);
    const firstOut = await first.done;
    assert.equal(second.code, 2, second.stderr);
    assertNoCrash(second.stderr);
    const errors = errorLines(second.stderr);
    assert.equal(errors.length, 1, second.stderr);
    assert.match(
      errors[0],
      new RegExp(
        `ledger ${dir}/ledger/\\S+\\.ledger is in use by another import \\(process ${first.pid}\\b`,
      ),
    );
    assert.equal(firstOut.code, 0, firstOut.stderr);
    const report = await readReport(dir);
    assert.equal(report.end, "complete");
    const posts = Object.values(sink.counters().post).reduce((a, b) => a + b);
    assert.equal(posts, report.counts.requests, "the second sent nothing");
    assert.deepEqual(
      account(storedBodies(sink), expected),
      { stored: expected.length, lost: 0, duplicates: 0 },
    );
    const rejects = (await Deno.readTextFile(`${dir}/rejects.csv`)).trimEnd()
      .split("\n");
    assert.equal(
      rejects.length - 1,
      report.counts.invalid,
      "the first's rejects file holds each invalid row (the second did not truncate it)",
    );
    assert.match(rejects[0], /^line;reason;/);
    assert.equal(
      (during as unknown as { pid: number }).pid,
      first.pid,
      "while the first runs, report.json is still the first's (the second did not overwrite it)",
    );
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});
