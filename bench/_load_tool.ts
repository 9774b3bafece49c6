/**
 * The service alone under a native load tool (`wrk` with a Lua POST
 * script), to tell whether the service or the client is the limit: if wrk
 * gets many times the requests/s the Deno client gets at the same
 * concurrency, the service is not the bottleneck.
 *
 * @module
 */

/** What one wrk run measured. */
export interface LoadToolResult {
  /** The tool, e.g. `wrk`. */
  tool: string;
  /** The exact command line. */
  command: string;
  /** Open connections (requests in flight at most). */
  concurrency: number;
  /** Measured duration, s. */
  seconds: number;
  /** Requests answered. */
  requests: number;
  /** Answers that were not 2xx/3xx (the 503s). */
  non2xx: number;
  /** Socket errors (connect, read, write, timeout). */
  socketErrors: number;
  /** Requests per second. */
  requestsPerSecond: number;
  /** 2xx answers per second (rows a client would deliver). */
  okPerSecond: number;
  /** Latency, ms. */
  latencyMs: { p50: number; p99: number; max: number };
}

const MARK = "WRKJSON ";

/**
 * The wrk Lua script: POSTs `body` as JSON and prints one JSON line of
 * figures when done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wrkScript } from "./_load_tool.ts";
 * assert.ok(wrkScript('{"title":"x"}').includes('wrk.method = "POST"'));
 * ```
 */
export function wrkScript(body: string): string {
  const lua = (s: string) =>
    `"${
      s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    }"`;
  return [
    `wrk.method = "POST"`,
    `wrk.headers["Content-Type"] = "application/json"`,
    `wrk.body = ${lua(body)}`,
    `done = function(summary, latency, requests)`,
    `  local e = summary.errors`,
    `  io.write(string.format('${MARK}{"requests":%d,"durationUs":%d,"status":%d,"socket":%d,"p50":%d,"p99":%d,"max":%d}\\n',`,
    `    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,`,
    `    latency:percentile(50), latency:percentile(99), latency.max))`,
    `end`,
    ``,
  ].join("\n");
}

/** Whether a program is on the PATH. */
export async function onPath(program: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${program}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Runs wrk with one connection per request in flight, on one thread (one
 * core, like the importer), against `url` for `seconds`.
 *
 * @example
 * ```ts ignore
 * import { runWrk } from "./_load_tool.ts";
 * const r = await runWrk("http://127.0.0.1:9009/movies", '{"title":"x"}', 16, 3);
 * console.log(r.requestsPerSecond);
 * ```
 */
export async function runWrk(
  url: string,
  body: string,
  concurrency: number,
  seconds: number,
): Promise<LoadToolResult> {
  const script = await Deno.makeTempFile({
    prefix: "bench-wrk-",
    suffix: ".lua",
  });
  try {
    await Deno.writeTextFile(script, wrkScript(body));
    const args = [
      "-t1",
      `-c${concurrency}`,
      `-d${seconds}s`,
      "-s",
      script,
      url,
    ];
    const out = await new Deno.Command("wrk", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const line = text.split("\n").find((l) => l.startsWith(MARK));
    if (!out.success || line === undefined) {
      throw new Error(
        `wrk failed (${out.code}): ${
          new TextDecoder().decode(out.stderr).slice(-500)
        }${text.slice(-500)}`,
      );
    }
    const r = JSON.parse(line.slice(MARK.length));
    const secs = r.durationUs / 1e6;
    return {
      tool: "wrk",
      command: `wrk ${
        args.map((a) => a === script ? "post.lua" : a).join(" ")
      }`,
      concurrency,
      seconds: Math.round(secs * 100) / 100,
      requests: r.requests,
      non2xx: r.status,
      socketErrors: r.socket,
      requestsPerSecond: Math.round(r.requests / secs),
      okPerSecond: Math.round((r.requests - r.status) / secs),
      latencyMs: {
        p50: r.p50 / 1000,
        p99: r.p99 / 1000,
        max: r.max / 1000,
      },
    };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}
