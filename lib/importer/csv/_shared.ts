/** Private helpers of the reading stage. @module */

/**
 * A stream that yields the chunks of `heads` first (taken from the array as
 * they are pulled), then what `reader` still has: for putting back what was
 * read ahead to sniff the input. Pulled one chunk at a time, so nothing more
 * is read ahead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepend } from "./_shared.ts";
 * const rest = ReadableStream.from(["b", "c"]).getReader();
 * assert.deepEqual(await Array.fromAsync(prepend(["a"], rest)), ["a", "b", "c"]);
 * ```
 */
export function prepend<T>(
  heads: T[],
  reader: ReadableStreamDefaultReader<T>,
): ReadableStream<T> {
  return new ReadableStream<T>({
    async pull(controller) {
      if (heads.length > 0) {
        controller.enqueue(heads.shift()!);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
