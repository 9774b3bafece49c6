/** A clock whose time moves only when a test says so. @module */

import type { Clock } from "../lib/deliver.ts";

/** Lets pending promise callbacks run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
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

  /** Moves time forward, firing due timers in order and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    while (true) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) {
          due = entry;
        }
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}
