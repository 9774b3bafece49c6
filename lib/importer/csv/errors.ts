/**
 * The one error type of the source stage that is the user's to fix.
 *
 * @module
 */

/**
 * A problem with the input file itself (not found, not a file, empty,
 * unterminated quote, duplicate column, …). The message is one line, starts
 * with `CSV_IN: ` and is meant to be shown to the user as it is.
 *
 * Deno permission errors are never wrapped in an `InputError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputError } from "./errors.ts";
 * const e = new InputError("CSV_IN: file not found: movies.csv");
 * assert(e instanceof Error && e.name === "InputError");
 * ```
 */
export class InputError extends Error {
  /** @param message one line, starting with `CSV_IN: ` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}
