import assert from "node:assert/strict";
import {
  type Attempt,
  backoffDelay,
  classify,
  describeAttempt,
  type NetworkError,
  parseRetryAfter,
  retryDelay,
} from "../lib/importer/retry.ts";
import { networkError } from "../lib/importer/post.ts";
import { response } from "./_attempts.ts";

const network = (error: NetworkError, sent = false, message = ""): Attempt => ({
  kind: "network",
  error,
  message,
  sent,
});

Deno.test("classify: 2xx delivered, transient statuses retried, other statuses final", () => {
  for (const status of [200, 201, 202, 204, 299]) {
    assert.equal(classify(response(status)), "delivered");
  }
  for (const status of [408, 429, 500, 502, 503, 504]) {
    assert.equal(classify(response(status)), "retry");
  }
  for (
    const status of [
      100,
      199,
      300,
      301,
      307,
      400,
      401,
      403,
      404,
      405,
      409,
      413,
      422,
      501,
      505,
    ]
  ) {
    assert.equal(classify(response(status)), "final", `status ${status}`);
  }
});

Deno.test("classify: every network failure is retried, sent or not", () => {
  for (
    const error of [
      "refused",
      "reset",
      "timeout",
      "dns",
      "aborted",
      "permission",
      "other",
    ] as const
  ) {
    for (const sent of [false, true]) {
      assert.equal(classify(network(error, sent)), "retry");
    }
  }
});

Deno.test("networkError: undici's codes, on the error or its cause", () => {
  const table: Array<[string, NetworkError]> = [
    ["ECONNREFUSED", "refused"],
    ["UND_ERR_CONNECT_TIMEOUT", "timeout"],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
    ["UND_ERR_BODY_TIMEOUT", "timeout"],
    ["UND_ERR_SOCKET", "reset"],
    ["ECONNRESET", "reset"],
    ["EPIPE", "reset"],
    ["UND_ERR_CLOSED", "reset"],
    ["UND_ERR_ABORTED", "aborted"],
    ["ENOTFOUND", "dns"],
    ["EAI_AGAIN", "dns"],
  ];
  for (const [code, kind] of table) {
    assert.equal(networkError({ code, message: "whatever" }), kind, code);
    assert.equal(
      networkError({ message: "fetch failed", cause: { code } }),
      kind,
      `cause ${code}`,
    );
  }
  // Deno's permission error, on the error or its cause, whatever the code.
  assert.equal(
    networkError(
      { name: "NotCapable", message: "Requires net access" } as never,
    ),
    "permission",
  );
  assert.equal(
    networkError({ code: "ECONNREFUSED", cause: { name: "NotCapable" } }),
    "permission",
  );
  // The error's own code wins over its cause's.
  assert.equal(
    networkError({ code: "ECONNREFUSED", cause: { code: "ECONNRESET" } }),
    "refused",
  );
});

Deno.test("networkError: without a known code, the message; else other", () => {
  assert.equal(
    networkError({ message: "connect ECONNREFUSED 127.0.0.1:9" }),
    "refused",
  );
  assert.equal(
    networkError({ message: "Connection refused (os error 111)" }),
    "refused",
  );
  assert.equal(
    networkError({ message: "connect ETIMEDOUT 10.0.0.1:80" }),
    "timeout",
  );
  assert.equal(networkError({ message: "Headers Timeout Error" }), "timeout");
  assert.equal(networkError({ message: "the operation timed out" }), "timeout");
  assert.equal(networkError({ message: "other side closed" }), "reset");
  assert.equal(
    networkError({ message: "Connection reset by peer (os error 104)" }),
    "reset",
  );
  assert.equal(
    networkError({ code: "E_SOMETHING", message: "something else" }),
    "other",
  );
  assert.equal(networkError({}), "other");
});

Deno.test("backoffDelay: full jitter under an exponential bound, capped", () => {
  const options = { baseMs: 100, capMs: 1000 };
  assert.equal(backoffDelay(0, options, () => 0), 0);
  assert.equal(backoffDelay(0, options, () => 0.5), 50);
  assert.equal(backoffDelay(1, options, () => 0.5), 100);
  assert.equal(backoffDelay(2, options, () => 0.5), 200);
  assert.equal(backoffDelay(10, options, () => 0.5), 500); // capped at 1000
  const nearOne = () => 0.999999;
  for (let retry = 0; retry < 40; retry++) {
    assert.ok(
      backoffDelay(retry, options, nearOne) < Math.min(1000, 100 * 2 ** retry),
    );
  }
  // The defaults: 10 ms base, 10 s cap.
  assert.equal(backoffDelay(0, {}, () => 0.5), 5);
  assert.equal(backoffDelay(30, {}, () => 0.5), 5000);
});

Deno.test("parseRetryAfter: seconds, HTTP dates, garbage", () => {
  const now = Date.parse("2026-11-29T12:00:00Z");
  assert.equal(parseRetryAfter("0", now), 0);
  assert.equal(parseRetryAfter(" 7 ", now), 7000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 12:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("later", now), null);
  assert.equal(parseRetryAfter("", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

Deno.test("retryDelay honours Retry-After over backoff, up to a maximum; network failures back off", () => {
  const random = () => 0.5;
  assert.equal(retryDelay(response(429, "3"), 0, {}, random, 0), 3000);
  assert.equal(retryDelay(response(503, "1"), 5, {}, random, 0), 1000);
  assert.equal(retryDelay(response(503), 1, { baseMs: 100 }, random, 0), 100);
  assert.equal(
    retryDelay(response(503, "soon"), 1, { baseMs: 100 }, random, 0),
    100,
  );
  assert.equal(
    retryDelay(
      response(429, "3600"),
      0,
      { maxRetryAfterMs: 60_000 },
      random,
      0,
    ),
    60_000,
  );
  assert.equal(retryDelay(response(429, "3600"), 0, {}, random, 0), 120_000);
  assert.equal(
    retryDelay(network("reset", true), 2, { baseMs: 100 }, random, 0),
    200,
  );
});

Deno.test("describeAttempt: the service's first line, or the failure in words", () => {
  assert.equal(
    describeAttempt({
      kind: "response",
      status: 400,
      body: "  title is required\nmore\n",
      retryAfter: null,
    }),
    "HTTP 400: title is required",
  );
  assert.equal(describeAttempt(response(503)), "HTTP 503");
  assert.equal(describeAttempt(response(502, null, " \n ")), "HTTP 502");
  const long = describeAttempt(response(400, null, "x".repeat(1000)));
  assert.equal(long, `HTTP 400: ${"x".repeat(300)}`);
  const words: Array<[NetworkError, string]> = [
    ["refused", "connection refused"],
    ["reset", "connection reset"],
    ["timeout", "timed out"],
    ["dns", "host name not found"],
    ["aborted", "aborted"],
  ];
  for (const [error, text] of words) {
    assert.equal(describeAttempt(network(error, true, "raw")), text);
  }
  assert.equal(
    describeAttempt(
      network("permission", false, 'Requires net access to "x:80"'),
    ),
    'permission missing: Requires net access to "x:80"',
  );
  assert.equal(
    describeAttempt(network("other", false, "TLS handshake failed")),
    "TLS handshake failed",
  );
});
