/**
 * Delivery: a bounded pool that POSTs rows, retries transient failures with
 * backoff, and reports one outcome per row.
 *
 * - At most `concurrency` requests are in flight; until the service has
 *   answered once, only one (a probe), so a service that is not there costs
 *   one connection attempt, not a burst.
 * - A row waiting for its retry does not hold a request slot: the pool keeps
 *   sending other rows meanwhile. Rows in progress (queued, in flight or
 *   waiting) are bounded by `window`; the reader waits for room
 *   (backpressure), so memory does not grow with the file.
 * - When most recent attempts failed transiently (more than half of the last
 *   64), the service is struggling: one request at a time until that
 *   changes, instead of `concurrency` rows retrying at once.
 * - When the service has given no HTTP answer at all for `giveUpMs`, the
 *   delivery gives up: the rows in progress fail and no more are taken.
 *
 * Time and randomness are injected, so tests need no sleeping.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import type { Random } from "../shared/random.ts";
import {
  type Attempt,
  type BackoffOptions,
  classify,
  describeAttempt,
  retryDelay,
} from "./retry.ts";

/** One valid row on its way: where it came from and what to send. */
export interface Job {
  /** The physical line the row starts on. */
  line: number;
  /** The row's fields as read, for the rejects file. */
  fields: string[];
  /** The JSON body. */
  body: string;
}

/** How one row's delivery ended. */
export type DeliveryOutcome =
  | { kind: "delivered"; job: Job; attempts: number; status: number }
  | {
    kind: "refused";
    job: Job;
    attempts: number;
    status: number;
    /** The service's own message (first line of its answer). */
    message: string;
  }
  | {
    kind: "failed";
    job: Job;
    attempts: number;
    /** Every retry failed, or the service stopped answering at all. */
    cause: "retries" | "unreachable";
    reason: string;
  }
  | {
    /** Stopped (interrupted, or gave up) before its outcome was known. */
    kind: "unfinished";
    job: Job;
    attempts: number;
  };

/** Timers and the time, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Options for {@link Delivery}. */
export interface DeliveryOptions {
  /** Sends one attempt for a job (`attempt` counts from 1). */
  send: (job: Job, attempt: number) => Promise<Attempt>;
  /** Called once per row with its outcome. */
  onOutcome: (outcome: DeliveryOutcome) => void;
  /** Called after each attempt, for logging; `delayMs` is set when a retry follows. */
  onAttempt?: (
    job: Job,
    attempt: Attempt,
    number: number,
    delayMs?: number,
  ) => void;
  /** Requests in flight at most; 1 is sequential. @default 16 */
  concurrency?: number;
  /** Rows in progress at most. @default 1 when `concurrency` is 1, else `max(256, 32 × concurrency)` */
  window?: number;
  /** Retries after the first attempt. @default 15 */
  maxRetries?: number;
  /** Backoff spacing. @default {} (10 ms base, 10 s cap) */
  backoff?: BackoffOptions;
  /** Give up when the service has not answered at all for this long, in ms. @default 30000 */
  giveUpMs?: number;
  /** Jitter source. @default Math.random */
  random?: Random;
  /** Time and timers. @default systemClock */
  clock?: Clock;
}

/** How many recent attempts {@link Delivery.struggling} looks at. */
const RECENT = 64;

interface Task {
  job: Job;
  attempts: number;
}

/**
 * The delivery pool. Feed it with {@link Delivery.submit} while
 * {@link Delivery.hasRoom}, or after awaiting {@link Delivery.room}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Delivery, type DeliveryOutcome } from "./deliver.ts";
 * const outcomes: DeliveryOutcome[] = [];
 * const delivery = new Delivery({
 *   send: () => Promise.resolve({ kind: "response", status: 201, body: "", retryAfter: null }),
 *   onOutcome: (o) => outcomes.push(o),
 * });
 * delivery.submit({ line: 2, fields: [], body: "{}" });
 * await delivery.idle();
 * assert.ok(outcomes[0].kind === "delivered");
 * ```
 */
export class Delivery {
  /** Requests sent, retries included. */
  requests = 0;
  /** Retries scheduled. */
  retries = 0;
  /** Why delivery gave up, if it did. */
  gaveUp: string | null = null;
  /** Time from sending a request to its answer (or failure), in ms. */
  readonly latency: Histogram = new Histogram();

  readonly #o: Required<Omit<DeliveryOptions, "onAttempt">> & {
    onAttempt?: DeliveryOptions["onAttempt"];
  };
  #ready: Task[] = [];
  #readyHead = 0;
  #inFlight = new Set<Task>();
  #waiting = new Map<Task, unknown>();
  #inProgress = 0;
  #answered = false;
  /** The last attempts' verdicts, 1 = transient failure (a ring). */
  #recent = new Uint8Array(RECENT);
  #recentCount = 0;
  #recentFailures = 0;
  #lastAnswer: number;
  #stopped = false;
  #roomWaiter: (() => void) | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(options: DeliveryOptions) {
    const concurrency = options.concurrency ?? 16;
    this.#o = {
      concurrency,
      window: options.window ??
        (concurrency === 1 ? 1 : Math.max(256, 32 * concurrency)),
      maxRetries: options.maxRetries ?? 15,
      backoff: options.backoff ?? {},
      giveUpMs: options.giveUpMs ?? 30_000,
      random: options.random ?? Math.random,
      clock: options.clock ?? systemClock,
      send: options.send,
      onOutcome: options.onOutcome,
      onAttempt: options.onAttempt,
    };
    this.#lastAnswer = this.#o.clock.now();
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Rows taken and not yet finished (queued, in flight, waiting to retry). */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Whether {@link Delivery.submit} may be called now. */
  get hasRoom(): boolean {
    return !this.#stopped && this.#inProgress < this.#o.window;
  }

  /** Whether it was stopped or gave up. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves when there is room for another row, or delivery stopped. */
  room(): Promise<void> {
    if (this.hasRoom || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiter = resolve);
  }

  /** Resolves when no row is in progress. */
  idle(): Promise<void> {
    if (this.#inProgress === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Takes a row. Call only while {@link Delivery.hasRoom}. */
  submit(job: Job): void {
    if (!this.hasRoom) throw new Error("Delivery.submit called without room");
    this.#inProgress++;
    this.#ready.push({ job, attempts: 0 });
    this.#pump();
  }

  /**
   * Stops: rows queued or waiting to retry end `unfinished` now; requests in
   * flight finish, and end `unfinished` unless they were answered for good.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#endWaiting((t) => ({ kind: "unfinished", ...t }));
  }

  /** After a stop: gives up on requests still in flight (they end `unfinished`). */
  abandon(): void {
    this.stop();
    const inFlight = [...this.#inFlight];
    this.#inFlight.clear();
    for (const t of inFlight) this.#finish({ kind: "unfinished", ...t });
  }

  /** Ends every row queued or waiting to retry (not those in flight) with `outcome`. */
  #endWaiting(outcome: (task: Task) => DeliveryOutcome): void {
    const tasks = [
      ...this.#waiting.keys(),
      ...this.#ready.slice(this.#readyHead),
    ];
    for (const timer of this.#waiting.values()) {
      this.#o.clock.clearTimeout(timer);
    }
    this.#waiting.clear();
    this.#ready = [];
    this.#readyHead = 0;
    for (const task of tasks) this.#finish(outcome(task));
    this.#wakeRoom();
  }

  #pump(): void {
    const limit = this.#answered && !this.struggling ? this.#o.concurrency : 1;
    while (
      !this.#stopped && this.#inFlight.size < limit &&
      this.#readyHead < this.#ready.length
    ) {
      const task = this.#ready[this.#readyHead++];
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead);
        this.#readyHead = 0;
      }
      this.#launch(task);
    }
  }

  #launch(task: Task): void {
    this.#inFlight.add(task);
    task.attempts++;
    this.requests++;
    const sent = performance.now();
    this.#o.send(task.job, task.attempts).then(
      (attempt) => {
        this.latency.add(performance.now() - sent);
        this.#settle(task, attempt);
      },
      (error) =>
        this.#settle(task, {
          kind: "network",
          error: "other",
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  }

  #settle(task: Task, attempt: Attempt): void {
    if (!this.#inFlight.delete(task)) return; // abandoned
    const now = this.#o.clock.now();
    if (attempt.kind === "response") {
      this.#answered = true;
      this.#lastAnswer = now;
    }
    const verdict = classify(attempt);
    this.#remember(verdict === "retry");
    const { job, attempts } = task;
    const status = attempt.kind === "response" ? attempt.status : 0;
    let outcome: DeliveryOutcome | null = null;
    let delay: number | undefined;
    if (verdict === "delivered") {
      outcome = { kind: "delivered", job, attempts, status };
    } else if (verdict === "final") {
      const message = describeAttempt(attempt);
      outcome = { kind: "refused", job, attempts, status, message };
    } else if (this.#stopped) {
      outcome = { kind: "unfinished", job, attempts };
    } else if (attempts > this.#o.maxRetries) {
      const reason = `gave up after ${attempts} attempts: ${
        describeAttempt(attempt)
      }`;
      outcome = { kind: "failed", job, attempts, cause: "retries", reason };
    } else if (
      attempt.kind === "response" || now - this.#lastAnswer < this.#o.giveUpMs
    ) {
      delay = retryDelay(
        attempt,
        attempts - 1,
        this.#o.backoff,
        this.#o.random,
        now,
      );
    }
    this.#o.onAttempt?.(job, attempt, attempts, delay);
    if (outcome !== null) {
      this.#finish(outcome);
    } else if (delay === undefined) {
      this.#giveUp(task, attempt, now);
    } else {
      this.retries++;
      const timer = this.#o.clock.setTimeout(() => {
        this.#waiting.delete(task);
        this.#ready.push(task);
        this.#pump();
      }, delay);
      this.#waiting.set(task, timer);
    }
    this.#pump();
  }

  /**
   * Whether more than half of the recent attempts (at least 16 seen) failed
   * transiently: then only one request is in flight.
   */
  get struggling(): boolean {
    return this.#recentCount >= 16 &&
      this.#recentFailures * 2 > Math.min(this.#recentCount, RECENT);
  }

  #remember(failed: boolean): void {
    const i = this.#recentCount % RECENT;
    if (this.#recentCount >= RECENT) this.#recentFailures -= this.#recent[i];
    this.#recent[i] = failed ? 1 : 0;
    this.#recentFailures += this.#recent[i];
    this.#recentCount++;
  }

  #giveUp(task: Task, attempt: Attempt, now: number): void {
    const silent = Math.round((now - this.#lastAnswer) / 1000);
    this.gaveUp = `no answer from the service for ${silent} s (last error: ${
      describeAttempt(attempt)
    })`;
    const reason = `service unreachable: ${describeAttempt(attempt)}`;
    // This row and everything else in progress fail the same way; nothing
    // more is taken.
    this.#stopped = true;
    const failed = (t: Task): DeliveryOutcome => ({
      kind: "failed",
      ...t,
      cause: "unreachable",
      reason,
    });
    this.#finish(failed(task));
    this.#endWaiting(failed);
  }

  #finish(outcome: DeliveryOutcome): void {
    this.#inProgress--;
    this.#o.onOutcome(outcome);
    this.#wakeRoom();
    if (this.#inProgress === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #wakeRoom(): void {
    if (this.#roomWaiter && (this.hasRoom || this.#stopped)) {
      const resolve = this.#roomWaiter;
      this.#roomWaiter = null;
      resolve();
    }
  }
}
