import assert from "node:assert/strict";
import { join } from "node:path";
import { Papa } from "../lib/importer/_deps.ts";
import { defaultLayout, headerLayout } from "../lib/importer/csv/layout.ts";
import { COLUMNS } from "../lib/importer/movie.ts";
import {
  csvRecord,
  openRejects,
  rejectsColumns,
} from "../lib/importer/rejects.ts";
import { fill, smallDisk, tmpfsMissing } from "./_disk.ts";

const parse = (text: string, delimiter = ";", newline: "\n" | "\r\n" = "\n") =>
  Papa.parse<string[]>(text.slice(0, -newline.length), { delimiter, newline })
    .data;

async function withDir(
  fn: (dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rejects_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("rejects file: line and reason first, original fields after, quoted as needed, in the input's dialect", async () => {
  await withDir((dir) => {
    const path = join(dir, "rejects.csv");
    const rejects = openRejects(path, {
      delimiter: ",",
      newline: "\r\n",
      columns: ["Year", "Title", "*Image"],
    });
    rejects.add(3, 'title is empty, "really"', ["1999", "", "a.png"]);
    rejects.add(9, "wrong number of fields: 2, expected 3", ["1941", ""]);
    rejects.add(12, "odd", [
      " padded ",
      "two\nlines",
      'a "quote"',
      "semi;colon",
    ]);
    rejects.close();
    assert.equal(rejects.count, 3);
    const text = Deno.readTextFileSync(path);
    assert.ok(text.endsWith("\r\n"));
    assert.ok(text.startsWith("line,reason,Year,Title,*Image\r\n3,"));
    assert.deepEqual(parse(text, ",", "\r\n"), [
      ["line", "reason", "Year", "Title", "*Image"],
      ["3", 'title is empty, "really"', "1999", "", "a.png"],
      ["9", "wrong number of fields: 2, expected 3", "1941", ""],
      ["12", "odd", " padded ", "two\nlines", 'a "quote"', "semi;colon"],
    ]);
  });
});

Deno.test("rejects file: the header is on disk at once; rows after flush() or past 64 KiB", async () => {
  await withDir((dir) => {
    const path = join(dir, "rejects.csv");
    const rejects = openRejects(path, { columns: ["year", "title"] });
    assert.equal(Deno.readTextFileSync(path), "line;reason;year;title\n");
    rejects.add(2, "r", ["1800", "t"]);
    rejects.flush();
    assert.equal(
      Deno.readTextFileSync(path),
      "line;reason;year;title\n2;r;1800;t\n",
    );
    for (let line = 3; line < 3000; line++) {
      rejects.add(line, "reason", ["1800", `title ${line}`]);
    }
    // Past the 64 KiB buffer, written without a flush.
    assert.ok(Deno.statSync(path).size > 64 * 1024);
    rejects.close();
    rejects.close(); // twice: nothing
    const rows = parse(Deno.readTextFileSync(path));
    assert.equal(rows.length, 2999);
    assert.deepEqual(rows[2998], ["2999", "reason", "1800", "title 2999"]);
    assert.equal(rejects.count, 2998);
    assert.equal(rejects.error, null);
  });
});

Deno.test("rejects file: replaces an older one; a folder that does not exist throws at open", async () => {
  await withDir((dir) => {
    const path = join(dir, "rejects.csv");
    Deno.writeTextFileSync(path, "old content\n".repeat(100));
    openRejects(path, { columns: ["title"], delimiter: "\t" }).close();
    assert.equal(Deno.readTextFileSync(path), "line\treason\ttitle\n");
    assert.throws(
      () => openRejects(join(dir, "missing", "r.csv"), { columns: [] }),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("csvRecord quotes only what needs it", () => {
  assert.equal(csvRecord(["a", "b"], ";"), "a;b");
  assert.equal(csvRecord(["a;b", "c"], ";"), '"a;b";c');
  assert.equal(csvRecord(["a,b"], ";"), "a,b");
  assert.equal(csvRecord(['say "hi"'], ";"), '"say ""hi"""');
  assert.equal(csvRecord(["x\ny"], "\t"), '"x\ny"');
  assert.equal(csvRecord(["", ""], "|"), "|");
});

Deno.test("rejectsColumns: a file without a header gets the export's columns", () => {
  const columns = rejectsColumns(defaultLayout());
  assert.deepEqual(columns.names, [...COLUMNS]);
  const fields = [
    "1997",
    "194",
    "Titanic",
    "",
    "",
    "",
    "",
    "80",
    "Yes",
    "t.png",
  ];
  assert.equal(columns.original(fields), fields);
  assert.deepEqual(
    columns.sent(
      '{"year":1997,"length":null,"title":"Titanic","subject":"","actor":"","actress":"","director":"","popularity":80.5,"awards":"Yes","image":"t.png"}',
    ),
    ["1997", "", "Titanic", "", "", "", "", "80.5", "Yes", "t.png"],
  );
});

Deno.test("rejectsColumns: the input's header, in its order and spelling, less a re-imported file's line and reason", () => {
  const layout = headerLayout([
    "line",
    "Reason",
    "*Image",
    "Title",
    "note",
    "YEAR",
  ]);
  const columns = rejectsColumns(layout);
  assert.deepEqual(columns.names, ["*Image", "Title", "note", "YEAR"]);
  assert.deepEqual(
    columns.original(["4", "title is empty", "a.png", "", "n", "1999"]),
    ["a.png", "", "n", "1999"],
  );
  assert.deepEqual(
    columns.sent('{"year":1999,"title":"X","image":"a.png","awards":""}'),
    ["a.png", "X", "", "1999"],
  );
  // Written and read back, the rejects file of a rejects file has one line and one reason column.
  const header = csvRecord(["line", "reason", ...columns.names], ";");
  assert.equal(header, "line;reason;*Image;Title;note;YEAR");
});

// --- A failing disk: a 64 KiB tmpfs, filled up. ---------------------------

const noTmpfs = await tmpfsMissing("rejects_test");

Deno.test({
  name:
    "rejects file: a failed write is told once through onError, and never throws",
  ignore: noTmpfs !== null,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "rejects_full_" });
    const disk = await smallDisk(`${root}/disk`, 64 * 1024);
    assert.ok(disk.mounted);
    const dir = disk.path;
    try {
      const errors: string[] = [];
      const path = join(dir, "rejects.csv");
      const rejects = openRejects(path, {
        columns: ["year", "title"],
        onError: (m) => errors.push(m),
      });
      await fill(dir, 0);
      for (let line = 2; line < 10_000; line++) {
        rejects.add(line, "a reason", ["1800", "a title of some length"]);
      }
      rejects.flush();
      rejects.close();
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(
        errors[0],
        /^cannot write the rejects file .*rejects\.csv: .*space/i,
      );
      assert.ok(!errors[0].includes("\n"));
      assert.equal(rejects.error, errors[0]);
      assert.equal(rejects.count, 9998);
    } finally {
      await disk.unmount();
      await Deno.remove(root, { recursive: true });
    }
  },
});
