import assert from "node:assert/strict";
import { execute } from "./_subprocess.ts";

Deno.test("deno task demo: starts the service in-process, imports the sample, exits 0 with the summary and counters", async () => {
  const out = await execute("deno", ["task", "--quiet", "demo"]);
  assert.equal(out.code, 0, out.stderr);
  const delivered = Number(out.stdout.match(/^\s+delivered\s+(\d+)/m)?.[1]);
  assert.ok(delivered > 0, out.stdout);
  assert.match(out.stdout, /rejected rows by reason:/);
  for (
    const reason of [
      "wrong number of fields",
      "U+FFFD",
      "year is out of range",
      "title is empty",
    ]
  ) {
    assert.ok(
      out.stdout.includes(reason),
      `reason "${reason}" in the demo's output`,
    );
  }
  const created = Number(out.stdout.match(/201: (\d+)/)?.[1]);
  assert.equal(
    created,
    delivered,
    "the service's 201 count is the summary's delivered",
  );
  assert.match(
    out.stdout,
    /503: \d+/,
    "the random 503s happened and were retried",
  );
});
