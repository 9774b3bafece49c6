/**
 * The random 503s and every optional fault mode, over loopback, plus the
 * pure decisions of `lib/sink/faults.ts`.
 */

import assert from "node:assert/strict";
import { type SinkOptions, startSink } from "../lib/sink/server.ts";
import { createFaults, type FaultPlan } from "../lib/sink/faults.ts";
import { seededRandom } from "../lib/shared/random.ts";

const MOVIE = JSON.stringify({ title: "Heat", year: 1995 });
const NO_FAULTS: FaultPlan = {
  failRate: 0,
  latencyMs: 0,
  jitterMs: 0,
  rate429: 0,
  dropRate: 0,
  storeDropRate: 0,
  slowRate: 0,
  downAfter: 0,
  downSeconds: 0,
};

function sinkWith(options: SinkOptions) {
  return startSink({ port: 0, failRate: 0, log: false, ...options });
}

async function postStatus(
  url: string,
  body = MOVIE,
  init: RequestInit & { client?: Deno.HttpClient } = {},
): Promise<number> {
  const res = await fetch(`${url}/movies`, { method: "POST", body, ...init });
  await res.body?.cancel();
  return res.status;
}

/** POSTs `count` movies over `workers` parallel connections. */
async function postMany(url: string, count: number, workers = 16) {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) {
        next++;
        statuses.push(await postStatus(url));
      }
    }),
  );
  return statuses;
}

Deno.test("faults: a seeded run of 10,000 POSTs has the 503 share of the setting", async () => {
  const failRate = 0.2;
  const seed = 20260601;
  const n = 10_000;
  const sink = sinkWith({ failRate, seed, store: true });
  try {
    const statuses = await postMany(sink.url, n);
    const failures = statuses.filter((s) => s === 503).length;
    assert.equal(failures + statuses.filter((s) => s === 201).length, n);
    // within 4 standard deviations of the binomial mean
    const mean = n * failRate;
    const sd = Math.sqrt(n * failRate * (1 - failRate));
    assert.ok(
      Math.abs(failures - mean) <= 4 * sd,
      `${failures} 503s, expected ${mean} ± ${4 * sd}`,
    );
    // and exactly the seeded stream's count: one draw per POST
    const random = seededRandom(seed);
    let expected = 0;
    for (let i = 0; i < n; i++) if (random() < failRate) expected++;
    assert.equal(failures, expected);
    assert.deepEqual(sink.counters().post, {
      "201": n - failures,
      "503": failures,
    });
    assert.equal(sink.accepted().length, n - failures); // 503s store nothing
  } finally {
    await sink.close();
  }
});

Deno.test("faults: the 503 comes before the body is read or checked", async () => {
  const lines: string[] = [];
  const sink = sinkWith({ failRate: 1, log: (line) => lines.push(line) });
  try {
    const res = await fetch(`${sink.url}/movies`, {
      method: "POST",
      body: "not json at all",
    });
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "");
    const line = JSON.parse(lines[0]);
    assert.equal(line.msg, "return 503");
    assert.equal(line.body, undefined); // never read
    assert.deepEqual(sink.counters().post, { "503": 1 });
  } finally {
    await sink.close();
  }
});

Deno.test("faults: reset() replays the seeded sequence, like a restart", async () => {
  const sink = sinkWith({ failRate: 0.5, seed: 3 });
  try {
    const first: number[] = [];
    for (let i = 0; i < 20; i++) first.push(await postStatus(sink.url));
    sink.reset();
    const second: number[] = [];
    for (let i = 0; i < 20; i++) second.push(await postStatus(sink.url));
    assert.deepEqual(second, first);
    assert.ok(first.includes(503) && first.includes(201));
  } finally {
    await sink.close();
  }
});

Deno.test("faults: latency delays the answer by the fixed amount plus jitter", async () => {
  const latencyMs = 80;
  const sink = sinkWith({ latencyMs });
  try {
    for (const method of ["POST", "GET"]) {
      const init = method === "POST" ? { method, body: MOVIE } : {};
      const answer = fetch(`${sink.url}/movies`, init);
      // Set before the sink can see the request: due before its answer.
      const latencyPassed = new Promise<"latency passed">((resolve) =>
        setTimeout(() => resolve("latency passed"), latencyMs)
      );
      const first = await Promise.race([
        answer.then(() => "answer" as const),
        latencyPassed,
      ]);
      assert.equal(first, "latency passed", method);
      const res = await answer;
      await res.body?.cancel();
      assert.equal(res.status, method === "POST" ? 201 : 200);
    }
  } finally {
    await sink.close();
  }
  // the amount: the fixed latency alone when there is no jitter
  const fixed = createFaults({ ...NO_FAULTS, latencyMs }, 1);
  assert.equal(fixed.delayMs(), latencyMs);
  // jitter: uniform in [latency, latency + jitter), seeded
  const faults = createFaults({ ...NO_FAULTS, latencyMs: 10, jitterMs: 5 }, 1);
  const delays = Array.from({ length: 1000 }, () => faults.delayMs());
  assert.ok(delays.every((d) => d >= 10 && d < 15));
  assert.ok(Math.max(...delays) - Math.min(...delays) > 4);
  const none = createFaults(NO_FAULTS, 1);
  assert.equal(none.delayMs(), 0);
});

Deno.test("faults: 429 answers carry Retry-After and store nothing", async () => {
  const sink = sinkWith({ rate429: 1, retryAfterSeconds: 7, store: true });
  try {
    const res = await fetch(`${sink.url}/movies`, {
      method: "POST",
      body: MOVIE,
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    await res.body?.cancel();
    assert.deepEqual(sink.counters().post, { "429": 1 });
    assert.deepEqual(sink.accepted(), []);
  } finally {
    await sink.close();
  }
});

Deno.test("faults: a dropped connection reaches the client as a network error", async () => {
  const sink = sinkWith({ dropRate: 1, store: true });
  try {
    await assert.rejects(
      fetch(`${sink.url}/movies`, { method: "POST", body: MOVIE }),
      TypeError,
    );
    // a raw client sees the connection closed with not one byte of answer
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: sink.port });
    try {
      await conn.write(
        new TextEncoder().encode(
          `POST /movies HTTP/1.1\r\nHost: x\r\nContent-Length: ${MOVIE.length}\r\n\r\n${MOVIE}`,
        ),
      );
      const buffer = new Uint8Array(1024);
      let read: number | null = 0;
      try {
        read = await conn.read(buffer);
      } catch (error) {
        assert.ok(error instanceof Deno.errors.ConnectionReset);
        read = null;
      }
      assert.equal(read, null);
    } finally {
      conn.close();
    }
    assert.equal(sink.counters().dropped, 2);
    assert.deepEqual(sink.counters().post, {});
    assert.deepEqual(sink.accepted(), []);
    // the other routes still answer through the relay
    const metrics = await fetch(`${sink.url}/metrics`);
    assert.match(await metrics.text(), /^sink_dropped_total 2$/m);
  } finally {
    await sink.close();
  }
});

Deno.test("faults: a seeded drop rate drops some and serves the rest", async () => {
  const sink = sinkWith({ dropRate: 0.5, seed: 11 });
  const tally = async (init: { client?: Deno.HttpClient }) => {
    let dropped = 0, created = 0;
    for (let i = 0; i < 30; i++) {
      try {
        if ((await postStatus(sink.url, MOVIE, init)) === 201) created++;
      } catch (error) {
        assert.ok(error instanceof TypeError);
        dropped++;
      }
    }
    assert.equal(dropped + created, 30);
    assert.ok(dropped > 0 && created > 0);
    return { dropped, created };
  };
  // one connection per request: the client sees every drop
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const fresh = await tally({ client });
    assert.equal(sink.counters().dropped, fresh.dropped);
    assert.equal(sink.counters().post["201"], fresh.created);
    // With keep-alive, Deno's fetch (hyper) silently retries, once, a
    // request whose reused connection closed before any answer byte: the
    // sink counts more drops than the client sees errors.
    sink.reset();
    const pooled = await tally({});
    assert.equal(sink.counters().post["201"], pooled.created);
    assert.ok(sink.counters().dropped >= pooled.dropped);
  } finally {
    client.close();
    await sink.close();
  }
});

Deno.test("faults: slow after accept stores the movie though the client gives up", async () => {
  const sink = sinkWith({ slowRate: 1, slowMs: 5000, store: true });
  try {
    await assert.rejects(
      fetch(`${sink.url}/movies`, {
        method: "POST",
        body: MOVIE,
        signal: AbortSignal.timeout(100),
      }),
      (error: unknown) => (error as Error).name === "TimeoutError",
    );
    assert.equal(sink.accepted().length, 1);
    assert.deepEqual(sink.counters().post, { "201": 1 });
  } finally {
    await sink.close();
  }
});

Deno.test("faults: close() ends a pending slow answer: it goes out before it was due", async () => {
  const slowMs = 5000;
  // Set before the POST is sent, so due no later than the sink's answer.
  let answerDue!: ReturnType<typeof setTimeout>;
  const slowAnswerDue = new Promise<"answer due">((resolve) => {
    answerDue = setTimeout(() => resolve("answer due"), slowMs);
  });
  const { promise: accepted, resolve: onAccepted } = Promise.withResolvers<
    void
  >();
  const sink = sinkWith({
    slowRate: 1,
    slowMs,
    writeTimeoutMs: 0, // the answer goes out however late close() comes
    log: (line) => {
      if (JSON.parse(line).msg === "POST request") onAccepted();
    },
  });
  const response = fetch(`${sink.url}/movies`, {
    method: "POST",
    body: MOVIE,
  });
  await accepted; // stored and counted; its answer now waits slowMs
  const first = await Promise.race([
    sink.close().then(() => "closed" as const),
    slowAnswerDue,
  ]);
  clearTimeout(answerDue);
  assert.equal(first, "closed");
  const res = await response;
  await res.body?.cancel();
  assert.equal(res.status, 201);
});

Deno.test("faults: the down window answers 503 for N seconds after M POSTs", async () => {
  let clock = Date.parse("2026-06-01T12:00:00Z");
  const sink = sinkWith({
    downAfter: 2,
    downSeconds: 10,
    now: () => new Date(clock),
  });
  try {
    assert.equal(await postStatus(sink.url), 201);
    assert.equal(await postStatus(sink.url), 201);
    assert.equal(await postStatus(sink.url), 503); // the window opens
    clock += 9_999;
    assert.equal(await postStatus(sink.url), 503);
    const get = await fetch(`${sink.url}/movies`); // GETs are not affected
    assert.equal(get.status, 200);
    await get.body?.cancel();
    clock += 1;
    assert.equal(await postStatus(sink.url), 201); // over, for good
    clock += 60_000;
    assert.equal(await postStatus(sink.url), 201);
    assert.deepEqual(sink.counters().post, { "201": 4, "503": 2 });
    sink.reset(); // re-armed
    assert.equal(await postStatus(sink.url), 201);
    assert.equal(await postStatus(sink.url), 201);
    assert.equal(await postStatus(sink.url), 503);
  } finally {
    await sink.close();
  }
});

Deno.test("faults: a repeated Idempotency-Key is answered 201 but stored once", async () => {
  const sink = sinkWith({ idempotency: true, store: true });
  try {
    const withKey = (key: string) => ({ headers: { "Idempotency-Key": key } });
    assert.equal(await postStatus(sink.url, MOVIE, withKey("k1")), 201);
    assert.equal(await postStatus(sink.url, MOVIE, withKey("k1")), 201);
    assert.equal(await postStatus(sink.url, MOVIE, withKey("k2")), 201);
    assert.equal(await postStatus(sink.url, MOVIE), 201); // no key: stored
    assert.equal(await postStatus(sink.url, MOVIE), 201); // ... each time
    assert.equal(sink.accepted().length, 4);
    assert.deepEqual(sink.counters().post, { "201": 5 });
    assert.equal(sink.counters().replayed, 1);
    // a refused movie does not take its key
    assert.equal(await postStatus(sink.url, "{}", withKey("k3")), 400);
    assert.equal(await postStatus(sink.url, MOVIE, withKey("k3")), 201);
    assert.equal(sink.accepted().length, 5);
  } finally {
    await sink.close();
  }
  // off by default: the header is ignored
  const plain = sinkWith({ store: true });
  try {
    const init = { headers: { "Idempotency-Key": "same" } };
    await postStatus(plain.url, MOVIE, init);
    await postStatus(plain.url, MOVIE, init);
    assert.equal(plain.accepted().length, 2);
  } finally {
    await plain.close();
  }
});

Deno.test("faults: a retry after a slow answer's timeout is not stored twice", async () => {
  const sink = sinkWith({
    idempotency: true,
    store: true,
    slowRate: 1,
    slowMs: 5000,
  });
  try {
    const headers = { "Idempotency-Key": "movie-42" };
    await assert.rejects(
      fetch(`${sink.url}/movies`, {
        method: "POST",
        body: MOVIE,
        headers,
        signal: AbortSignal.timeout(100),
      }),
    );
    assert.equal(await postStatus(sink.url, MOVIE, { headers }), 201);
    assert.equal(sink.accepted().length, 1);
  } finally {
    await sink.close();
  }
});

Deno.test("faults: each fault draws from its own seeded stream", () => {
  const plan = { ...NO_FAULTS, failRate: 0.3 };
  const alone = createFaults(plan, 5);
  const mixed = createFaults({
    ...plan,
    rate429: 0.5,
    dropRate: 0.5,
    storeDropRate: 0.5,
    slowRate: 0.5,
  }, 5);
  const slowAlone = createFaults({ ...NO_FAULTS, slowRate: 0.5 }, 5);
  let storeDrops = 0;
  for (let i = 0; i < 200; i++) {
    mixed.tooMany();
    mixed.drop();
    if (mixed.storeDrop()) storeDrops++;
    assert.equal(mixed.slow(), slowAlone.slow());
    assert.equal(mixed.outage(), alone.outage());
  }
  assert.ok(storeDrops > 50 && storeDrops < 150);
  const none = createFaults(NO_FAULTS, 5);
  for (let i = 0; i < 100; i++) {
    assert.ok(!none.outage() && !none.tooMany() && !none.drop());
    assert.ok(!none.storeDrop());
    assert.ok(!none.slow() && !none.down(i));
  }
  const always = createFaults({ ...NO_FAULTS, failRate: 1, slowRate: 1 });
  assert.ok(always.outage() && always.slow());
});

/** A POST whose body is a stream, which Deno's fetch cannot re-send. */
function streamedPost(url: string, headers: Record<string, string> = {}) {
  const body = new Blob([MOVIE]).stream();
  return fetch(`${url}/movies`, { method: "POST", body, headers });
}

Deno.test("faults: store-then-drop stores and counts the movie, then closes without an answer", async () => {
  const sink = sinkWith({ storeDropRate: 1, store: true });
  try {
    await assert.rejects(streamedPost(sink.url), TypeError);
    assert.equal(sink.accepted().length, 1); // once: nothing re-sent it
    // a raw client sees the connection closed with not one byte of answer
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: sink.port });
    try {
      await conn.write(
        new TextEncoder().encode(
          `POST /movies HTTP/1.1\r\nHost: x\r\nContent-Length: ${MOVIE.length}\r\n\r\n${MOVIE}`,
        ),
      );
      let read: number | null;
      try {
        read = await conn.read(new Uint8Array(1024));
      } catch (error) {
        assert.ok(error instanceof Deno.errors.ConnectionReset);
        read = null;
      }
      assert.equal(read, null);
    } finally {
      conn.close();
    }
    assert.equal(sink.accepted().length, 2);
    const counts = sink.counters();
    assert.deepEqual(counts.post, { "201": 2 }); // the handler completed
    assert.equal(counts.storeDropped, 2);
    assert.equal(counts.dropped, 0);
    const text = await sink.metricsText();
    assert.match(text, /^sink_store_dropped_total 2$/m);
    assert.match(text, /^sink_post_total\{status="201"\} 2$/m);
    // refused movies are answered as usual
    const refused = await fetch(`${sink.url}/movies`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(refused.status, 400);
    await refused.body?.cancel();
  } finally {
    await sink.close();
  }
});

Deno.test("faults: store-then-drop with idempotency: the retry is answered 201, the movie stored once", async () => {
  const sink = sinkWith({ storeDropRate: 1, store: true, idempotency: true });
  try {
    const headers = { "Idempotency-Key": "movie-7" };
    await assert.rejects(streamedPost(sink.url, headers), TypeError);
    const retry = await streamedPost(sink.url, headers);
    await retry.body?.cancel();
    assert.equal(retry.status, 201);
    assert.equal(sink.accepted().length, 1);
    assert.deepEqual(sink.counters().post, { "201": 2 });
    assert.equal(sink.counters().storeDropped, 1);
    assert.equal(sink.counters().replayed, 1);
  } finally {
    await sink.close();
  }
});

Deno.test("faults: store-then-drop does not change the seeded 503 sequence", async () => {
  const run = async (storeDropRate: number) => {
    const sink = sinkWith({
      failRate: 0.3,
      seed: 9,
      storeDropRate,
      store: true,
    });
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          const res = await streamedPost(sink.url);
          await res.body?.cancel();
          outcomes.push(String(res.status));
        } catch (error) {
          assert.ok(error instanceof TypeError);
          outcomes.push("dropped");
        }
      }
      assert.equal(
        sink.counters().storeDropped,
        outcomes.filter((o) => o === "dropped").length,
      );
      assert.equal(
        sink.accepted().length,
        40 - outcomes.filter((o) => o === "503").length,
      );
      return outcomes;
    } finally {
      await sink.close();
    }
  };
  const plain = await run(0);
  const dropping = await run(0.5);
  const where503 = (outcomes: string[]) => outcomes.map((o) => o === "503");
  assert.deepEqual(where503(dropping), where503(plain));
  assert.ok(dropping.includes("dropped") && dropping.includes("201"));
  assert.ok(!plain.includes("dropped"));
});
