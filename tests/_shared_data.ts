/**
 * The exercise's real input, `../shared/data/backup.csv`: it sits next to the
 * clone on our machines and in CI, never inside the repository, so a user's
 * lone clone does not have it. Tests that read it ask {@link skipWithoutBackup}
 * for their `ignore` flag; the reason is printed, so the skip is visible.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Where the exercise's backup.csv is expected: `../shared/data/backup.csv`, beside the clone. */
export const BACKUP: string = fileURLToPath(
  new URL("../../shared/data/backup.csv", import.meta.url),
);

/**
 * Whether the exercise's backup.csv is there to read.
 *
 * @example The answer is a boolean, decided once when the module loads
 * ```ts
 * import assert from "node:assert/strict";
 * import { HAVE_BACKUP } from "./_shared_data.ts";
 * assert.equal(typeof HAVE_BACKUP, "boolean");
 * ```
 */
export const HAVE_BACKUP: boolean = (() => {
  try {
    return Deno.statSync(BACKUP).isFile;
  } catch {
    return false;
  }
})();

/** The one line that says why the backup.csv tests do not run. */
export const SKIP_REASON =
  `SKIPPED tests that need the exercise's input: ${BACKUP} is missing ` +
  "(it lives in ../shared/data beside the clone, as in CI; never in the repo)";

let told = false;

/**
 * `true` when the backup.csv is missing (use it as `Deno.test`'s `ignore`),
 * printing {@link SKIP_REASON} the first time in this test module.
 *
 * @example The flag is the opposite of {@link HAVE_BACKUP}; the reason is said once
 * ```ts
 * import assert from "node:assert/strict";
 * import { HAVE_BACKUP, skipWithoutBackup } from "./_shared_data.ts";
 * const said: string[] = [];
 * const say = (line: string) => said.push(line);
 * assert.equal(skipWithoutBackup(say), !HAVE_BACKUP);
 * assert.equal(skipWithoutBackup(say), !HAVE_BACKUP);
 * assert.equal(said.length, HAVE_BACKUP ? 0 : 1);
 * ```
 */
export function skipWithoutBackup(
  say: (line: string) => void = console.log,
): boolean {
  if (!HAVE_BACKUP && !told) {
    told = true;
    say(SKIP_REASON);
  }
  return !HAVE_BACKUP;
}

/** A `Deno.test(name, fn)` registration. */
type Register = (
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
) => void;

/**
 * `backupCsv.test(name, fn)` is `Deno.test(name, fn)` for a test that reads
 * the backup.csv: `Deno.test.ignore`, with the reason printed, when the file
 * is missing. It hands out Deno's own function, so a failure points at the
 * test's own file and line.
 *
 * In a test module (a doc example cannot register a test, so this one only
 * checks which function it hands out):
 * `backupCsv.test("reads it", async () => { … })`.
 *
 * @example `Deno.test` when the file is there, `Deno.test.ignore` when not
 * ```ts
 * import assert from "node:assert/strict";
 * import { backupCsv, HAVE_BACKUP } from "./_shared_data.ts";
 * assert.equal(backupCsv.test, HAVE_BACKUP ? Deno.test : Deno.test.ignore);
 * ```
 */
export const backupCsv: { readonly test: Register } = {
  get test(): Register {
    return skipWithoutBackup() ? Deno.test.ignore : Deno.test;
  },
};
