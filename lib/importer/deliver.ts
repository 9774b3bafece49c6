/**
 * Delivery: a bounded pool that POSTs rows, retries transient failures with
 * backoff, and reports one outcome per row. It never decides to stop a run
 * (`governor.ts` does); it is told to.
 *
 * - At most `concurrency` requests are in flight; until the service has
 *   answered once, only one (a probe), retried with a slower backoff that
 *   does not use up the row's retries, so a service that is not there
 *   costs a connection attempt now and then, not a burst.
 * - A row waiting for its retry does not hold a request slot. Rows in
 *   progress (queued, in flight or waiting) are bounded by `window`; the
 *   reader waits for room (backpressure). A row in progress holds only
 *   what a retry needs: its line, key and body.
 * - When more than half of the last 64 attempts failed transiently, the
 *   service is struggling: one request at a time until that changes.
 * - A failure after the request was written (a timeout, a connection lost)
 *   is *ambiguous*: the service may have stored the row. It is retried with
 *   the same `Idempotency-Key` and its row is marked ambiguous.
 *
 * Time and randomness are injected, so tests need no sleeping.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import type { RowKey } from "./identity.ts";
import type { Random } from "../shared/random.ts";
import {
  type Attempt,
  type BackoffOptions,
  classify,
  describeAttempt,
  retryDelay,
} from "./retry.ts";

/** One valid row on its way: where it came from, its key, what to send. */
export interface Job {
  /** The physical line the row starts on. */
  line: number;
  /** The row's key (content digest and occurrence). */
  key: RowKey;
  /** The JSON body. */
  body: string;
}

/** How one row's delivery ended. */
export type DeliveryOutcome =
  | { kind: "delivered"; job: Job; attempts: number; ambiguous: boolean }
  | {
    kind: "refused";
    job: Job;
    attempts: number;
    status: number;
    /** The service's own message (first line of its answer). */
    message: string;
  }
  | {
    /** Not delivered: it stays pending, and the next run sends it. */
    kind: "pending";
    job: Job;
    attempts: number;
    ambiguous: boolean;
    /** Every retry failed, or the run stopped before an answer. */
    cause: "retries" | "stopped";
    /** The last attempt's failure, or why it was not sent. */
    lastError: string;
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

/** Sends one attempt of a job; calls `done` once; returns an abort. */
export type SendJob = (
  job: Job,
  done: (attempt: Attempt) => void,
) => () => void;

/** What the pool tells about each attempt (for the governor, metrics, logs). */
export interface AttemptEvent {
  job: Job;
  attempt: Attempt;
  /** The attempt's number for this row, from 1. */
  number: number;
  /** Set when a retry follows, ms. */
  delayMs?: number;
  /** From sending to the answer or failure, ms. */
  latencyMs: number;
}

/** Options for {@link Delivery}. */
export interface DeliveryOptions {
  /** Sends one attempt. */
  send: SendJob;
  /** Called once per row with its outcome. */
  onOutcome: (outcome: DeliveryOutcome) => void;
  /** Called after each attempt. @default undefined */
  onAttempt?: (event: AttemptEvent) => void;
  /** Requests in flight at most; 1 is sequential. @default 16 */
  concurrency?: number;
  /** Rows in progress at most. @default 1 when `concurrency` is 1, else `max(128, 8 × concurrency)` */
  window?: number;
  /** Retries after the first attempt. @default 15 */
  maxRetries?: number;
  /** Backoff spacing. @default {} (10 ms base, 10 s cap) */
  backoff?: BackoffOptions;
  /** Backoff of the first row while the service has never answered. @default { baseMs: 250, capMs: 2000 } */
  probeBackoff?: BackoffOptions;
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
  /** Attempts made before the service had ever answered (not counted against the retries). */
  probes: number;
  ambiguous: boolean;
  abort: (() => void) | null;
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
 *   send: (_job, done) => {
 *     done({ kind: "response", status: 201, body: "", retryAfter: null });
 *     return () => {};
 *   },
 *   onOutcome: (o) => outcomes.push(o),
 * });
 * delivery.submit({ line: 2, key: { d0: 1, d1: 2, d2: 3, k: 0 }, body: "{}" });
 * await delivery.idle();
 * assert.equal(outcomes[0].kind, "delivered");
 * ```
 */
export class Delivery {
  /** Requests sent, retries included. */
  requests = 0;
  /** Retries scheduled. */
  retries = 0;
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
  #recent = new Uint8Array(RECENT);
  #recentCount = 0;
  #recentFailures = 0;
  #stopped = false;
  #roomWaiter: (() => void) | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(options: DeliveryOptions) {
    const concurrency = options.concurrency ?? 16;
    this.#o = {
      concurrency,
      window: options.window ??
        (concurrency === 1 ? 1 : Math.max(128, 8 * concurrency)),
      maxRetries: options.maxRetries ?? 15,
      backoff: options.backoff ?? {},
      probeBackoff: options.probeBackoff ?? { baseMs: 250, capMs: 2000 },
      random: options.random ?? Math.random,
      clock: options.clock ?? systemClock,
      send: options.send,
      onOutcome: options.onOutcome,
      onAttempt: options.onAttempt,
    };
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Rows waiting for a retry now. */
  get retrying(): number {
    return this.#waiting.size;
  }

  /** Rows taken and not yet finished (queued, in flight, waiting to retry). */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Whether {@link Delivery.submit} may be called now. */
  get hasRoom(): boolean {
    return !this.#stopped && this.#inProgress < this.#o.window;
  }

  /** Whether the service has answered at least once. */
  get answered(): boolean {
    return this.#answered;
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
    this.#ready.push({
      job,
      attempts: 0,
      probes: 0,
      ambiguous: false,
      abort: null,
    });
    this.#pump();
  }

  /**
   * Stops taking and sending rows: rows queued or waiting to retry end
   * `pending` now; requests in flight finish (see {@link abandon}).
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
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
    for (const task of tasks) {
      this.#finish(pending(task, "stopped", "not sent: the run stopped"));
    }
    this.#wakeRoom();
  }

  /** After a stop: aborts the requests still in flight (they end `pending`, ambiguous). */
  abandon(): void {
    this.stop();
    const inFlight = [...this.#inFlight];
    this.#inFlight.clear();
    for (const task of inFlight) {
      task.abort?.();
      task.ambiguous = true;
      this.#finish(
        pending(task, "stopped", "no answer before the drain timeout"),
      );
    }
  }

  #pump(): void {
    const limit = this.#answered && !this.struggling ? this.#o.concurrency : 1;
    // Until the service has answered once, one row probes it: the others
    // wait, also while the probe waits for its retry.
    const probing = !this.#answered && this.#waiting.size > 0;
    while (
      !this.#stopped && !probing && this.#inFlight.size < limit &&
      this.#readyHead < this.#ready.length
    ) {
      const task = this.#ready[this.#readyHead];
      // Let the row go as soon as it is sent: a queue that keeps sent rows
      // until it is compacted keeps them past young collections.
      this.#ready[this.#readyHead++] = undefined as unknown as Task;
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
    task.abort = this.#o.send(task.job, (attempt) => {
      const latencyMs = performance.now() - sent;
      this.latency.add(latencyMs);
      this.#settle(task, attempt, latencyMs);
    });
  }

  #settle(task: Task, attempt: Attempt, latencyMs: number): void {
    if (!this.#inFlight.delete(task)) return; // abandoned
    task.abort = null;
    if (!this.#answered && attempt.kind === "network") task.probes++;
    if (attempt.kind === "response") this.#answered = true;
    else if (attempt.sent) task.ambiguous = true;
    const verdict = classify(attempt);
    this.#remember(verdict === "retry");
    const outcome = this.#outcome(task, attempt, verdict);
    const delayMs = outcome === null ? this.#delay(task, attempt) : undefined;
    this.#o.onAttempt?.({
      job: task.job,
      attempt,
      number: task.attempts,
      delayMs,
      latencyMs,
    });
    if (outcome !== null) this.#finish(outcome);
    // Hearing of this attempt may have stopped the run (a give-up): then
    // the row is not retried but ends pending, like every waiting row.
    else if (this.#stopped) {
      this.#finish(pending(task, "stopped", describeAttempt(attempt)));
    } else this.#wait(task, delayMs!);
    this.#pump();
  }

  /** The row's outcome after this attempt, or null when it is retried. */
  #outcome(
    task: Task,
    attempt: Attempt,
    verdict: string,
  ): DeliveryOutcome | null {
    const { job, attempts, ambiguous } = task;
    if (verdict === "delivered") {
      return { kind: "delivered", job, attempts, ambiguous };
    }
    if (verdict === "final" && attempt.kind === "response") {
      const message = describeAttempt(attempt);
      return {
        kind: "refused",
        job,
        attempts,
        status: attempt.status,
        message,
      };
    }
    if (this.#stopped) {
      return pending(task, "stopped", describeAttempt(attempt));
    }
    if (this.#answered && attempts - task.probes >= this.#o.maxRetries + 1) {
      return pending(
        task,
        "retries",
        `gave up after ${attempts} attempts: ${describeAttempt(attempt)}`,
      );
    }
    return null;
  }

  #delay(task: Task, attempt: Attempt): number {
    const now = this.#o.clock.now();
    const backoff = this.#answered ? this.#o.backoff : this.#o.probeBackoff;
    return retryDelay(attempt, task.attempts - 1, backoff, this.#o.random, now);
  }

  #wait(task: Task, delayMs: number): void {
    this.retries++;
    const timer = this.#o.clock.setTimeout(() => {
      this.#waiting.delete(task);
      // A retry goes first: it is older than every row still queued.
      if (this.#readyHead > 0) this.#ready[--this.#readyHead] = task;
      else this.#ready.unshift(task);
      this.#pump();
    }, delayMs);
    this.#waiting.set(task, timer);
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

function pending(
  task: Task,
  cause: "retries" | "stopped",
  lastError: string,
): DeliveryOutcome {
  const { job, attempts, ambiguous } = task;
  return { kind: "pending", job, attempts, ambiguous, cause, lastError };
}
