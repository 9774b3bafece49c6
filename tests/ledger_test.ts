import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  bodyDigest,
  DIGEST,
  keyText,
  type RowKey,
} from "../lib/importer/identity.ts";
import {
  type Ledger,
  type LedgerOptions,
  ledgerPath,
  openLedger,
  scanRuns,
} from "../lib/importer/ledger.ts";
import { fill, smallDisk, tmpfsMissing } from "./_disk.ts";

const URL_A = "http://localhost:9009/movies";
const URL_B = "http://localhost:9009/films";
const MAGIC = "# parse-and-post ledger v2 ";
const KEY_LINE = /^[0-9a-f]{24} (0|[1-9][0-9]*)$/;

const key = (n: number, k = 0): RowKey => ({ ...bodyDigest(`row ${n}`), k });

/** Opens a ledger that must open. */
async function open(options: LedgerOptions): Promise<Ledger> {
  const opened = await openLedger(options);
  if (opened.kind !== "ok") assert.fail(opened.message);
  return opened.ledger;
}

/** Opens a ledger that must not open; its one-line message. */
async function refused(options: LedgerOptions): Promise<string> {
  const opened = await openLedger(options);
  if (opened.kind !== "error") {
    opened.ledger.close();
    assert.fail(`opened ${opened.ledger.path}`);
  }
  assert.ok(!opened.message.includes("\n"), opened.message);
  return opened.message;
}

/** The lines of a file; asserts it ends with a newline. */
function lines(path: string): string[] {
  const text = Deno.readTextFileSync(path);
  assert.ok(
    text.endsWith("\n"),
    `${path} ends in ${JSON.stringify(text.slice(-30))}`,
  );
  return text.slice(0, -1).split("\n");
}

/** Every line a header, a run line or a key line: the file a run leaves. */
function assertWellFormed(path: string, url: string): string[] {
  const all = lines(path);
  assert.ok(all[0].startsWith(MAGIC), all[0]);
  assert.equal(JSON.parse(all[0].slice(MAGIC.length)).url, url);
  for (const line of all.slice(1)) {
    if (line.startsWith("# run ")) JSON.parse(line.slice(6));
    else assert.match(line, KEY_LINE);
  }
  return all.slice(1).filter((l) => !l.startsWith("#"));
}

/** A ledger's header line for `url`. */
const header = (url: string) =>
  `${MAGIC}${
    JSON.stringify({ url, digest: DIGEST, created: "2026-01-01T00:00:00.000Z" })
  }\n`;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `text` where the ledger of `url` lives in `dir`; returns the path. */
function plant(dir: string, url: string, text: string | Uint8Array): string {
  const path = ledgerPath(dir, url);
  Deno.mkdirSync(dirname(path), { recursive: true });
  if (typeof text === "string") Deno.writeTextFileSync(path, text);
  else Deno.writeFileSync(path, text);
  return path;
}

Deno.test("ledger: a new one is written with its header and run line before anything is recorded", async () => {
  await withDir(async (dir) => {
    const nested = join(dir, "a", "b");
    const ledger = await open({
      dir: nested,
      url: URL_A,
      run: { pid: 4242, input: "/x.csv" },
    });
    try {
      assert.equal(ledger.path, ledgerPath(nested, URL_A));
      assert.equal(ledger.held, 0);
      assert.equal(ledger.cutBytes, 0);
      assert.equal(ledger.badLines, 0);
      // On disk while the ledger is still open (it was fsynced at open).
      const [head, run, ...rest] = lines(ledger.path);
      assert.ok(head.startsWith(MAGIC));
      const meta = JSON.parse(head.slice(MAGIC.length));
      assert.equal(meta.url, URL_A);
      assert.equal(meta.digest, DIGEST);
      assert.ok(!Number.isNaN(Date.parse(meta.created)));
      assert.deepEqual(JSON.parse(run.slice("# run ".length)), {
        pid: 4242,
        input: "/x.csv",
      });
      assert.ok(run.startsWith("# run "));
      assert.deepEqual(rest, []);
    } finally {
      ledger.close();
    }
  });
});

Deno.test("ledger: reopened, it holds the keys recorded earlier (occurrences 0..6 and overflow)", async () => {
  await withDir(async (dir) => {
    const first = await open({ dir, url: URL_A, run: { pid: 1 } });
    const recorded = [key(1), key(1, 1), key(2, 6), key(2, 7), key(3, 12345)];
    for (const k of recorded) first.record(k);
    first.close();
    const again = await open({ dir, url: URL_A, run: { pid: 2 } });
    try {
      assert.equal(again.held, recorded.length);
      assert.equal(again.keys.delivered, recorded.length);
      const expect = new Set(recorded.map(keyText));
      for (const n of [1, 2, 3]) {
        const d = bodyDigest(`row ${n}`);
        for (let k = 0; k < 12400; k++) {
          again.keys.occur(d, k);
          assert.equal(
            again.keys.lastDelivered(k),
            expect.has(keyText({ ...d, k })),
          );
        }
      }
      const all = lines(again.path);
      assert.equal(all.filter((l) => l.startsWith(MAGIC)).length, 1);
      assert.deepEqual(
        all.filter((l) => l.startsWith("# run ")).map((l) =>
          JSON.parse(l.slice(6)).pid
        ),
        [1, 2],
      );
    } finally {
      again.close();
    }
  });
});

Deno.test("ledger: one file per URL", () => {
  const urls = [
    URL_A,
    URL_B,
    "http://localhost:9010/movies",
    "http://127.0.0.1:9009/movies",
    "https://localhost:9009/movies",
    "http://localhost:9009/movies?tenant=2",
    "http://localhost:9009/movies/x", // same slug shape, other path
  ];
  const paths = urls.map((u) => ledgerPath("ledger", u));
  assert.equal(new Set(paths).size, urls.length);
  for (const p of paths) {
    assert.match(p, /^ledger\/[A-Za-z0-9._-]+-[0-9a-f]{8}\.ledger$/);
  }
  // Long URLs: a bounded, readable name.
  const long = ledgerPath(
    "ledger",
    `http://example.com/${"very-long-path/".repeat(20)}`,
  );
  assert.ok(long.length < 100, long);
});

Deno.test("ledger: spellings of the same URL share one ledger (host case, default port)", () => {
  // BUG: ledgerPath and urlTag hash the URL as typed, so changing
  // URL_OUT from http://LOCALHOST:9009/movies to http://localhost:9009/movies
  // (the same destination) finds no ledger and sends every row again.
  const same = [
    ["http://localhost:9009/movies", "http://LOCALHOST:9009/movies"],
    ["http://localhost/movies", "http://localhost:80/movies"],
    ["https://example.com/movies", "https://example.com:443/movies"],
  ];
  for (const [a, b] of same) {
    assert.equal(
      ledgerPath("ledger", a),
      ledgerPath("ledger", b),
      `${a} vs ${b}`,
    );
  }
});

Deno.test("ledger: the ledger of another URL is refused, in one line, and left as it was", async () => {
  await withDir(async (dir) => {
    const original = header(URL_B) + `# run {"pid":7}\n${keyText(key(1))}\n`;
    const path = plant(dir, URL_A, original);
    for (const readOnly of [false, true]) {
      const message = await refused({ dir, url: URL_A, readOnly });
      assert.ok(message.includes(URL_A) && message.includes(URL_B), message);
      assert.ok(message.includes(path), message);
    }
    assert.equal(Deno.readTextFileSync(path), original);
  });
});

Deno.test("ledger: a ledger written with another digest is refused, not silently matched against nothing", async () => {
  // BUG: the header records the digest ("sha256/96" before af8a4e6, now
  // "xxh128/96") but loading never checks it: an older ledger loads, no key
  // matches a row any more, and every row it records is sent again (the
  // service ignores Idempotency-Key: SINK.md).
  await withDir(async (dir) => {
    const old = `${MAGIC}${
      JSON.stringify({
        url: URL_A,
        digest: "sha256/96",
        created: "2026-11-30T00:00:00.000Z",
      })
    }\n` +
      `# run {}\n${keyText(key(1))}\n`;
    const path = plant(dir, URL_A, old);
    for (const readOnly of [false, true]) {
      const message = await refused({ dir, url: URL_A, readOnly });
      assert.ok(
        message.includes("sha256/96") && message.includes(DIGEST),
        message,
      );
    }
    assert.equal(Deno.readTextFileSync(path), old);
  });
});

Deno.test("ledger: a file that is not a ledger is refused and left as it was", async () => {
  await withDir(async (dir) => {
    for (
      const text of [
        "year;length;title\n1999;100;Matrix\n",
        "not a ledger, and no newline",
        `${keyText(key(1))}\n`,
        '# parse-and-post ledger v1 {"url":"http://localhost:9009/movies"}\n',
        `${MAGIC}{not json}\n`,
      ]
    ) {
      const path = plant(dir, URL_A, text);
      for (const readOnly of [false, true]) {
        const message = await refused({ dir, url: URL_A, readOnly });
        assert.match(message, /not a parse-and-post ledger/, message);
      }
      assert.equal(Deno.readTextFileSync(path), text);
    }
  });
});

Deno.test("ledger: a torn last line is cut back to the last newline, and never spliced with the next key", async () => {
  await withDir(async (dir) => {
    const a = keyText(key(1)), b = keyText(key(2, 3));
    const whole = header(URL_A) + `# run {"pid":1}\n${a}\n${b}\n`;
    // The next key would have been "<digest> 12"; only "<digest> 1" made it.
    const torn = keyText(key(3, 12)).slice(0, -1);
    const path = plant(dir, URL_A, whole + torn);
    const ledger = await open({ dir, url: URL_A, run: { pid: 2 } });
    try {
      assert.equal(ledger.cutBytes, torn.length);
      assert.equal(ledger.held, 2);
      assert.equal(ledger.badLines, 0);
      const text = Deno.readTextFileSync(path);
      assert.equal(text, whole + '# run {"pid":2}\n');
      ledger.record(key(4, 4));
      ledger.record(key(3, 12));
    } finally {
      ledger.close();
    }
    const keys = assertWellFormed(path, URL_A);
    assert.deepEqual(keys, [a, b, keyText(key(4, 4)), keyText(key(3, 12))]);
    assert.ok(!keys.includes(`${torn}4`));
  });
});

Deno.test("ledger: a torn tail is cut across read chunks (a ledger over 1 MiB)", async () => {
  await withDir(async (dir) => {
    const n = 45_000; // 27 bytes a line: about 1.2 MB, more than one 1 MiB read
    const body = Array.from(
      { length: n },
      (_, i) => keyText(key(i, i % 9)) + "\n",
    ).join("");
    const whole = header(URL_A) + `# run {}\n` + body;
    const path = plant(dir, URL_A, whole + "0123456789abcdef0");
    const ledger = await open({ dir, url: URL_A });
    try {
      assert.equal(ledger.held, n);
      assert.equal(ledger.badLines, 0);
      assert.equal(ledger.cutBytes, 17);
      assert.ok(Deno.readTextFileSync(path).startsWith(whole + "# run "));
      // The last whole line, split by the chunk boundary or not, was loaded.
      const last = bodyDigest(`row ${n - 1}`), k = (n - 1) % 9;
      for (let i = 0; i <= k; i++) ledger.keys.occur(last, 1);
      assert.ok(ledger.keys.lastDelivered(k));
    } finally {
      ledger.close();
    }
    assertWellFormed(path, URL_A);
  });
});

Deno.test("ledger: a crash while creating it (part of the header, or nothing) starts it again", async () => {
  await withDir(async (dir) => {
    const full = header(URL_A);
    for (
      const partial of [
        "",
        "#",
        MAGIC.slice(0, 10),
        MAGIC,
        full.slice(0, 40),
        full.slice(0, -1),
      ]
    ) {
      const path = plant(dir, URL_A, partial);
      const ledger = await open({ dir, url: URL_A, run: { pid: 3 } });
      try {
        assert.equal(ledger.cutBytes, partial.length, JSON.stringify(partial));
        assert.equal(ledger.held, 0);
        ledger.record(key(1));
      } finally {
        ledger.close();
      }
      const all = lines(path);
      assert.equal(all.length, 3, JSON.stringify(all));
      assert.deepEqual(assertWellFormed(path, URL_A), [keyText(key(1))]);
    }
  });
});

Deno.test("ledger: unreadable lines in the middle are counted and ignored", async () => {
  await withDir(async (dir) => {
    const good = [key(1), key(2, 1), key(3, 9)].map(keyText);
    const text = header(URL_A) + [
      "# run {}",
      good[0],
      "garbage",
      "",
      good[1].toUpperCase(),
      `${good[1]} `,
      good[1],
      "# a comment line is not counted",
      good[2].slice(0, 20),
      good[2],
    ].join("\n") + "\n";
    const path = plant(dir, URL_A, text);
    const ledger = await open({ dir, url: URL_A });
    try {
      assert.equal(ledger.badLines, 5);
      assert.equal(ledger.held, 3);
      assert.equal(ledger.cutBytes, 0);
      assert.ok(Deno.readTextFileSync(path).startsWith(text));
    } finally {
      ledger.close();
    }
  });
});

Deno.test("ledger: fresh loads no key but counts those held, and keeps the file", async () => {
  await withDir(async (dir) => {
    const first = await open({ dir, url: URL_A });
    first.record(key(1));
    first.record(key(2));
    first.close();
    const before = Deno.readTextFileSync(ledgerPath(dir, URL_A));
    const fresh = await open({ dir, url: URL_A, fresh: true });
    try {
      assert.equal(fresh.held, 2);
      assert.equal(fresh.keys.delivered, 0);
      fresh.keys.occur(bodyDigest("row 1"), 2);
      assert.equal(fresh.keys.lastDelivered(0), false);
      fresh.record(key(1));
    } finally {
      fresh.close();
    }
    const after = Deno.readTextFileSync(ledgerPath(dir, URL_A));
    assert.ok(after.startsWith(before), "the file was rewritten");
    assert.deepEqual(
      assertWellFormed(fresh.path, URL_A),
      [key(1), key(2), key(1)].map(keyText),
    );
  });
});

Deno.test("ledger: read-only creates nothing, locks nothing, writes nothing", async () => {
  await withDir(async (dir) => {
    const missing = join(dir, "none");
    const empty = await open({ dir: missing, url: URL_A, readOnly: true });
    empty.record(key(1));
    empty.flushSync();
    empty.close();
    await assert.rejects(Deno.stat(missing), Deno.errors.NotFound);

    const writer = await open({ dir, url: URL_A, run: { pid: 11 } });
    writer.record(key(1));
    writer.flushSync();
    // Opened while a run holds the lock: not refused.
    const reader = await open({ dir, url: URL_A, readOnly: true });
    assert.equal(reader.held, 1);
    const before = Deno.readTextFileSync(reader.path);
    reader.record(key(2));
    await new Promise((r) => setTimeout(r, 0));
    reader.flushSync();
    reader.close();
    assert.equal(Deno.readTextFileSync(reader.path), before);
    writer.close();
  });
});

Deno.test("ledger: read-only leaves a torn tail as it is", async () => {
  await withDir(async (dir) => {
    const text = header(URL_A) +
      `# run {}\n${keyText(key(1))}\n${keyText(key(2)).slice(0, 9)}`;
    const path = plant(dir, URL_A, text);
    const ledger = await open({ dir, url: URL_A, readOnly: true });
    assert.equal(ledger.held, 1);
    ledger.close();
    assert.equal(Deno.readTextFileSync(path), text);
  });
});

Deno.test("ledger: a second run on the same URL is refused, naming the running one's pid", async () => {
  await withDir(async (dir) => {
    const earlier = await open({ dir, url: URL_A, run: { pid: 1111 } });
    earlier.close();
    const holder = await open({
      dir,
      url: URL_A,
      run: { pid: 4242, started: "2026-12-01T10:00:00Z", input: "/data/a.csv" },
    });
    const before = Deno.readTextFileSync(holder.path);
    try {
      const message = await refused({ dir, url: URL_A, run: { pid: 5555 } });
      assert.match(message, /in use/);
      assert.match(message, /4242/);
      assert.ok(
        !message.includes("1111") && !message.includes("5555"),
        message,
      );
      assert.match(message, /\/data\/a\.csv/);
      assert.equal(
        Deno.readTextFileSync(holder.path),
        before,
        "the refused run wrote to the file",
      );
      // Another URL is another ledger: not refused.
      const other = await open({ dir, url: URL_B });
      other.close();
    } finally {
      holder.close();
    }
    const after = await open({ dir, url: URL_A, run: { pid: 6 } });
    after.close();
    assert.equal((await scanRuns(after.path)).lastRun?.pid, 6);
  });
});

Deno.test("ledger: a recorded key is in the file within the turn, before close", async () => {
  await withDir(async (dir) => {
    const ledger = await open({ dir, url: URL_A });
    try {
      ledger.record(key(1));
      ledger.record(key(2, 8));
      await Promise.resolve();
      assert.deepEqual(assertWellFormed(ledger.path, URL_A), [
        keyText(key(1)),
        keyText(key(2, 8)),
      ]);
      ledger.record(key(3));
      await new Promise((r) => setTimeout(r, 0));
      assert.deepEqual(assertWellFormed(ledger.path, URL_A).length, 3);
      ledger.record(key(4));
      ledger.flushSync(); // at once
      assert.deepEqual(assertWellFormed(ledger.path, URL_A).length, 4);
    } finally {
      ledger.close();
    }
    ledger.close(); // twice: nothing
    assert.equal(assertWellFormed(ledger.path, URL_A).length, 4);
    assert.equal(ledger.error, null);
  });
});

Deno.test("ledger: thousands of keys recorded in one turn all arrive, in order", async () => {
  await withDir(async (dir) => {
    const ledger = await open({ dir, url: URL_A, syncEveryMs: 1 });
    const keys = Array.from({ length: 20_000 }, (_, i) => key(i, i % 11));
    for (const k of keys) ledger.record(k);
    await Promise.resolve();
    assert.equal(assertWellFormed(ledger.path, URL_A).length, keys.length);
    // Let the fsync timer run at least once while open.
    await new Promise((r) => setTimeout(r, 20));
    ledger.close();
    assert.deepEqual(assertWellFormed(ledger.path, URL_A), keys.map(keyText));
  });
});

// --- A failing disk: a 64 KiB tmpfs, filled up. ---------------------------

const noTmpfs = await tmpfsMissing("ledger_test");

Deno.test({
  name:
    "ledger: a failed write is told once through onError with the path, and never throws",
  ignore: noTmpfs !== null,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ledger_full_" });
    const disk = await smallDisk(`${root}/disk`, 64 * 1024);
    assert.ok(disk.mounted);
    const dir = disk.path;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    try {
      const errors: string[] = [];
      const ledger = await open({
        dir,
        url: URL_A,
        syncEveryMs: 1,
        onError: (m) => errors.push(m),
      });
      await fill(dir, 0);
      // More than the page the file already has: the write must fail.
      for (let i = 0; i < 1000; i++) ledger.record(key(i));
      await new Promise((r) => setTimeout(r, 0));
      for (let i = 0; i < 1000; i++) ledger.record(key(i, 1));
      await new Promise((r) => setTimeout(r, 20)); // the fsync timer too
      ledger.flushSync();
      ledger.close();
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.ok(errors[0].includes(ledger.path), errors[0]);
      assert.match(errors[0], /^cannot write the ledger .*space/i);
      assert.ok(!errors[0].includes("\n"));
      assert.equal(ledger.error, errors[0]);
      assert.deepEqual(unhandled, []);
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
      await disk.unmount();
      await Deno.remove(root, { recursive: true });
    }
  },
});
