/**
 * The small pure-ish parts of the sink: line writer, log lines, clock,
 * metrics, store, options, sleep.
 */

import assert from "node:assert/strict";
import { createLineWriter } from "../lib/sink/line_writer.ts";
import { formatLogLine, rfc3339Clock } from "../lib/sink/log.ts";
import { createMetrics } from "../lib/sink/metrics.ts";
import { createStore } from "../lib/sink/store.ts";
import { resolveOptions } from "../lib/sink/options.ts";
import { sleep } from "../lib/sink/_shared.ts";
import { zeroFilm } from "../lib/sink/film.ts";
import { FakeClock, settle } from "./_fake_clock.ts";

function collector() {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  return {
    writes,
    target: {
      writeSync(p: Uint8Array) {
        // accept at most 7 bytes per call, to exercise short writes
        const n = Math.min(p.length, 7);
        writes.push(decoder.decode(p.subarray(0, n)));
        return n;
      },
    },
  };
}

Deno.test("line writer: buffers lines until the timer, the size limit or close", async () => {
  const { writes, target } = collector();
  const writer = createLineWriter(target, { flushMs: 20, maxChars: 1000 });
  writer.write("one");
  writer.write("two");
  assert.equal(writes.length, 0); // nothing written yet
  await sleep(60, new AbortController().signal);
  assert.equal(writes.join(""), "one\ntwo\n");
  writes.length = 0;

  writer.write("x".repeat(600));
  assert.equal(writes.length, 0);
  writer.write("y".repeat(600)); // over 1000 characters: flushed now
  assert.equal(
    writes.join(""),
    "x".repeat(600) + "\n" + "y".repeat(600) + "\n",
  );
  writes.length = 0;

  writer.write("last");
  writer.close();
  assert.equal(writes.join(""), "last\n");
  writes.length = 0;
  writer.write("after close"); // still written, synchronously
  assert.equal(writes.join(""), "after close\n");
});

Deno.test("line writer: a failing target drops lines instead of throwing", () => {
  let calls = 0;
  const writer = createLineWriter({
    writeSync() {
      calls++;
      throw new Deno.errors.BrokenPipe("closed");
    },
  }, { maxChars: 1 });
  writer.write("a"); // flushed at once: fails, quietly
  writer.write("b"); // dropped without trying again
  writer.close();
  assert.equal(calls, 1);
});

Deno.test("log: lines are JSON in the service's key order", () => {
  const line = formatLogLine({
    level: "info",
    method: "POST",
    msg: "POST request",
    path: "/movies",
    body: '{"title":"a\\"b","x":"\u2028"}',
    time: "2026-01-02T03:04:05Z",
  });
  const parsed = JSON.parse(line);
  assert.deepEqual(Object.keys(parsed), [
    "level",
    "method",
    "msg",
    "path",
    "body",
    "time",
  ]);
  assert.equal(parsed.body, '{"title":"a\\"b","x":"\u2028"}');
  const error = JSON.parse(formatLogLine({
    level: "error",
    method: "POST",
    msg: "return 400",
    path: "/m",
    error: 'awards must be "Yes" or "No"',
    time: "t",
  }));
  assert.equal(error.error, 'awards must be "Yes" or "No"');
  assert.equal(error.body, undefined);
});

Deno.test("log: the clock is formatted as RFC 3339 seconds, once per second", () => {
  let calls = 0;
  let ms = Date.UTC(2026, 11, 31, 23, 59, 59, 100);
  const time = rfc3339Clock(() => {
    calls++;
    return new Date(ms);
  });
  assert.equal(time(), "2026-12-31T23:59:59Z");
  ms += 800;
  assert.equal(time(), "2026-12-31T23:59:59Z");
  ms += 100;
  assert.equal(time(), "2027-01-01T00:00:00Z");
  assert.equal(calls, 3);
});

Deno.test("metrics: counts by status, snapshot, text and reset", async () => {
  const metrics = createMetrics();
  metrics.countPost(201);
  metrics.countPost(201);
  metrics.countPost(400);
  metrics.countGet(200);
  metrics.countDropped();
  metrics.countStoreDropped();
  metrics.countStoreDropped();
  metrics.countReplayed();
  metrics.countTimeout("idle");
  metrics.countTimeout("write");
  metrics.countTimeout("write");
  assert.deepEqual(metrics.snapshot(), {
    post: { "201": 2, "400": 1 },
    get: { "200": 1 },
    dropped: 1,
    storeDropped: 2,
    replayed: 1,
    timeouts: { idle: 1, read: 0, write: 2 },
  });
  const text = await metrics.text();
  assert.match(text, /^sink_post_total\{status="201"\} 2$/m);
  assert.match(text, /^sink_post_total\{status="400"\} 1$/m);
  assert.match(text, /^sink_get_total\{status="200"\} 1$/m);
  assert.match(text, /^sink_dropped_total 1$/m);
  assert.match(text, /^sink_store_dropped_total 2$/m);
  assert.match(text, /^sink_timeouts_total\{kind="idle"\} 1$/m);
  assert.match(text, /^sink_timeouts_total\{kind="write"\} 2$/m);
  assert.doesNotMatch(text, /kind="read"/); // shown once counted, as in Go
  assert.match(metrics.contentType, /^text\/plain/);
  metrics.reset();
  assert.deepEqual(metrics.snapshot().post, {});
  assert.equal(metrics.snapshot().storeDropped, 0);
  assert.deepEqual(metrics.snapshot().timeouts, { idle: 0, read: 0, write: 0 });
  assert.doesNotMatch(await metrics.text(), /status=|kind=/);
  // separate sinks have separate registries
  const other = createMetrics();
  other.countPost(503);
  assert.deepEqual(metrics.snapshot().post, {});
});

Deno.test("store: keeps movies and keys; reset forgets them", () => {
  const store = createStore({ keep: true });
  const film = { ...zeroFilm(), title: "Heat", year: 1995 };
  store.add(film, null);
  store.add(film, "k");
  assert.equal(store.list().length, 2);
  assert.ok(store.seen("k"));
  store.list().pop(); // a copy
  assert.equal(store.list().length, 2);
  store.reset();
  assert.equal(store.list().length, 0);
  assert.ok(!store.seen("k"));
  store.close();
  // not keeping: keys are still remembered, movies are not
  const keysOnly = createStore({ keep: false });
  keysOnly.add(film, "k");
  assert.ok(keysOnly.seen("k") && !keysOnly.keeping);
  assert.deepEqual(keysOnly.list(), []);
  keysOnly.close();
});

Deno.test("store: a file store needs a writable path", () => {
  assert.throws(() =>
    createStore({ keep: false, file: "/nonexistent-dir/x/movies.jsonl" })
  );
});

Deno.test("options: defaults, implications and errors", () => {
  const defaults = resolveOptions({});
  assert.equal(defaults.seed, undefined);
  assert.equal(defaults.slowMs, 5000);
  assert.equal(defaults.retryAfterSeconds, 1);
  assert.equal(defaults.log, true);
  assert.equal(typeof defaults.now, "function");
  assert.equal(defaults.storeDropRate, 0);
  // Go's server timeouts: 2 s each, idle following read unless set
  assert.equal(defaults.readTimeoutMs, 2000);
  assert.equal(defaults.writeTimeoutMs, 2000);
  assert.equal(defaults.idleTimeoutMs, 2000);
  assert.equal(resolveOptions({ readTimeoutMs: 0 }).idleTimeoutMs, 0);
  assert.equal(
    resolveOptions({ readTimeoutMs: 300, idleTimeoutMs: 0 }).idleTimeoutMs,
    0,
  );
  assert.equal(resolveOptions({ idleTimeoutMs: 50 }).readTimeoutMs, 2000);
  assert.equal(resolveOptions({ storeFile: "x" }).store, true);
  const log = () => {};
  assert.equal(resolveOptions({ log }).log, log);
  for (
    const [options, name] of [
      [{ port: -1 }, "port"],
      [{ port: 1.5 }, "port"],
      [{ failRate: -0.1 }, "failRate"],
      [{ failRate: NaN }, "failRate"],
      [{ seed: -1 }, "seed"],
      [{ dropRate: 2 }, "dropRate"],
      [{ storeDropRate: -1 }, "storeDropRate"],
      [{ readTimeoutMs: -1 }, "readTimeoutMs"],
      [{ writeTimeoutMs: Infinity }, "writeTimeoutMs"],
      [{ idleTimeoutMs: "2s" }, "idleTimeoutMs"],
      [{ retryAfterSeconds: 0.5 }, "retryAfterSeconds"],
      [{ downAfter: 1.5 }, "downAfter"],
      [{ slowMs: Infinity }, "slowMs"],
      [{ storeFile: "" }, "storeFile"],
      [{ store: "yes" }, "store"],
      [{ log: "yes" }, "log"],
    ] as const
  ) {
    assert.throws(
      () => resolveOptions(options as never),
      (error: unknown) =>
        error instanceof RangeError && error.message.includes(name),
      name,
    );
  }
});

Deno.test("sleep: waits its time on the clock it is given", async () => {
  const clock = new FakeClock();
  let woke = false;
  const pending = sleep(30, new AbortController().signal, clock)
    .then(() => woke = true);
  assert.deepEqual(clock.pending(), [30]);
  await clock.advance(29);
  assert.equal(woke, false);
  await clock.advance(1);
  assert.equal(woke, true);
  await pending;
  assert.deepEqual(clock.pending(), []);
});

Deno.test("sleep: an abort ends it at once and clears its timer", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  let woke = false;
  const pending = sleep(10_000, controller.signal, clock)
    .then(() => woke = true);
  await settle();
  assert.equal(woke, false);
  controller.abort();
  await pending; // with no time passing on the clock
  assert.equal(woke, true);
  assert.deepEqual(clock.pending(), []);
  // Already aborted, or no delay: resolved without a timer.
  await sleep(10_000, controller.signal, clock);
  await sleep(0, new AbortController().signal, clock);
  assert.deepEqual(clock.pending(), []);
});
