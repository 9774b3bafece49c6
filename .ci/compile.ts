/**
 * Builds the importer's standalone binary with `deno compile`, with exactly
 * the permissions and V8 flags of the `import` task: they are read from
 * `deno.json` each time, so the binary and the task cannot drift apart.
 *
 *     deno task compile                    dist/parse-and-post, for this machine
 *     deno task compile --all              dist/parse-and-post-v<version>-<target>, every release target
 *     deno task compile --target T [--target T …]
 *     deno task compile --out DIR          another folder than dist/
 *     deno task compile --allow-net=HOSTS  another network permission (tests against a service on port 0)
 *
 * `deno compile` downloads its runtime (denort) for each target once, into
 * DENO_DIR; set DENORT_BIN to a denort binary to build offline for this machine.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The release targets: every platform gets a binary. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** What the build needs from `deno.json`. */
export interface ProjectConfig {
  version: string;
  tasks: Record<string, string>;
}

/** The `import` task taken apart: its `deno run` flags and its entry point. */
export interface ImportTask {
  flags: string[];
  entry: string;
}

/**
 * Splits the `import` task (`deno run <flags> <entry>`) into its flags and
 * entry point; throws, naming the task, when it has another shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTask } from "./compile.ts";
 * const task = importTask({
 *   version: "1.0.0",
 *   tasks: { import: "deno run --allow-read=. --v8-flags=--max-old-space-size=256 main.ts" },
 * });
 * assert.deepEqual(task, {
 *   flags: ["--allow-read=.", "--v8-flags=--max-old-space-size=256"],
 *   entry: "main.ts",
 * });
 * ```
 */
export function importTask(config: ProjectConfig): ImportTask {
  const task = config.tasks.import ?? "";
  const words = task.trim().split(/\s+/);
  const flags = words.slice(2, -1);
  const entry = words.at(-1) ?? "";
  if (
    words[0] !== "deno" || words[1] !== "run" || !entry.endsWith(".ts") ||
    flags.some((f) => !f.startsWith("--"))
  ) {
    throw new Error(
      `deno.json's "import" task is not "deno run --flag… entry.ts": ${task}`,
    );
  }
  return { flags, entry };
}

/**
 * The file name of one release binary: `parse-and-post-v1.2.3-<target>`,
 * with `.exe` for Windows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryName } from "./compile.ts";
 * assert.equal(binaryName("1.2.3", "aarch64-apple-darwin"), "parse-and-post-v1.2.3-aarch64-apple-darwin");
 * assert.equal(binaryName("1.2.3", "x86_64-pc-windows-msvc"), "parse-and-post-v1.2.3-x86_64-pc-windows-msvc.exe");
 * ```
 */
export function binaryName(version: string, target: string): string {
  const exe = target.includes("windows") ? ".exe" : "";
  return `parse-and-post-v${version}-${target}${exe}`;
}

/**
 * Folders inside npm packages that `deno compile` must not embed. Deno 2.9
 * parses every embedded file, and bintrees' `test/perf/100k` (200,000 lines
 * of numbers, no extension) reads as one expression 200,000 terms deep:
 * `deno compile` dies with "tokio-runtime-worker has overflowed its stack"
 * (denoland/deno#36746). bintrees comes with prom-client (metrics); tests
 * are never needed at run time.
 */
export const NOT_EMBEDDED: Readonly<Record<string, string>> = {
  bintrees: "test",
};

/**
 * The `--exclude` flags for {@link NOT_EMBEDDED}: one per package version in
 * the lock, at its place in deno's npm cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { excludeFlags } from "./compile.ts";
 * const lock = { npm: { "bintrees@1.0.2": {}, "zod@4.6.7": {} } };
 * assert.deepEqual(excludeFlags(lock, "/cache/deno"), [
 *   "--exclude=/cache/deno/npm/registry.npmjs.org/bintrees/1.0.2/test",
 * ]);
 * ```
 */
export function excludeFlags(
  lock: { npm?: Record<string, unknown> },
  denoDir: string,
): string[] {
  return Object.keys(lock.npm ?? {}).flatMap((id) => {
    const at = id.lastIndexOf("@");
    const [name, version] = [id.slice(0, at), id.slice(at + 1)];
    const folder = NOT_EMBEDDED[name];
    return folder === undefined ? [] : [
      `--exclude=${denoDir}/npm/registry.npmjs.org/${name}/${version}/${folder}`,
    ];
  });
}

/** How one binary is built. */
export interface BuildOptions {
  /** The target triple; none builds for this machine. @default undefined */
  target?: string;
  /** The binary's path. @default "dist/parse-and-post" */
  output?: string;
  /** Replaces the task's `--allow-net=…` (e.g. `127.0.0.1` in tests). @default undefined */
  allowNet?: string;
  /** Embedding flags (see {@link excludeFlags}). @default [] */
  embedding?: string[];
}

/**
 * The arguments of `deno compile` for one binary: the import task's flags,
 * then the target, the output and the entry point.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileArgs } from "./compile.ts";
 * const config = {
 *   version: "1.0.0",
 *   tasks: { import: "deno run --allow-net=localhost:9009 --allow-env=CSV_IN main.ts" },
 * };
 * assert.deepEqual(
 *   compileArgs(config, { target: "x86_64-apple-darwin", output: "dist/x", allowNet: "127.0.0.1" }),
 *   ["compile", "--allow-net=127.0.0.1", "--allow-env=CSV_IN", "--target", "x86_64-apple-darwin", "--output", "dist/x", "main.ts"],
 * );
 * ```
 */
export function compileArgs(
  config: ProjectConfig,
  options: BuildOptions = {},
): string[] {
  const { flags, entry } = importTask(config);
  const permissions = options.allowNet === undefined
    ? flags
    : flags.map((f) =>
      f.startsWith("--allow-net") ? `--allow-net=${options.allowNet}` : f
    );
  return [
    "compile",
    ...permissions,
    ...(options.embedding ?? []),
    ...(options.target ? ["--target", options.target] : []),
    "--output",
    options.output ?? "dist/parse-and-post",
    entry,
  ];
}

/**
 * The builds a command line asks for: one for this machine, or named targets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plannedBuilds } from "./compile.ts";
 * const config = { version: "1.0.0", tasks: {} };
 * assert.deepEqual(plannedBuilds(config, ["--target", "aarch64-apple-darwin", "--out", "o"]), [
 *   { target: "aarch64-apple-darwin", output: "o/parse-and-post-v1.0.0-aarch64-apple-darwin", allowNet: undefined },
 * ]);
 * assert.equal(plannedBuilds(config, ["--all"]).length, 5);
 * ```
 */
export function plannedBuilds(
  config: ProjectConfig,
  args: string[],
): BuildOptions[] {
  const { values } = parseArgs({
    args,
    options: {
      all: { type: "boolean", default: false },
      target: { type: "string", multiple: true, default: [] },
      out: { type: "string", default: "dist" },
      "allow-net": { type: "string" },
    },
    strict: true,
  });
  const unknown = values.target.filter((t) => !TARGETS.includes(t));
  if (unknown.length > 0) {
    throw new Error(
      `unknown target ${unknown.join(", ")}; one of ${TARGETS.join(", ")}`,
    );
  }
  const targets = values.all ? [...TARGETS] : values.target;
  const allowNet = values["allow-net"];
  if (targets.length === 0) {
    const exe = Deno.build.os === "windows" ? ".exe" : "";
    return [{ output: `${values.out}/parse-and-post${exe}`, allowNet }];
  }
  return targets.map((target) => ({
    target,
    output: `${values.out}/${binaryName(config.version, target)}`,
    allowNet,
  }));
}

/** The `--exclude` flags for this machine's npm cache and the project's lock. */
async function excludes(root: URL): Promise<string[]> {
  const info = await new Deno.Command("deno", {
    args: ["info", "--json"],
    stdout: "piped",
  }).output();
  const { denoDir } = JSON.parse(new TextDecoder().decode(info.stdout));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));
  return excludeFlags(lock, denoDir);
}

async function main(args: string[]): Promise<number> {
  const config: ProjectConfig = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  let builds: BuildOptions[];
  try {
    builds = plannedBuilds(config, args);
  } catch (error) {
    console.error(`compile: ${(error as Error).message}`);
    return 2;
  }
  const root = new URL("..", import.meta.url);
  const embedding = ["--exclude-unused-npm", ...await excludes(root)];
  for (const build of builds) {
    const args = compileArgs(config, { ...build, embedding });
    console.error(`deno ${args.join(" ")}`);
    const { code } = await new Deno.Command("deno", { args, cwd: root })
      .spawn().status;
    if (code !== 0) return code;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
