/**
 * Fault matrix, outputs that cannot be written: the rejects file, the
 * report and the ledger folder, each missing (one line, exit 2, nothing
 * sent) and on a full disk — `/dev/full`, and a real tmpfs filled up
 * mid-run (when this machine lets the test mount one; it says so when not).
 * On a full disk the importer stops reading, drains, says which file and
 * why in one line, still prints the summary and exits 1; a rerun with a
 * good path sends the rest, no row lost.
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import type { Sink } from "../lib/sink/server.ts";
import { ledgerPath } from "../lib/importer/ledger.ts";
import {
  account,
  assertNoCrash,
  caseDir,
  dryRunBodies,
  errorLines,
  fill,
  importer,
  type ImporterOptions,
  readReport,
  smallDisk,
  storedBodies,
  writeExport,
} from "./_faults.ts";
import { tmpfsMissing } from "./_disk.ts";

/** Why a tmpfs cannot be mounted here (the tmpfs cases are skipped; the /dev/full ones still run), or null. */
const MOUNT = await tmpfsMissing(
  "faults_outputs_test (the tmpfs cases; the /dev/full cases still run)",
);

const posts = (sink: Sink) =>
  Object.values(sink.counters().post).reduce((a, b) => a + b, 0);

interface Case {
  sink: Sink;
  dir: string;
  csv: string;
  url: string;
}

async function withCase(
  fn: (c: Case) => Promise<void>,
  options: { rows?: number; fffd?: number; idempotency?: boolean } = {},
): Promise<void> {
  const sink = startSink({
    port: 0,
    failRate: 0,
    log: false,
    store: true,
    idempotency: options.idempotency ?? false,
  });
  const dir = await caseDir();
  try {
    const csv = `${dir}/movies.csv`;
    await writeExport(csv, {
      rows: options.rows ?? 600,
      seed: 44,
      defects: options.fffd === undefined ? {} : { fffd: options.fffd },
    });
    await fn({ sink, dir, csv, url: `${sink.url}/movies` });
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs the importer of a case with more flags. */
function run(c: Case, extra: string[], options: ImporterOptions = {}) {
  return importer(c.dir, c.sink.port, [
    "--csv-in",
    c.csv,
    "--url-out",
    c.url,
    ...extra,
  ], options).done;
}

/** One ERROR line, naming `path` (and `also`, when given). */
function assertOneLine(stderr: string, path: string, also?: RegExp): void {
  assertNoCrash(stderr);
  const errors = errorLines(stderr);
  assert.equal(errors.length, 1, stderr);
  assert.ok(errors[0].includes(path), `${errors[0]} names ${path}`);
  if (also) assert.match(errors[0], also);
}

const NO_SPACE = /No space left on device/;

for (
  const [flag, file] of [["--rejects", "rejects.csv"], [
    "--report",
    "report.json",
  ]]
) {
  Deno.test(`${flag} in a missing folder: one line naming the path, exit 2, nothing sent`, async () => {
    await withCase(async (c) => {
      const path = `${c.dir}/missing/${file}`;
      const out = await run(c, [flag, path]);
      assert.equal(out.code, 2, out.stderr);
      assertOneLine(out.stderr, path);
      assert.equal(posts(c.sink), 0, "nothing sent");
    });
  });
}

Deno.test("--ledger-dir that cannot be created (a file on its path): one line naming it, exit 2, nothing sent; a missing one is created", async () => {
  await withCase(async (c) => {
    await Deno.writeTextFile(`${c.dir}/a-file`, "");
    const out = await run(c, ["--ledger-dir", `${c.dir}/a-file/ledger`]);
    assert.equal(out.code, 2, out.stderr);
    assertOneLine(out.stderr, `${c.dir}/a-file/ledger`);
    assert.equal(posts(c.sink), 0, "nothing sent");
    const created = await run(c, ["--ledger-dir", `${c.dir}/new/ledger`]);
    assert.equal(created.code, 0, created.stderr);
    assert.ok((await Deno.stat(`${c.dir}/new/ledger`)).isDirectory);
  });
});

Deno.test("--rejects /dev/full: found before the first request — one line naming it and the error, exit 2, nothing sent; a rerun with a good path sends every row", async () => {
  await withCase(async (c) => {
    const expected = await dryRunBodies(c.csv);
    const out = await run(c, ["--rejects", "/dev/full"], { allowAll: true });
    assert.equal(out.code, 2, out.stderr);
    assertOneLine(out.stderr, "/dev/full", NO_SPACE);
    assert.equal(posts(c.sink), 0, "nothing sent");
    const again = await run(c, []);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      account(storedBodies(c.sink), expected),
      { stored: expected.length, lost: 0, duplicates: 0 },
    );
  });
});

Deno.test("a ledger that is a link to /dev/full: one line naming it, exit 2, nothing sent (not read forever)", async () => {
  await withCase(async (c) => {
    await Deno.mkdir(`${c.dir}/ledger`);
    const path = ledgerPath(`${c.dir}/ledger`, c.url);
    await Deno.symlink("/dev/full", path);
    const running = importer(
      c.dir,
      c.sink.port,
      ["--csv-in", c.csv, "--url-out", c.url],
      { allowAll: true },
    );
    let hung = false;
    const guard = setTimeout(() => {
      hung = true;
      running.kill("SIGKILL");
    }, 6_000);
    const out = await running.done;
    clearTimeout(guard);
    assert.ok(!hung, "the importer hung reading the ledger (killed after 6 s)");
    assert.equal(out.code, 2, out.stderr);
    assertOneLine(out.stderr, path);
    assert.equal(posts(c.sink), 0, "nothing sent");
  });
});

/** Mounts a small tmpfs in the case folder for `fn`, unmounting it after. */
async function onSmallDisk(
  c: Case,
  bytes: number,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const disk = await smallDisk(`${c.dir}/small`, bytes);
  assert.ok(disk.mounted, "mounted");
  try {
    await fn(disk.path);
  } finally {
    await disk.unmount();
  }
}

/** The checks of a run stopped by a full disk mid-run. */
async function assertStoppedByFullDisk(
  out: { code: number; stderr: string },
  path: string,
  dir: string,
): Promise<void> {
  assert.equal(out.code, 1, out.stderr);
  assertOneLine(out.stderr, path, NO_SPACE);
  assert.match(out.stderr, /STOPPED \(an output could not be written\)/);
  assert.match(out.stderr, /exit code: 1/, "the summary is printed");
  const report = await readReport(dir);
  assert.equal(report.end, "output_error");
  assert.ok(report.counts.delivered > 0, "it failed mid-run");
  assert.ok(report.notReadFrom !== null, "reading stopped");
  const c = report.counts;
  assert.equal(
    c.delivered + c.invalid + c.pending + c.refused + c.alreadyDelivered,
    c.rowsRead,
    "every row read is counted once",
  );
}

Deno.test({
  name:
    "the rejects file's disk fills up mid-run: stops reading, drains, one line, summary, exit 1; the rerun: 0 lost, 0 duplicates, every invalid row in its rejects file",
  ignore: MOUNT !== null,
  fn: () =>
    withCase(async (c) => {
      const expected = await dryRunBodies(c.csv);
      await onSmallDisk(c, 32 * 1024, async (disk) => {
        const out = await run(c, ["--rejects", `${disk}/rejects.csv`]);
        await assertStoppedByFullDisk(out, `${disk}/rejects.csv`, c.dir);
      });
      const again = await run(c, []);
      assert.equal(again.code, 0, again.stderr);
      const report = await readReport(c.dir);
      const rejects = await Deno.readTextFile(`${c.dir}/rejects.csv`);
      assert.equal(
        rejects.trimEnd().split("\n").length - 1,
        report.counts.invalid,
      );
      assert.equal(
        report.counts.invalid + expected.length,
        report.counts.rowsRead,
      );
      assert.deepEqual(
        account(storedBodies(c.sink), expected),
        { stored: expected.length, lost: 0, duplicates: 0 },
      );
    }, { rows: 1600, fffd: 0.5 }),
});

for (const idempotency of [false, true]) {
  Deno.test({
    name: `the ledger's disk fills up mid-run${
      idempotency ? " (service honouring the key)" : ""
    }: stops reading, drains, one line, summary, exit 1; the rerun with the ledger moved: 0 lost, ${
      idempotency ? "0" : "at most 40"
    } duplicates`,
    ignore: MOUNT !== null,
    fn: () =>
      withCase(async (c) => {
        const expected = await dryRunBodies(c.csv);
        const good = `${c.dir}/ledger-moved`;
        await onSmallDisk(c, 12 * 1024, async (disk) => {
          const out = await run(c, ["--ledger-dir", `${disk}/ledger`]);
          await assertStoppedByFullDisk(out, `${disk}/ledger`, c.dir);
          await Deno.mkdir(good);
          for await (const e of Deno.readDir(`${disk}/ledger`)) {
            await Deno.copyFile(
              `${disk}/ledger/${e.name}`,
              `${good}/${e.name}`,
            );
          }
        });
        const again = await run(c, ["--ledger-dir", good]);
        assert.equal(again.code, 0, again.stderr);
        const result = account(storedBodies(c.sink), expected);
        console.log(
          `ledger disk full${
            idempotency ? " (idempotency)" : ""
          }: ${result.duplicates} duplicates after the rerun`,
        );
        assert.equal(result.lost, 0, "no row lost");
        assert.ok(
          result.duplicates <= (idempotency ? 0 : 40),
          `${result.duplicates} duplicates`,
        );
      }, { rows: 2000, idempotency }),
  });
}

Deno.test({
  name:
    "the report's disk is full when the final report is written: one line naming it and the error, the summary, exit 1; the rerun sends nothing more",
  ignore: MOUNT !== null,
  fn: () =>
    withCase(async (c) => {
      const expected = await dryRunBodies(c.csv);
      await onSmallDisk(c, 16 * 1024, async (disk) => {
        await fill(disk, 4096);
        const path = `${disk}/report.json`;
        const out = await run(c, ["--report", path]);
        assert.equal(out.code, 1, out.stderr);
        assertOneLine(out.stderr, path, NO_SPACE);
        assert.match(out.stderr, /exit code: 1/, "the summary is printed");
      });
      const again = await run(c, []);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await readReport(c.dir)).counts.delivered, 0);
      assert.deepEqual(
        account(storedBodies(c.sink), expected),
        { stored: expected.length, lost: 0, duplicates: 0 },
      );
    }),
});
