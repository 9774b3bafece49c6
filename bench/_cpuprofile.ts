/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): the functions
 * with the most self time, aggregated by function and source position.
 *
 * ```sh
 * deno run -A bench/_cpuprofile.ts out/bench/profiles/x/CPU.123.cpuprofile [top]
 * ```
 *
 * @module
 */

/** One line of the summary. */
export interface ProfileEntry {
  /** Function name, `(anonymous)` when it has none. */
  name: string;
  /** Where it is: file (short) and line. */
  where: string;
  /** Self time, ms. */
  selfMs: number;
  /** Share of the profile's sampled time, %. */
  selfPct: number;
}

interface CpuProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    url: string;
    lineNumber: number;
  };
}

/** The parts of a `.cpuprofile` used here. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const npm = url.indexOf("/node_modules/");
  if (npm >= 0) return url.slice(npm + 14);
  const lib = url.lastIndexOf("/lib/");
  if (lib >= 0) return url.slice(lib + 1);
  const ext = url.replace(/^ext:/, "ext:");
  return ext.split("/").slice(-2).join("/");
}

/**
 * The `top` entries by self time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topSelfTime } from "./_cpuprofile.ts";
 * const profile = {
 *   nodes: [
 *     { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
 *     { id: 2, callFrame: { functionName: "hot", url: "file:///x/lib/a.ts", lineNumber: 9 } },
 *   ],
 *   samples: [2, 2, 1],
 *   timeDeltas: [1000, 1000, 1000],
 * };
 * const [first] = topSelfTime(profile, 1);
 * assert.equal(first.name, "hot");
 * assert.equal(first.where, "lib/a.ts:10");
 * ```
 */
export function topSelfTime(profile: CpuProfile, top = 20): ProfileEntry[] {
  const byId = new Map<number, CpuProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = Math.max(0, profile.timeDeltas[i] ?? 0);
    total += us;
    if (!node) continue;
    const frame = node.callFrame;
    const name = frame.functionName || "(anonymous)";
    const file = shortUrl(frame.url);
    const where = file === "" ? "" : `${file}:${frame.lineNumber + 1}`;
    const key = `${name}\0${where}`;
    const entry = selfUs.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  }
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      name: e.name,
      where: e.where,
      selfMs: Math.round(e.us / 100) / 10,
      selfPct: total > 0 ? Math.round((e.us / total) * 1000) / 10 : 0,
    }));
}

/**
 * Reads every `.cpuprofile` in a folder and summarises the largest one.
 *
 * @example
 * ```ts ignore
 * import { summariseProfileDir } from "./_cpuprofile.ts";
 * console.table(await summariseProfileDir("out/bench/profiles/run-1", 15));
 * ```
 */
export async function summariseProfileDir(
  dir: string,
  top = 20,
): Promise<{ file: string; entries: ProfileEntry[] } | null> {
  let best: { file: string; size: number } | null = null;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".cpuprofile")) continue;
    const file = `${dir}/${entry.name}`;
    const { size } = await Deno.stat(file);
    if (best === null || size > best.size) best = { file, size };
  }
  if (best === null) return null;
  const profile = JSON.parse(await Deno.readTextFile(best.file)) as CpuProfile;
  return { file: best.file, entries: topSelfTime(profile, top) };
}

if (import.meta.main) {
  const [path, top] = Deno.args;
  if (!path) {
    console.error("usage: deno run -A bench/_cpuprofile.ts FILE|DIR [top]");
    Deno.exit(2);
  }
  const n = Number(top ?? 20);
  const info = await Deno.stat(path);
  const result = info.isDirectory ? await summariseProfileDir(path, n) : {
    file: path,
    entries: topSelfTime(JSON.parse(await Deno.readTextFile(path)), n),
  };
  if (result === null) {
    console.error(`no .cpuprofile in ${path}`);
    Deno.exit(1);
  }
  console.log(result.file);
  for (const e of result.entries) {
    console.log(
      `${e.selfPct.toFixed(1).padStart(5)} %  ${
        e.selfMs.toFixed(0).padStart(7)
      } ms  ${e.name}  ${e.where}`,
    );
  }
}
