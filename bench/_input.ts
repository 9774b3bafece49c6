/**
 * The benchmark's input: a generated CSV (`gen.ts --rows N --seed S`,
 * cached under the output folder), and the exact JSON bodies the importer
 * would send for it (its `--dry-run` output, one per line, made again on
 * every run so they follow the importer's code).
 *
 * @module
 */

import { runPlain } from "./_process.ts";

/** A generated CSV. */
export interface CsvFile {
  /** Rows asked of the generator. */
  rows: number;
  /** The generator's seed. */
  seed: number;
  /** Absolute path. */
  path: string;
  /** Size, bytes. */
  bytes: number;
}

/** The importer's bodies for a CSV. */
export interface Bodies {
  /** Absolute path of the file of one body per line. */
  path: string;
  /** Rows the importer read (from its report; null when not found). */
  rowsRead: number | null;
  /** Valid rows: the bodies, one per line. */
  valid: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `dir/movies-<rows>-s<seed>.csv`, generated unless it is already there
 * (delete it after changing the generator).
 *
 * @example
 * ```ts ignore
 * import { ensureCsv } from "./_input.ts";
 * const csv = await ensureCsv(".", "/repo/out/bench", 100_000, 42);
 * console.log(csv.bytes);
 * ```
 */
export async function ensureCsv(
  root: string,
  dir: string,
  rows: number,
  seed: number,
): Promise<CsvFile> {
  const path = `${dir}/movies-${rows}-s${seed}.csv`;
  if (!(await exists(path))) {
    console.error(`bench: generating ${path} (${rows} rows, seed ${seed})`);
    const partial = `${path}.partial`;
    const gen = await runPlain(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      "gen.ts",
      "--rows",
      String(rows),
      "--seed",
      String(seed),
      "--out",
      partial,
    ], root);
    if (gen.code !== 0) throw new Error(`gen.ts failed: ${gen.stderr}`);
    await Deno.rename(partial, path);
  }
  return { rows, seed, path, bytes: (await Deno.stat(path)).size };
}

/**
 * Runs the importer's dry run over `csv` (paths relative to `root`, where
 * the importer may read and write) and writes its bodies next to the CSV.
 *
 * @example
 * ```ts ignore
 * import { dryRunBodies } from "./_input.ts";
 * const bodies = await dryRunBodies("/repo", "out/bench/movies-1000-s42.csv", "out/bench/tmp");
 * console.log(bodies.valid);
 * ```
 */
export async function dryRunBodies(
  root: string,
  csv: string,
  scratch: string,
): Promise<Bodies> {
  const path = csv.replace(/\.csv$/, "") + ".bodies.jsonl";
  const file = await Deno.open(`${root}/${path}`, {
    write: true,
    create: true,
    truncate: true,
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-write=.",
      "--allow-env",
      "main.ts",
      csv,
      "--dry-run",
      "--log-level",
      "ERROR",
      "--rejects",
      `${scratch}/dry-rejects.csv`,
      "--report",
      `${scratch}/dry-report.json`,
    ],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [, stderr, { code }] = await Promise.all([
    child.stdout.pipeTo(file.writable),
    new Response(child.stderr).text(),
    child.status,
  ]);
  if (code !== 0) {
    throw new Error(`the dry run of ${csv} exited ${code}: ${stderr}`);
  }
  const text = await Deno.readTextFile(`${root}/${path}`);
  const valid = text.split("\n").filter((l) => l !== "").length;
  return {
    path: `${root}/${path}`,
    rowsRead: await rowsRead(root, scratch),
    valid,
  };
}

/** Rows the dry run read, from its report (whatever its name), if any. */
async function rowsRead(root: string, scratch: string): Promise<number | null> {
  for (const name of ["dry-report.dry-run.json", "dry-report.json"]) {
    try {
      const report = JSON.parse(
        await Deno.readTextFile(`${root}/${scratch}/${name}`),
      );
      const n = report?.counts?.rowsRead;
      if (typeof n === "number") return n;
    } catch { /* not this one */ }
  }
  return null;
}
