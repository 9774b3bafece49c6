/**
 * The three ways to run the importer: `deno task import` (the task's own
 * flags), `deno run` from a URL (served here over loopback HTTP, which
 * proves no import depends on the local deno.json), and a standalone binary
 * from `deno compile` (built when the runtime can be downloaded; otherwise
 * skipped, with the reason printed).
 */
import assert from "node:assert/strict";
import { startSink } from "../lib/sink/server.ts";
import { execute, ROOT } from "./_subprocess.ts";

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".json": "application/json",
};

/** Serves the repository's files over loopback HTTP. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(ROOT + path);
        const type = CONTENT_TYPES[path.slice(path.lastIndexOf("."))] ??
          "text/plain";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

/** The permission flags of `deno task import`, as the task gives them. */
async function taskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const words: string[] = config.tasks.import.split(" ");
  return words.filter((w) => w.startsWith("--"));
}

async function smallImport(
  run: (
    args: string[],
    cwd: string,
  ) => Promise<{ code: number; stderr: string }>,
) {
  const sink = startSink({ port: 0, failRate: 0.2, seed: 3, log: false });
  const dir = await Deno.makeTempDir({ prefix: "pp-dist-" });
  try {
    await Deno.copyFile(`${ROOT}/data/sample.csv`, `${dir}/sample.csv`);
    const out = await run([
      "sample.csv",
      "--url-out",
      `http://127.0.0.1:${sink.port}/movies`,
    ], dir);
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    assert.ok(report.counts.delivered > 0);
    assert.equal(sink.counters().post["201"], report.counts.delivered);
    assert.equal(sink.counters().post["400"] ?? 0, 0);
    return dir;
  } finally {
    await sink.close();
  }
}

Deno.test("deno task import: the task's permissions are enough for the default set-up in a working folder", async () => {
  const flags = await taskFlags();
  assert.ok(flags.includes("--allow-read=."), flags.join(" "));
  const help = await execute("deno", ["task", "--quiet", "import", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--csv-in/);
  // The same flags, in a folder holding the CSV, against a service on its own port.
  await smallImport((args, cwd) =>
    execute("deno", [
      "run",
      ...flags.map((f) =>
        f.startsWith("--allow-net=") ? "--allow-net=127.0.0.1" : f
      ),
      `${ROOT}/main.ts`,
      ...args,
    ], { cwd })
  );
});

Deno.test("deno run https://…/main.ts: --help and a small import, from a URL with no local deno.json", async () => {
  const server = serveRepository();
  const origin = `http://127.0.0.1:${server.addr.port}`;
  try {
    const remote = ["run", `--allow-import=127.0.0.1:${server.addr.port}`];
    const help = await execute("deno", [
      ...remote,
      "--allow-env",
      `${origin}/main.ts`,
      "--help",
    ], {
      cwd: await Deno.makeTempDir(),
    });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--url-out/);
    await smallImport((args, cwd) =>
      execute("deno", [
        ...remote,
        "--allow-read=.",
        "--allow-write=.",
        "--allow-net=127.0.0.1",
        "--allow-env",
        `${origin}/main.ts`,
        ...args,
      ], { cwd })
    );
  } finally {
    await server.shutdown();
  }
});

/** Builds the binary with the compile task; the reason when it cannot be built here. */
async function buildBinary(): Promise<{ path: string } | { skip: string }> {
  const out = await execute("deno", ["task", "--quiet", "compile"]);
  if (out.code === 0) return { path: `${ROOT}/dist/parse-and-post` };
  const download = out.stderr.match(/Download (\S+)/)?.[1];
  const failure = out.stderr.split("\n").find((l) =>
    /error sending request|dns error|connect/i.test(l)
  );
  if (download && failure) {
    return {
      skip: `deno compile could not download its runtime ${download} (${
        failure.replace(/^\s*\d+: /, "").trim()
      }); these machines cannot reach Deno's download servers`,
    };
  }
  throw new Error(`deno task compile failed:\n${out.stderr}`);
}

const binary = await buildBinary();
if ("skip" in binary) {
  console.log(`SKIPPED standalone binary tests: ${binary.skip}`);
}

Deno.test({
  name: "standalone binary (deno task compile): --help and a small import",
  ignore: "skip" in binary,
  async fn() {
    if (!("path" in binary)) return;
    const help = await execute(binary.path, ["--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--csv-in/);
    await smallImport((args, cwd) => execute(binary.path, args, { cwd }));
  },
});
