/** The README is the user's manual: these tests keep it from drifting. */
import assert from "node:assert/strict";
import { settingsMarkdown } from "../lib/importer/settings.ts";
import { SETTINGS as SINK_SETTINGS } from "../lib/sink/options.ts";
import { execute, ROOT } from "./_subprocess.ts";

const readme = await Deno.readTextFile(`${ROOT}/README.md`);

function settingsTable(): string {
  const start = readme.indexOf("<!-- settings-table");
  const end = readme.indexOf("<!-- /settings-table -->");
  assert.ok(
    start >= 0 && end > start,
    "the settings table markers are in the README",
  );
  return readme.slice(readme.indexOf("\n", start) + 1, end).trim();
}

/** Every `--flag` in a text. */
function flags(text: string): Set<string> {
  return new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? []);
}

/** A Markdown table's cells, whatever its alignment padding. */
function cells(table: string): string[][] {
  return table.trim().split("\n")
    .filter((row) => !/^\|[\s|:-]+\|$/.test(row))
    .map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
}

Deno.test("the README's settings table is the settings table", () => {
  assert.deepEqual(cells(settingsTable()), cells(settingsMarkdown()));
});

Deno.test("every setting in the README's table is in --help, and every option of --help is in the table", async () => {
  const help = await execute("deno", [
    "run",
    "--allow-read",
    "--allow-env",
    "main.ts",
    "--help",
  ]);
  assert.equal(help.code, 0, help.stderr);
  const inHelp = flags(help.stdout);
  const inTable = flags(settingsTable());
  inHelp.delete("--help");
  inHelp.delete("--version");
  assert.deepEqual([...inTable].sort(), [...inHelp].sort());
  for (const variable of settingsTable().match(/`[A-Z][A-Z_]+`/g) ?? []) {
    assert.ok(
      help.stdout.includes(variable.slice(1, -1)),
      `${variable} in --help`,
    );
  }
});

Deno.test("the README documents every option and variable of the local service", () => {
  const section = readme.slice(
    readme.indexOf("## The local service"),
    readme.indexOf("## Generated data"),
  );
  for (const setting of SINK_SETTINGS) {
    const flag = setting.flag.split(" ")[0];
    assert.ok(section.includes(`\`${flag}\``), `${flag} in the README`);
    assert.ok(
      section.includes(`\`${setting.env}\``),
      `${setting.env} in the README`,
    );
  }
});

Deno.test("the README names every task, and the quick start is the demo and the test", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  for (const task of Object.keys(config.tasks)) {
    assert.ok(
      readme.includes(`\`${task}\``) || readme.includes(`deno task ${task}`),
      `task ${task}`,
    );
  }
  const quick = readme.slice(
    readme.indexOf("## Quick start"),
    readme.indexOf("## Importing"),
  );
  assert.match(quick, /deno task demo/);
  assert.match(quick, /deno task test/);
});

Deno.test(".ci/run runs the README's test command", async () => {
  const ci = await Deno.readTextFile(`${ROOT}/.ci/run`);
  assert.match(ci, /deno task test/);
});

Deno.test("every file the README names exists (or is said to be the user's, an output, or the exercise's)", async () => {
  // Outputs and the user's own files, named as examples; the exercise's own material.
  const notOurs = new Set([
    "backup.csv",
    "movies.csv",
    "big.csv",
    "bodies.jsonl",
    "import.log.jsonl",
    "rejects.csv",
    "report.json",
    "rejects.dry-run.csv",
    "report.dry-run.json",
    "sample.csv",
    "SINK.md",
    "../shared/SINK.md",
    "../shared/data/backup.csv",
    "SHA256SUMS",
    "dist/parse-and-post",
    "out/bench/latest.json",
  ]);
  const named = new Set<string>();
  for (
    const [, path] of readme.matchAll(
      /`((?:\.{0,2}\/)?[\w.-]+(?:\/[\w.*-]+)*\.(?:ts|md|csv|json|jsonl|yml))`/g,
    )
  ) named.add(path);
  for (
    const [, path] of readme.matchAll(
      /`((?:lib|tests|bench|data|\.ci|\.github)\/[\w./-]*)`/g,
    )
  ) named.add(path);
  const missing: string[] = [];
  for (const path of named) {
    if (notOurs.has(path) || path.includes("*") || path.startsWith("out/")) {
      continue;
    }
    if (path.startsWith("ledger/")) continue; // the ledger's folder, made by a run
    // A bare module name is one of the importer's (the README's pipeline section).
    const places = path.includes("/") ? [path] : [path, `lib/importer/${path}`];
    const found = await Promise.all(
      places.map((p) =>
        Deno.stat(`${ROOT}/${p}`).then(() => true, () => false)
      ),
    );
    if (!found.includes(true)) missing.push(path);
  }
  assert.deepEqual(
    missing,
    [],
    "files named in the README that are not in the repository",
  );
  assert.ok(named.size > 30, `${named.size} files named`);
  for (const theirs of ["bin/setup", "bin/reset"]) {
    assert.match(
      readme,
      new RegExp(`\`${theirs}\`[^.]*(exercise)`),
      `${theirs} is said to be the exercise's`,
    );
  }
});
