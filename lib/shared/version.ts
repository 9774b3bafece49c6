/**
 * The program's name and version, kept in one place (a test checks that
 * {@link VERSION} equals the `"version"` in `deno.json`).
 *
 * @module
 */

/**
 * The program's name, as `--version` and `--help` print it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NAME } from "./version.ts";
 * assert.equal(NAME, "parse-and-post");
 * ```
 */
export const NAME = "parse-and-post";

/**
 * The program's version (semver), the same as `deno.json`'s `"version"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./version.ts";
 * assert.ok(/^\d+\.\d+\.\d+/.test(VERSION));
 * ```
 */
export const VERSION = "0.2.0";

/**
 * What `--version` prints: `parse-and-post <version>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versionText } from "./version.ts";
 * assert.equal(versionText(), "parse-and-post 0.2.0");
 * ```
 */
export function versionText(): string {
  return `${NAME} ${VERSION}`;
}
