/**
 * Writing the JSON report: atomically (a temporary file renamed over the
 * old one), so a crash never leaves half a report, and without throwing: a
 * failure is one line.
 *
 * @module
 */

import { basename, dirname, extname, join } from "node:path";

/**
 * Writes `value` as JSON to `path`; returns null, or one line saying why it
 * could not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeReport } from "./report_file.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(writeReport(`${dir}/report.json`, { end: "complete" }), null);
 * assert.match(writeReport(`${dir}/missing/report.json`, {})!, /^cannot write the report .*missing/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeReport(path: string, value: unknown): string | null {
  const temporary = join(dirname(path), `.${basename(path)}.${Deno.pid}.tmp`);
  try {
    Deno.writeTextFileSync(temporary, JSON.stringify(value, null, 2) + "\n");
    Deno.renameSync(temporary, path);
    return null;
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch { /* it was never written */ }
    if (error instanceof Deno.errors.NotCapable) throw error;
    return `cannot write the report ${path}: ${
      (error as Error).message.split("\n")[0]
    }`;
  }
}

/**
 * Where a dry run writes an output instead of `path`, so it never
 * overwrites a real run's: `.dry-run` before the extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dryRunPath } from "./report_file.ts";
 * assert.equal(dryRunPath("out/rejects.csv"), "out/rejects.dry-run.csv");
 * assert.equal(dryRunPath("report"), "report.dry-run");
 * ```
 */
export function dryRunPath(path: string): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}.dry-run${ext}`;
}
