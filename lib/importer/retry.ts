/**
 * Which answers are worth another try, and how long to wait before it:
 * exponential backoff with full jitter, honouring `Retry-After`.
 *
 * @module
 */

import type { Random } from "../shared/random.ts";

/** What one attempt to POST a movie came to. */
export type Attempt =
  | {
    kind: "response";
    /** The HTTP status. */
    status: number;
    /** The answer's body, as text (the service's message on a 400). */
    body: string;
    /** The `Retry-After` header, if any. */
    retryAfter: string | null;
  }
  | {
    kind: "network";
    /** What went wrong, in short. */
    error: NetworkError;
    /** The runtime's own words. */
    message: string;
    /**
     * Whether the request had been written when it failed: then the
     * service may have stored the row (an *ambiguous* attempt).
     */
    sent: boolean;
  };

/** Failures below HTTP. */
export type NetworkError =
  | "refused"
  | "reset"
  | "timeout"
  | "dns"
  | "aborted"
  | "permission"
  | "other";

/** The verdict on an attempt. */
export type Verdict = "delivered" | "retry" | "final";

/** Statuses that mean "try again later". */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([
  408,
  429,
  500,
  502,
  503,
  504,
]);

/**
 * Classifies an attempt: 2xx is delivered; 408, 429, 500, 502, 503, 504 and
 * every network failure (refused, reset, timeout) are retried; anything else
 * (other 4xx, other 5xx, a redirect) is final.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classify } from "./retry.ts";
 * assert.ok(classify({ kind: "response", status: 503, body: "", retryAfter: null }) === "retry");
 * assert.ok(classify({ kind: "response", status: 400, body: "x", retryAfter: null }) === "final");
 * ```
 */
export function classify(attempt: Attempt): Verdict {
  if (attempt.kind === "network") return "retry";
  if (attempt.status >= 200 && attempt.status < 300) return "delivered";
  return TRANSIENT_STATUSES.has(attempt.status) ? "retry" : "final";
}

/** How retries are spaced. */
export interface BackoffOptions {
  /** The first wait's upper bound, in ms; it doubles with each retry. @default 10 */
  baseMs?: number;
  /** The longest single wait, in ms. @default 10000 */
  capMs?: number;
  /** The longest `Retry-After` honoured, in ms. @default 120000 */
  maxRetryAfterMs?: number;
}

/**
 * Full-jitter exponential backoff: a uniform wait in
 * `[0, min(cap, base × 2^retry))`, where `retry` counts from 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./retry.ts";
 * assert.ok(backoffDelay(3, { baseMs: 100, capMs: 10_000 }, () => 0.5) === 400);
 * ```
 */
export function backoffDelay(
  retry: number,
  options: BackoffOptions,
  random: Random,
): number {
  const base = options.baseMs ?? 10;
  const cap = options.capMs ?? 10_000;
  return random() * Math.min(cap, base * 2 ** retry);
}

/**
 * A `Retry-After` value (seconds, or an HTTP date) in milliseconds from
 * `now`; `null` when absent or unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./retry.ts";
 * assert.ok(parseRetryAfter("2", 0) === 2000);
 * assert.ok(parseRetryAfter("soon", 0) === null);
 * ```
 */
export function parseRetryAfter(
  value: string | null,
  now: number,
): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * The wait before retry number `retry` (from 0) after a transient failure:
 * the service's `Retry-After` when it gave one (up to `maxRetryAfterMs`),
 * otherwise {@link backoffDelay}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryDelay } from "./retry.ts";
 * const attempt = { kind: "response", status: 429, body: "", retryAfter: "3" } as const;
 * assert.ok(retryDelay(attempt, 0, {}, () => 0.5, 0) === 3000);
 * ```
 */
export function retryDelay(
  attempt: Attempt,
  retry: number,
  options: BackoffOptions,
  random: Random,
  now: number,
): number {
  const after = attempt.kind === "response"
    ? parseRetryAfter(attempt.retryAfter, now)
    : null;
  if (after !== null) {
    return Math.min(after, options.maxRetryAfterMs ?? 120_000);
  }
  return backoffDelay(retry, options, random);
}

/**
 * A short description of an attempt, for logs and reasons:
 * `HTTP 503`, `HTTP 400: title is required`, `connection refused`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeAttempt } from "./retry.ts";
 * assert.ok(describeAttempt({ kind: "network", error: "refused", message: "", sent: false }) === "connection refused");
 * ```
 */
export function describeAttempt(attempt: Attempt): string {
  if (attempt.kind === "network") {
    switch (attempt.error) {
      case "refused":
        return "connection refused";
      case "reset":
        return "connection reset";
      case "timeout":
        return "timed out";
      case "dns":
        return "host name not found";
      case "aborted":
        return "aborted";
      case "permission":
        return `permission missing: ${attempt.message}`;
      default:
        return attempt.message;
    }
  }
  const body = attempt.body.trim();
  return body === ""
    ? `HTTP ${attempt.status}`
    : `HTTP ${attempt.status}: ${body.split("\n")[0].slice(0, 300)}`;
}
