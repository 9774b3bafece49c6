/** A clock whose time moves only when a test says so. @module */

import type { Clock } from "../lib/importer/deliver.ts";

/** Lets pending promise callbacks run (a few rounds of microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A manual {@link Clock}: timers fire on {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  time = 0;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number);
  }

  /** The delays of the timers pending now, from the current time, sorted. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.time).sort((
      a,
      b,
    ) => a - b);
  }

  /** Moves time forward, firing due timers in order (those due at the same time together) and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    while (true) {
      let next = Infinity;
      for (const timer of this.#timers.values()) {
        next = Math.min(next, timer.at);
      }
      if (next > target) break;
      this.time = next;
      for (const [id, timer] of [...this.#timers]) {
        if (timer.at === next) {
          this.#timers.delete(id);
          timer.fn();
        }
      }
      await settle();
    }
    this.time = target;
    await settle();
  }
}
