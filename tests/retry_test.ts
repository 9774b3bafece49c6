import assert from "node:assert/strict";
import {
  type Attempt,
  backoffDelay,
  classify,
  describeAttempt,
  parseRetryAfter,
  retryDelay,
} from "../lib/importer/retry.ts";
import { networkError } from "../lib/importer/post.ts";

const response = (
  status: number,
  retryAfter: string | null = null,
): Attempt => ({
  kind: "response",
  status,
  body: "",
  retryAfter,
});

Deno.test("classify: 2xx delivered, transient statuses retried, other statuses final", () => {
  for (const status of [200, 201, 204]) {
    assert.equal(classify(response(status)), "delivered");
  }
  for (const status of [408, 429, 500, 502, 503, 504]) {
    assert.equal(classify(response(status)), "retry");
  }
  for (
    const status of [301, 307, 400, 401, 403, 404, 405, 409, 413, 422, 501, 505]
  ) {
    assert.equal(classify(response(status)), "final", `status ${status}`);
  }
});

Deno.test("classify: every network failure is retried", () => {
  for (
    const error of ["refused", "reset", "timeout", "dns", "other"] as const
  ) {
    assert.equal(classify({ kind: "network", error, message: "" }), "retry");
  }
});

Deno.test("networkError names the runtime's messages", () => {
  assert.equal(
    networkError(
      "client error (Connect): tcp connect error: Connection refused (os error 111)",
    ),
    "refused",
  );
  assert.equal(
    networkError(
      "client error (SendRequest): connection closed before message completed",
    ),
    "reset",
  );
  assert.equal(
    networkError("Connection reset by peer (os error 104)"),
    "reset",
  );
  assert.equal(
    networkError("dns error: failed to lookup address information"),
    "dns",
  );
  assert.equal(networkError("something else"), "other");
});

Deno.test("backoffDelay: full jitter under an exponential bound, capped", () => {
  const options = { baseMs: 100, capMs: 1000 };
  assert.equal(backoffDelay(0, options, () => 0), 0);
  assert.equal(backoffDelay(0, options, () => 0.5), 50);
  assert.equal(backoffDelay(1, options, () => 0.5), 100);
  assert.equal(backoffDelay(2, options, () => 0.5), 200);
  assert.equal(backoffDelay(10, options, () => 0.5), 500); // capped at 1000
  const nearOne = () => 0.999999;
  for (let retry = 0; retry < 20; retry++) {
    assert.ok(
      backoffDelay(retry, options, nearOne) < Math.min(1000, 100 * 2 ** retry),
    );
  }
});

Deno.test("parseRetryAfter: seconds, HTTP dates, garbage", () => {
  const now = Date.parse("2026-11-29T12:00:00Z");
  assert.equal(parseRetryAfter("0", now), 0);
  assert.equal(parseRetryAfter(" 7 ", now), 7000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 12:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("later", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

Deno.test("retryDelay honours Retry-After over backoff, up to a maximum", () => {
  const random = () => 0.5;
  assert.equal(retryDelay(response(429, "3"), 0, {}, random, 0), 3000);
  assert.equal(retryDelay(response(503, "1"), 5, {}, random, 0), 1000);
  assert.equal(retryDelay(response(503), 1, { baseMs: 100 }, random, 0), 100);
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
});

Deno.test("describeAttempt gives the service's first line or the failure", () => {
  assert.equal(
    describeAttempt({
      kind: "response",
      status: 400,
      body: "title is required\n",
      retryAfter: null,
    }),
    "HTTP 400: title is required",
  );
  assert.equal(describeAttempt(response(503)), "HTTP 503");
  assert.equal(
    describeAttempt({ kind: "network", error: "timeout", message: "" }),
    "timed out",
  );
});
