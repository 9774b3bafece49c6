import assert from "node:assert/strict";
import {
  Delivery,
  type DeliveryOutcome,
  type Job,
} from "../lib/importer/deliver.ts";
import type { Attempt } from "../lib/importer/retry.ts";
import { created, refused, response, unavailable } from "./_attempts.ts";
import { FakeClock, settle } from "./_fake_clock.ts";

const ok = created;
const job = (line: number): Job => ({
  line,
  key: { d0: line, d1: 0, d2: 0, k: 0 },
  body: `{"line":${line}}`,
});

/** A send whose answers the test gives by hand, one request at a time. */
class ManualService {
  pending: { job: Job; answer: (a: Attempt) => void }[] = [];
  aborted: number[] = [];
  maxInFlight = 0;
  send = (j: Job, answer: (a: Attempt) => void) => {
    const entry = { job: j, answer };
    this.pending.push(entry);
    this.maxInFlight = Math.max(this.maxInFlight, this.pending.length);
    return () => this.aborted.push(j.line);
  };
  /** Answers the oldest pending request. */
  async answer(a: Attempt): Promise<Job> {
    const next = this.pending.shift();
    assert.ok(next, "no request pending");
    next.answer(a);
    await settle();
    return next.job;
  }
}

function setup(
  options: Partial<ConstructorParameters<typeof Delivery>[0]> = {},
) {
  const clock = new FakeClock();
  const service = new ManualService();
  const outcomes: DeliveryOutcome[] = [];
  const delivery = new Delivery({
    send: service.send,
    onOutcome: (o) => outcomes.push(o),
    clock,
    random: () => 0.5,
    ...options,
  });
  return { clock, service, outcomes, delivery };
}

Deno.test("one probe request until the service answers, then up to `concurrency` in flight", async () => {
  const { service, delivery, outcomes } = setup({ concurrency: 4 });
  for (let line = 1; line <= 10; line++) delivery.submit(job(line));
  await settle();
  assert.equal(service.pending.length, 1, "only the probe before any answer");
  await service.answer(ok);
  assert.equal(service.pending.length, 4);
  while (service.pending.length > 0) await service.answer(ok);
  await delivery.idle();
  assert.equal(service.maxInFlight, 4);
  assert.equal(outcomes.length, 10);
  assert.ok(outcomes.every((o) => o.kind === "delivered"));
  assert.equal(delivery.requests, 10);
});

Deno.test("backpressure: no room past the window; room() resolves when a row finishes", async () => {
  const { service, delivery } = setup({ concurrency: 2, window: 3 });
  delivery.submit(job(1));
  await service.answer(ok);
  for (let line = 2; line <= 4; line++) {
    assert.ok(delivery.hasRoom);
    delivery.submit(job(line));
  }
  assert.equal(delivery.hasRoom, false);
  assert.throws(() => delivery.submit(job(5)));
  let roomy = false;
  const room = delivery.room().then(() => roomy = true);
  await settle();
  assert.equal(roomy, false, "room() waits while the window is full");
  await service.answer(ok);
  await room;
  assert.equal(roomy, true);
  assert.equal(delivery.inProgress, 2);
});

Deno.test("transient failures are retried with full-jitter backoff from the injected clock", async () => {
  const { service, delivery, outcomes, clock } = setup({
    concurrency: 1,
    backoff: { baseMs: 100, capMs: 10_000 },
  });
  delivery.submit(job(7));
  await service.answer(unavailable);
  assert.deepEqual(clock.pending(), [50], "first retry: 0.5 × 100 ms");
  await clock.advance(49);
  assert.equal(service.pending.length, 0, "not before its time");
  await clock.advance(1);
  assert.equal(service.pending.length, 1);
  await service.answer(unavailable);
  assert.deepEqual(clock.pending(), [100], "second retry: 0.5 × 200 ms");
  await clock.advance(100);
  await service.answer(ok);
  await delivery.idle();
  assert.deepEqual(outcomes.map((o) => [o.kind, o.attempts]), [[
    "delivered",
    3,
  ]]);
  assert.equal(delivery.retries, 2);
  assert.equal(delivery.requests, 3);
});

Deno.test("Retry-After is honoured", async () => {
  const { service, delivery, clock } = setup();
  delivery.submit(job(1));
  await service.answer(response(429, "3"));
  assert.deepEqual(clock.pending(), [3000]);
});

Deno.test("a final 4xx is not retried and keeps the service's message", async () => {
  const { service, delivery, outcomes } = setup();
  delivery.submit(job(3));
  await service.answer(response(400, null, "title is required\n"));
  await delivery.idle();
  assert.equal(delivery.requests, 1);
  assert.deepEqual(outcomes, [{
    kind: "refused",
    job: job(3),
    attempts: 1,
    status: 400,
    message: "HTTP 400: title is required",
  }]);
});

Deno.test("after maxRetries the row stays pending with the last error", async () => {
  const { service, delivery, outcomes, clock } = setup({ maxRetries: 2 });
  delivery.submit(job(9));
  for (let i = 0; i < 3; i++) {
    await service.answer(unavailable);
    await clock.advance(10_000);
  }
  await delivery.idle();
  assert.equal(outcomes.length, 1);
  const outcome = outcomes[0];
  assert.ok(outcome.kind === "pending" && outcome.cause === "retries");
  assert.equal(outcome.attempts, 3);
  assert.match(outcome.lastError, /gave up after 3 attempts: HTTP 503/);
});

Deno.test("a row waiting for its retry does not hold a request slot", async () => {
  const { service, delivery, clock } = setup({ concurrency: 1, window: 2 });
  delivery.submit(job(1));
  delivery.submit(job(2));
  const first = await service.answer(unavailable);
  assert.equal(first.line, 1);
  assert.equal(service.pending.length, 1, "row 2 is sent while row 1 waits");
  assert.equal(service.pending[0].job.line, 2);
  await service.answer(ok);
  await clock.advance(1000);
  assert.equal(service.pending[0].job.line, 1, "row 1 retried");
});

Deno.test("the probe: before any answer one row is retried with the slower probe backoff, without using up its retries", async () => {
  const { service, delivery, outcomes, clock } = setup({
    maxRetries: 2,
    probeBackoff: { baseMs: 1000, capMs: 2000 },
  });
  delivery.submit(job(1));
  delivery.submit(job(2));
  for (let i = 0; i < 6; i++) {
    assert.equal(service.pending.length, 1, "one connection attempt at a time");
    await service.answer(refused);
    await clock.advance(2000);
  }
  assert.equal(
    outcomes.length,
    0,
    "six refusals, yet no row has run out of retries",
  );
  assert.ok(clock.pending().length <= 1);
  await service.answer(ok);
  await service.answer(ok);
  await delivery.idle();
  assert.deepEqual(outcomes.map((o) => o.kind), ["delivered", "delivered"]);
});

Deno.test("a failure after the request was written is ambiguous; one before it is not", async () => {
  const { service, delivery, outcomes, clock } = setup({
    concurrency: 1,
    window: 3,
  });
  delivery.submit(job(1));
  await service.answer(ok);
  delivery.submit(job(2));
  delivery.submit(job(3));
  await settle();
  await service.answer({
    kind: "network",
    error: "reset",
    message: "other side closed",
    sent: true,
  });
  await service.answer(ok); // row 3
  await clock.advance(1000);
  await service.answer(ok); // row 2, retried with the same key
  await delivery.idle();
  const byLine = Object.fromEntries(outcomes.map((o) => [o.job.line, o]));
  assert.ok(byLine[2].kind === "delivered" && byLine[2].ambiguous);
  assert.ok(byLine[3].kind === "delivered" && !byLine[3].ambiguous);
});

Deno.test("stop: waiting rows end pending at once; in-flight ones end by their answer", async () => {
  const { service, delivery, outcomes, clock } = setup({ concurrency: 3 });
  delivery.submit(job(1));
  await service.answer(ok);
  for (let line = 2; line <= 5; line++) delivery.submit(job(line));
  await settle();
  await service.answer(unavailable); // row 2 waits for a retry
  assert.equal(service.pending.length, 3); // rows 3, 4, 5
  delivery.stop();
  assert.deepEqual(outcomes.slice(1).map((o) => [o.kind, o.job.line]), [[
    "pending",
    2,
  ]]);
  assert.deepEqual(clock.pending(), [], "its retry timer is cleared");
  await service.answer(ok);
  await service.answer(unavailable);
  assert.equal(delivery.inProgress, 1);
  delivery.abandon();
  await delivery.idle();
  assert.deepEqual(
    outcomes.slice(2).map((o) => [o.kind, o.job.line]),
    [["delivered", 3], ["pending", 4], ["pending", 5]],
  );
  assert.deepEqual(
    service.aborted.sort(),
    [5],
    "the abandoned request is aborted",
  );
  const [four, five] = outcomes.slice(3);
  assert.ok(
    four.kind === "pending" && !four.ambiguous,
    "row 4 was answered (503)",
  );
  assert.ok(
    five.kind === "pending" && five.ambiguous,
    "row 5's outcome is unknown",
  );
  await service.answer(ok); // a late answer for an abandoned row changes nothing
  assert.equal(outcomes.length, 5);
});

Deno.test("a struggling service (most recent attempts failing) gets one request at a time, then the full pool again", async () => {
  const { service, delivery, clock } = setup({
    concurrency: 4,
    maxRetries: 100,
    backoff: { baseMs: 1, capMs: 1 },
  });
  delivery.submit(job(0));
  await service.answer(ok);
  for (let line = 1; line <= 80; line++) delivery.submit(job(line));
  await settle();
  assert.equal(service.pending.length, 4);
  for (let i = 0; i < 20; i++) {
    while (service.pending.length > 0) await service.answer(unavailable);
    await clock.advance(1);
  }
  assert.ok(delivery.struggling);
  assert.equal(
    service.pending.length,
    1,
    "one request in flight while struggling",
  );
  for (let i = 0; i < 40 && delivery.struggling; i++) {
    await service.answer(ok);
    await clock.advance(1);
  }
  assert.equal(delivery.struggling, false);
  assert.equal(service.pending.length, 4, "the whole pool again");
});

Deno.test("a stop decided while hearing of an attempt (a give-up) ends that row pending, not waiting forever", async () => {
  const clock = new FakeClock();
  const service = new ManualService();
  const outcomes: DeliveryOutcome[] = [];
  const delivery: Delivery = new Delivery({
    send: service.send,
    onOutcome: (o) => outcomes.push(o),
    onAttempt: ({ attempt }) => {
      if (attempt.kind === "network") delivery.stop();
    },
    clock,
    random: () => 0.5,
  });
  delivery.submit(job(1));
  await service.answer(ok);
  delivery.submit(job(2));
  await settle();
  await service.answer(refused);
  assert.equal(delivery.inProgress, 0);
  await delivery.idle();
  assert.deepEqual(outcomes.map((o) => [o.kind, o.job.line]), [
    ["delivered", 1],
    ["pending", 2],
  ]);
  assert.deepEqual(clock.pending(), [], "no retry scheduled");
});
