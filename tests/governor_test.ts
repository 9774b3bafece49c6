import assert from "node:assert/strict";
import {
  Governor,
  type GovernorOptions,
  type RunEnd,
} from "../lib/importer/governor.ts";
import type { Attempt } from "../lib/importer/retry.ts";
import { created, refused, response, unavailable } from "./_attempts.ts";

const URL_OUT = "http://localhost:9009/movies";

/** A governor and the stops it told. */
function governor(options: Partial<GovernorOptions> = {}) {
  const stops: Array<[RunEnd, string]> = [];
  const g = new Governor({
    url: URL_OUT,
    ...options,
    onStop: (end, message) => stops.push([end, message]),
  });
  return { g, stops };
}

const reset: Attempt = {
  kind: "network",
  error: "reset",
  message: "other side closed",
  sent: true,
};
const timedOut: Attempt = {
  kind: "network",
  error: "timeout",
  message: "Headers Timeout Error",
  sent: true,
};

Deno.test("governor: STOP_ON_ERRORS counts row failures; 0 never stops", () => {
  const { g, stops } = governor({ stopOnErrors: 3 });
  g.rowFailed();
  g.rowFailed();
  assert.equal(g.end, null);
  assert.ok(g.going);
  g.rowFailed();
  assert.equal(g.end, "stopped_on_errors");
  assert.equal(g.errors, 3);
  assert.match(g.message, /STOP_ON_ERRORS=3/);
  g.rowFailed();
  assert.equal(g.errors, 4);
  assert.equal(stops.length, 1);

  const never = governor({ stopOnErrors: 0 });
  for (let i = 0; i < 10_000; i++) never.g.rowFailed();
  assert.ok(never.g.going);
  const byDefault = governor();
  for (let i = 0; i < 100; i++) byDefault.g.rowFailed();
  assert.ok(byDefault.g.going);
});

Deno.test("governor: an interrupt, a failed output, a failed input and the wrong shape each stop the run", () => {
  const cases: Array<[(g: Governor) => void, RunEnd, RegExp]> = [
    [(g) => g.interrupt("SIGINT"), "interrupted", /^SIGINT: stopping/],
    [
      (g) => g.outputFailed("cannot write the ledger x: write: no space"),
      "output_error",
      /no space/,
    ],
    [
      (g) => g.inputFailed("CSV_IN: line 9: unterminated quote"),
      "input_error",
      /line 9/,
    ],
    [
      (g) => g.wrongShape("the file is comma-separated"),
      "wrong_shape",
      /comma/,
    ],
  ];
  for (const [act, end, message] of cases) {
    const { g, stops } = governor();
    act(g);
    assert.equal(g.end, end);
    assert.match(g.message, message);
    assert.ok(!g.going);
    assert.deepEqual(stops, [[end, g.message]]);
  }
});

Deno.test("governor: the first stop wins, and is told once", () => {
  const { g, stops } = governor({
    stopOnErrors: 1,
    setupAnswers: 1,
    connectTimeoutMs: 10,
    giveUpMs: 10,
  });
  g.interrupt("SIGTERM");
  g.rowFailed();
  g.outputFailed("disk full");
  g.inputFailed("bad input");
  g.wrongShape("bad shape");
  g.attempt(response(404), 0);
  g.attempt(refused, 1000);
  g.check(100_000);
  assert.equal(g.end, "interrupted");
  assert.match(g.message, /^SIGTERM/);
  assert.equal(stops.length, 1);
});

Deno.test("governor: unreachable once the service has not answered for connectTimeoutMs from the first attempt", () => {
  const { g, stops } = governor({ connectTimeoutMs: 10_000 });
  g.check(50_000); // nothing tried yet: nothing to say
  assert.ok(g.going);
  g.attempt(refused, 1000);
  for (let t = 1250; t < 11_000; t += 250) {
    g.attempt(refused, t);
    g.check(t);
    assert.ok(g.going, `at ${t} ms`);
  }
  g.check(10_999);
  assert.ok(g.going);
  g.check(11_000);
  assert.equal(g.end, "unreachable");
  assert.match(
    g.message,
    /cannot connect to localhost:9009 \(connection refused\)/,
  );
  assert.ok(g.message.includes(URL_OUT));
  assert.equal(stops.length, 1);
});

Deno.test("governor: unreachable only before the first answer", () => {
  const { g } = governor({ connectTimeoutMs: 10_000, giveUpMs: 1e9 });
  g.attempt(refused, 0);
  g.attempt(unavailable, 5000); // an answer, even a 503
  for (let t = 5001; t < 200_000; t += 1000) {
    g.attempt(refused, t);
    g.check(t);
  }
  assert.ok(g.going, `ended ${g.end}: ${g.message}`);
});

Deno.test("governor: gives up when every attempt has failed for giveUpMs since the first failure after an answer", () => {
  const { g, stops } = governor({ giveUpMs: 30_000 });
  g.attempt(created, 0);
  g.attempt(created, 500);
  g.attempt(reset, 1000); // the first failure
  for (let t = 1000; t < 31_000; t += 100) {
    g.attempt(t % 2000 === 0 ? timedOut : refused, t);
    g.check(t);
  }
  assert.ok(g.going);
  g.check(30_999);
  assert.ok(g.going);
  g.check(31_000);
  assert.equal(g.end, "gave_up");
  assert.match(g.message, /every request has failed for 30 s/);
  assert.match(g.message, /last error: connection refused/);
  assert.equal(stops.length, 1);
});

Deno.test("governor: an answer in between starts the silence again", () => {
  const { g } = governor({ giveUpMs: 30_000 });
  g.attempt(created, 0);
  g.attempt(refused, 1000);
  g.attempt(unavailable, 20_000); // the service answered: not silent
  g.attempt(refused, 25_000);
  g.check(31_000); // 30 s after the first failure, but not since the answer
  assert.ok(g.going);
  g.check(54_999);
  assert.ok(g.going);
  g.check(55_000);
  assert.equal(g.end, "gave_up");
});

Deno.test("governor: a long pause (a honoured Retry-After: 45) then one network error does not give up at once", () => {
  const { g } = governor({ giveUpMs: 30_000 });
  g.attempt(created, 0);
  g.attempt(response(503, "45"), 100); // every row now waits 45 s
  for (let t = 250; t <= 45_100; t += 250) g.check(t); // the tick, during the pause
  assert.ok(g.going);
  g.attempt(refused, 45_100); // the first retry after the pause fails
  g.check(45_100);
  g.check(45_350);
  assert.ok(g.going, `ended ${g.end}: ${g.message}`);
  g.check(75_099);
  assert.ok(g.going);
  g.check(75_100);
  assert.equal(g.end, "gave_up");
});

Deno.test("governor: the same 401/403/404/405 to the first 20 answers means the URL is wrong", () => {
  for (const status of [401, 403, 404, 405]) {
    const { g, stops } = governor();
    for (let i = 0; i < 19; i++) {
      g.attempt(response(status, null, "404 page not found\nmore"), i);
    }
    assert.ok(g.going, `${status}`);
    g.attempt(response(status, null, "404 page not found\nmore"), 19);
    assert.equal(g.end, "wrong_url");
    assert.ok(
      g.message.includes(
        `HTTP ${status}: 404 page not found to the first 20 requests`,
      ),
      g.message,
    );
    assert.ok(!g.message.includes("more") && g.message.includes(URL_OUT));
    assert.equal(stops.length, 1);
  }
  const few = governor({ setupAnswers: 3 });
  for (let i = 0; i < 3; i++) few.g.attempt(response(401), i);
  assert.equal(few.g.end, "wrong_url");
  assert.match(few.g.message, /HTTP 401 to the first 3 requests/);
});

Deno.test("governor: 503s, 429s, 408s and network errors in between do not reset the set-up check", () => {
  const { g } = governor();
  const noise = [
    unavailable,
    response(429, "1"),
    response(408),
    response(500),
    refused,
    timedOut,
  ];
  for (let i = 0; i < 19; i++) {
    g.attempt(response(404), i);
    g.attempt(noise[i % noise.length], i);
  }
  assert.ok(g.going, `ended ${g.end}: ${g.message}`);
  g.attempt(response(404), 100);
  assert.equal(g.end, "wrong_url");
});

Deno.test("governor: a 2xx, a 400, a redirect or another set-up status ends the set-up check", () => {
  const enders = [
    created,
    response(400, null, "title is required"),
    response(409),
    response(307),
    response(403),
  ];
  for (const ender of enders) {
    const { g } = governor();
    for (let i = 0; i < 10; i++) g.attempt(response(404), i);
    g.attempt(ender, 10);
    for (let i = 11; i < 100; i++) g.attempt(response(404), i);
    assert.ok(g.going, `after ${JSON.stringify(ender)}: ended ${g.end}`);
  }
  // A first answer that is not a set-up status: never wrong_url.
  const { g } = governor();
  g.attempt(response(400), 0);
  for (let i = 1; i < 50; i++) g.attempt(response(404), i);
  assert.ok(g.going);
});

Deno.test("governor: a missing permission stops the run at once, before or after an answer", () => {
  const denied: Attempt = {
    kind: "network",
    error: "permission",
    message: 'Requires net access to "10.0.0.9:80"',
    sent: false,
  };
  for (const answeredFirst of [false, true]) {
    const { g, stops } = governor();
    if (answeredFirst) g.attempt(created, 0);
    g.attempt(denied, 1);
    assert.equal(g.end, "permission");
    assert.ok(
      g.message.startsWith(
        'permission missing: Requires net access to "10.0.0.9:80"',
      ),
      g.message,
    );
    assert.match(g.message, /README, "Permissions"/);
    assert.equal(stops.length, 1);
  }
});
