/**
 * Refuses a release whose tag is not `v` + deno.json's version:
 * `deno run --allow-read=deno.json .ci/release_tag.ts v1.2.3` exits 0 when
 * they agree, else prints one line and exits 1.
 *
 * @module
 */

/**
 * Why `tag` cannot release `version`, or null when it names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tagProblem } from "./release_tag.ts";
 * assert.equal(tagProblem("v1.2.3", "1.2.3"), null);
 * assert.equal(
 *   tagProblem("v1.2.4", "1.2.3"),
 *   "tag v1.2.4 does not match deno.json's version 1.2.3 (expected tag v1.2.3)",
 * );
 * ```
 */
export function tagProblem(tag: string, version: string): string | null {
  return tag === `v${version}`
    ? null
    : `tag ${tag} does not match deno.json's version ${version} (expected tag v${version})`;
}

if (import.meta.main) {
  const tag = Deno.args[0] ?? "";
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const problem = tagProblem(tag, String(version));
  if (problem !== null) {
    console.error(`release: ${problem}`);
    Deno.exit(1);
  }
  console.log(`release: tag ${tag} = deno.json's version ${version}`);
}
