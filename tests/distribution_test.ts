/**
 * The ways to run the importer: `deno task import` (the task's own flags),
 * `deno run` from a URL (served here over loopback HTTP, which proves no
 * import depends on the local deno.json), `deno install --global`, and the
 * standalone binary from `deno compile` (built when deno can get its runtime,
 * denort; otherwise skipped, with the reason printed).
 */
import assert from "node:assert/strict";
import {
  compileArgs,
  importTask,
  type ProjectConfig,
  TARGETS,
} from "../.ci/compile.ts";
import { startSink } from "../lib/sink/server.ts";
import { execute, type Output, ROOT } from "./_subprocess.ts";

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".json": "application/json",
};

const config: ProjectConfig = JSON.parse(
  await Deno.readTextFile(`${ROOT}/deno.json`),
);
const EXE = Deno.build.os === "windows" ? ".exe" : "";

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

/** A fresh folder holding a copy of data/sample.csv. */
async function folderWithSample(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pp-dist-" });
  await Deno.copyFile(`${ROOT}/data/sample.csv`, `${dir}/sample.csv`);
  return dir;
}

/** Imports sample.csv into a local service; the service's count must match the report. */
async function smallImport(
  run: (args: string[], cwd: string) => Promise<Output>,
): Promise<void> {
  const sink = startSink({ port: 0, failRate: 0.2, seed: 3, log: false });
  const dir = await folderWithSample();
  try {
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
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `--dry-run sample.csv` in a fresh folder: the JSON lines it prints. */
async function dryRun(
  run: (args: string[], cwd: string) => Promise<Output>,
): Promise<string> {
  const dir = await folderWithSample();
  try {
    const out = await run(["--dry-run", "sample.csv"], dir);
    assert.equal(out.code, 0, out.stderr);
    return out.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The import task's flags, with the network opened to a service on any port. */
function taskFlagsForAnyPort(): string[] {
  return importTask(config).flags.map((f) =>
    f.startsWith("--allow-net=") ? "--allow-net=127.0.0.1" : f
  );
}

/** `deno run` of main.ts with the import task's flags (any port), in `cwd`. */
function runFromSource(args: string[], cwd: string): Promise<Output> {
  return execute(
    "deno",
    ["run", ...taskFlagsForAnyPort(), `${ROOT}/main.ts`, ...args],
    { cwd },
  );
}

Deno.test("deno task import: the task's permissions are enough for the default set-up in a working folder", async () => {
  const { flags } = importTask(config);
  assert.ok(flags.includes("--allow-read=."), flags.join(" "));
  const help = await execute("deno", ["task", "--quiet", "import", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--csv-in/);
  // The same flags, in a folder holding the CSV, against a service on its own port.
  await smallImport(runFromSource);
});

Deno.test("deno task compile: the binary gets exactly the import task's permissions and V8 flags", () => {
  assert.match(config.tasks.compile, /\.ci\/compile\.ts$/);
  const { flags, entry } = importTask(config);
  assert.ok(flags.some((f) => f.startsWith("--v8-flags=")), flags.join(" "));
  for (const target of TARGETS) {
    const args = compileArgs(config, { target, output: "o" });
    assert.deepEqual(args, [
      "compile",
      ...flags,
      "--target",
      target,
      "--output",
      "o",
      entry,
    ]);
  }
  // The test build only widens the network, to reach a service on port 0.
  const test = compileArgs(config, { allowNet: "127.0.0.1" });
  assert.deepEqual(
    test.filter((a) => !a.startsWith("--allow-net")),
    compileArgs(config).filter((a) => !a.startsWith("--allow-net")),
  );
  assert.ok(test.includes("--allow-net=127.0.0.1"));
});

Deno.test("deno run https://…/main.ts: --help and a small import, from a URL with no local deno.json", async () => {
  const server = serveRepository();
  const origin = `http://127.0.0.1:${server.addr.port}`;
  // A copy of the lock pins the npm packages (so nothing asks the registry);
  // the served modules are added to the copy, never to the repository's lock.
  const lockDir = await Deno.makeTempDir({ prefix: "pp-lock-" });
  await Deno.copyFile(`${ROOT}/deno.lock`, `${lockDir}/deno.lock`);
  try {
    const remote = [
      "run",
      `--lock=${lockDir}/deno.lock`,
      `--allow-import=127.0.0.1:${server.addr.port}`,
    ];
    const help = await execute("deno", [
      ...remote,
      "--allow-env",
      `${origin}/main.ts`,
      "--help",
    ], { cwd: lockDir });
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
    await Deno.remove(lockDir, { recursive: true });
  }
});

Deno.test("deno install --global: the installed command has the task's permissions, prints its version and validates sample.csv", async () => {
  const root = await Deno.makeTempDir({ prefix: "pp-install-" });
  try {
    // deno install keeps the command's config and lock in bin/.<name>/; the
    // project's lock, placed there, pins the npm packages (no registry needed).
    const lock = `${root}/bin/.parse-and-post/deno.lock`;
    await Deno.mkdir(`${root}/bin/.parse-and-post`, { recursive: true });
    await Deno.copyFile(`${ROOT}/deno.lock`, lock);
    const install = await execute("deno", [
      "install",
      "--global",
      "--root",
      root,
      "--name",
      "parse-and-post",
      `--lock=${lock}`,
      ...importTask(config).flags,
      `${ROOT}/main.ts`,
    ]);
    assert.equal(install.code, 0, install.stderr);
    const command = `${root}/bin/parse-and-post${
      Deno.build.os === "windows" ? ".cmd" : ""
    }`;
    const version = await execute(command, ["--version"], { cwd: root });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), `parse-and-post ${config.version}`);
    const installed = await dryRun((args, cwd) =>
      execute(command, args, { cwd })
    );
    assert.ok(installed.length > 0);
    assert.equal(installed, await dryRun(runFromSource));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------- the binary

/** Why `deno compile` cannot get its runtime here, or null when it can. */
async function denortMissing(): Promise<string | null> {
  const bin = Deno.env.get("DENORT_BIN");
  if (bin !== undefined) {
    return await Deno.stat(bin).then(
      () => null,
      () => `DENORT_BIN=${bin} does not exist`,
    );
  }
  const info = await execute("deno", ["info", "--json"]);
  const denoDir: string = JSON.parse(info.stdout).denoDir;
  const name = `release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  if (await Deno.stat(`${denoDir}/dl/${name}`).then(() => true, () => false)) {
    return null;
  }
  // One bounded attempt at the download deno compile would make.
  const url = `https://dl.deno.land/${name}`;
  try {
    const response = await fetch(url, {
      method: "HEAD",
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    return response.ok ? null : `${url} answered ${response.status}`;
  } catch (error) {
    // fetch's own message is "fetch failed"; the cause says what happened.
    const cause = (error as Error).cause;
    const why = cause instanceof Error ? cause.message : `${error}`;
    return `cannot download ${url}: ${
      why.replace(/^error sending request for url \(\S+\): /, "")
    }`;
  }
}

const missing = await denortMissing();
if (missing !== null) {
  console.log(
    `SKIPPED standalone binary test: deno compile cannot get its runtime here (${missing}); set DENORT_BIN=/path/to/denort to test the binary`,
  );
}

Deno.test({
  name:
    "standalone binary (deno task compile): --version, --help, the same dry run as the source, a small import",
  ignore: missing !== null,
  async fn() {
    const dist = await Deno.makeTempDir({ prefix: "pp-binary-" });
    try {
      // The release build's flags, but the network opened to any local port.
      const build = await execute("deno", [
        "task",
        "--quiet",
        "compile",
        "--out",
        dist,
        "--allow-net=127.0.0.1",
      ]);
      assert.equal(build.code, 0, build.stderr);
      const binary = `${dist}/parse-and-post${EXE}`;
      const version = await execute(binary, ["--version"]);
      assert.equal(version.stdout.trim(), `parse-and-post ${config.version}`);
      const help = await execute(binary, ["--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /--csv-in/);
      const compiled = await dryRun((args, cwd) =>
        execute(binary, args, { cwd })
      );
      assert.ok(compiled.length > 0);
      assert.equal(compiled, await dryRun(runFromSource));
      await smallImport((args, cwd) => execute(binary, args, { cwd }));
    } finally {
      await Deno.remove(dist, { recursive: true });
    }
  },
});
