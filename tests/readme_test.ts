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
