/**
 * The one place that decides whether a run goes on. Everything that can end
 * a run early is told to the governor as it happens — an interrupt, a row
 * error, each attempt's answer or failure, a failed write, the shape of the
 * first rows — and the governor says, once, how the run ends and why. The
 * pipeline then stops reading at once and drains.
 *
 * @module
 */

import type { Attempt } from "./retry.ts";
import { describeAttempt } from "./retry.ts";

/** How a run ended. */
export type RunEnd =
  | "complete"
  | "interrupted"
  | "stopped_on_errors"
  | "gave_up"
  | "unreachable"
  | "wrong_url"
  | "wrong_shape"
  | "output_error"
  | "input_error"
  | "permission";

/** Options for {@link Governor}. */
export interface GovernorOptions {
  /** Where rows go (named in messages). */
  url: string;
  /** Stop once this many rows have failed; 0 never stops. @default 0 */
  stopOnErrors?: number;
  /** Give up when every attempt has failed for this long since the first failure, ms. @default 30000 */
  giveUpMs?: number;
  /** Until the service has answered once: give up after this long, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Stop after this many first answers that all say the URL or credentials are wrong. @default 20 */
  setupAnswers?: number;
  /** Told once, when the run is to stop. @default undefined */
  onStop?: (end: RunEnd, message: string) => void;
}

/** Statuses that say the URL or the credentials are wrong, not the row. */
const SETUP_STATUSES = new Set([401, 403, 404, 405]);

/**
 * Decides when a run stops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Governor } from "./governor.ts";
 * const g = new Governor({ url: "http://localhost:9009/movies", stopOnErrors: 2 });
 * g.rowFailed();
 * assert.equal(g.end, null);
 * g.rowFailed();
 * assert.equal(g.end, "stopped_on_errors");
 * ```
 */
export class Governor {
  /** How the run ends, once decided; null while it goes on. */
  end: RunEnd | null = null;
  /** One line saying why. */
  message = "";
  /** Rows failed so far (invalid, refused, or out of retries). */
  errors = 0;

  readonly #o: GovernorOptions;
  #answered = false;
  #firstAttemptAt: number | null = null;
  #failingSince: number | null = null;
  #lastFailure: Attempt | null = null;
  #setupStatus = 0;
  #setupCount = 0;
  #setupBody = "";
  #setupChecking = true;

  constructor(options: GovernorOptions) {
    this.#o = options;
  }

  /** Whether the run goes on. */
  get going(): boolean {
    return this.end === null;
  }

  /**
   * What the first answers say of the set-up: `fine` once an answer showed
   * the URL works (a 2xx, a 400, …); `wrong` when the run stopped because
   * they all said the URL or the credentials are wrong; `in_doubt` while
   * every answer so far was the same 401/403/404/405. Rows
   * refused while it is not `fine` are held, not rejected: the URL may be
   * wrong, not the rows.
   */
  get setup(): "fine" | "wrong" | "in_doubt" {
    if (!this.#setupChecking || this.#setupCount === 0) return "fine";
    return this.end === "wrong_url" ? "wrong" : "in_doubt";
  }

  /** At the end of a run: if every answer said the URL is wrong, it is (fewer than 20 answers). */
  concludeSetup(): void {
    if (this.#setupChecking && this.#setupCount > 0) this.#wrongUrl();
  }

  /** Ends the run (the first call wins). */
  stop(end: RunEnd, message: string): void {
    if (this.end !== null) return;
    this.end = end;
    this.message = message;
    this.#o.onStop?.(end, message);
  }

  /** Ctrl-C or SIGTERM. */
  interrupt(signal: string): void {
    this.stop(
      "interrupted",
      `${signal}: stopping; requests in flight are given the drain timeout`,
    );
  }

  /** A row failed: invalid, refused by the service, or out of retries. */
  rowFailed(): void {
    this.errors++;
    const limit = this.#o.stopOnErrors ?? 0;
    if (limit > 0 && this.errors >= limit) {
      this.stop(
        "stopped_on_errors",
        `STOP_ON_ERRORS=${limit} reached: stopping`,
      );
    }
  }

  /** A write to an output failed. */
  outputFailed(message: string): void {
    this.stop("output_error", message);
  }

  /** Reading the input failed part-way. */
  inputFailed(message: string): void {
    this.stop("input_error", message);
  }

  /** The first rows say the data is in the wrong shape. */
  wrongShape(message: string): void {
    this.stop("wrong_shape", message);
  }

  /** An attempt's answer or failure, at time `now` (ms); it was sent at `sentAt`. */
  attempt(attempt: Attempt, now: number, sentAt = now): void {
    this.#firstAttemptAt ??= sentAt;
    if (attempt.kind === "response") {
      this.#answered = true;
      this.#failingSince = null;
      this.#checkSetup(attempt.status, attempt.body);
      return;
    }
    if (attempt.error === "permission") {
      this.stop(
        "permission",
        `${describeAttempt(attempt)} (see README, "Permissions")`,
      );
      return;
    }
    this.#failingSince ??= now;
    this.#lastFailure = attempt;
    this.check(now);
  }

  /** The time-based rules (also called on a timer): unreachable, give up. */
  check(now: number): void {
    if (this.end !== null || this.#lastFailure === null) return;
    const failure = describeAttempt(this.#lastFailure);
    if (!this.#answered) {
      const waited = now - (this.#firstAttemptAt ?? now);
      if (waited >= (this.#o.connectTimeoutMs ?? 10_000)) {
        const { host } = new URL(this.#o.url);
        this.stop(
          "unreachable",
          `cannot connect to ${host} (${failure}): is the service running? (URL_OUT=${this.#o.url})`,
        );
      }
    } else if (this.#failingSince !== null) {
      const silent = now - this.#failingSince;
      if (silent >= (this.#o.giveUpMs ?? 30_000)) {
        this.stop(
          "gave_up",
          `gave up: every request has failed for ${
            Math.round(silent / 1000)
          } s (last error: ${failure}); run again to send the pending rows`,
        );
      }
    }
  }

  /** The first answers: all the same 401/403/404/405 means the set-up is wrong. */
  #checkSetup(status: number, body: string): void {
    if (!this.#setupChecking) return;
    if (
      !SETUP_STATUSES.has(status) ||
      (this.#setupCount > 0 && status !== this.#setupStatus)
    ) {
      if (status < 500 && status !== 408 && status !== 429) {
        this.#setupChecking = false;
      }
      return;
    }
    this.#setupStatus = status;
    this.#setupBody = body.trim().split("\n")[0].slice(0, 200);
    this.#setupCount++;
    if (this.#setupCount >= (this.#o.setupAnswers ?? 20)) this.#wrongUrl();
  }

  #wrongUrl(): void {
    const said = this.#setupBody === "" ? "" : `: ${this.#setupBody}`;
    this.stop(
      "wrong_url",
      `${this.#o.url} answered HTTP ${this.#setupStatus}${said} to the first ${this.#setupCount} requests: check URL_OUT (the path, the credentials); nothing was accepted`,
    );
  }
}
