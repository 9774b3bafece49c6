import assert from "node:assert/strict";
import { Papa } from "../lib/importer/_deps.ts";
import { openRejects } from "../lib/importer/rejects.ts";

Deno.test("rejects file: line and reason first, original fields after, quoted as needed, input dialect", async () => {
  const path = await Deno.makeTempFile();
  const rejects = await openRejects(path, {
    delimiter: ",",
    newline: "\r\n",
    columns: ["Year", "Title", "*Image"],
  });
  rejects.add(3, 'title is empty, "really"', ["1999", "", "a.png"]);
  rejects.add(9, "wrong number of fields: 2, expected 3", ["1941", ""]);
  await rejects.close();
  assert.equal(rejects.count, 2);
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\r\n"));
  const rows =
    Papa.parse<string[]>(text.trimEnd(), { delimiter: ",", newline: "\r\n" })
      .data;
  assert.deepEqual(rows, [
    ["line", "reason", "Year", "Title", "*Image"],
    ["3", 'title is empty, "really"', "1999", "", "a.png"],
    ["9", "wrong number of fields: 2, expected 3", "1941", ""],
  ]);
  await Deno.remove(path);
});

Deno.test("rejects file: many rows are all written", async () => {
  const path = await Deno.makeTempFile();
  const rejects = await openRejects(path, { columns: ["year", "title"] });
  for (let line = 1; line <= 5000; line++) {
    rejects.add(line, "reason", ["1800", `title ${line}`]);
  }
  await rejects.close();
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.equal(lines.length, 5001);
  assert.equal(lines[5000], "5000;reason;1800;title 5000");
  await Deno.remove(path);
});
