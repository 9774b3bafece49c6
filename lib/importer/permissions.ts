/**
 * Deno permissions, checked before anything is read or sent (never asked
 * for: no prompt appears). When a run needs more than it was granted, the
 * message gives the whole command to copy: the `deno task import` line
 * with the missing flag widened, V8 flags included.
 *
 * @module
 */

import { resolve } from "node:path";
import { ENV_KEYS } from "./settings.ts";

/** What a run needs access to. */
export interface Needs {
  /** Files and folders read. */
  read: string[];
  /** Files and folders written. */
  write: string[];
  /** URLs connected to. */
  net: string[];
  /** Local ports listened on (metrics). */
  listen: number[];
}

/** One permission the run lacks. */
export interface Missing {
  kind: "read" | "write" | "net";
  /** A resolved path, or `host:port`. */
  target: string;
  /** What it is for, e.g. `CSV_IN`, `URL_OUT`. */
  what: string;
}

/**
 * The permissions of `deno task import` (deno.json; a test keeps them
 * equal), from which the suggested command is built.
 */
export const TASK_PERMISSIONS = {
  read: ["."],
  write: ["."],
  net: ["localhost:9009", "127.0.0.1:9009"],
  // Its own variables; INIT_CWD (set by deno task, for the folder hint);
  // and the two undici reads when it opens its first connection.
  env: [...ENV_KEYS, "INIT_CWD", "JEST_WORKER_ID", "UNDICI_NO_WASM_SIMD"],
  v8: "--max-semi-space-size=4,--max-old-space-size=256",
} as const;

/**
 * The `deno run` arguments of `deno task import` (before `main.ts`), as
 * deno.json writes them; a test keeps the two equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taskRunFlags } from "./permissions.ts";
 * assert.ok(taskRunFlags().includes("--no-prompt"));
 * ```
 */
export function taskRunFlags(): string[] {
  const p = TASK_PERMISSIONS;
  return [
    `--allow-read=${p.read.join(",")}`,
    `--allow-write=${p.write.join(",")}`,
    `--allow-net=${p.net.join(",")}`,
    `--allow-env=${p.env.join(",")}`,
    "--no-prompt",
    `--v8-flags=${p.v8}`,
  ];
}

function descriptor(
  kind: Missing["kind"],
  target: string,
): Deno.PermissionDescriptor {
  return kind === "net"
    ? { name: "net", host: target }
    : { name: kind, path: target };
}

/** `host:port` of a URL, the port spelled out. */
export function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

/**
 * The permissions missing for a run (queried, never requested).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingPermissions } from "./permissions.ts";
 * assert.deepEqual(missingPermissions({ read: [], write: [], net: [], listen: [] }, {}), []);
 * ```
 */
export function missingPermissions(
  needs: Needs,
  names: Record<string, string>,
): Missing[] {
  const missing: Missing[] = [];
  const check = (kind: Missing["kind"], target: string) => {
    const resolved = kind === "net" ? target : resolve(target);
    if (
      Deno.permissions.querySync(descriptor(kind, resolved)).state !== "granted"
    ) {
      missing.push({ kind, target: resolved, what: names[target] ?? target });
    }
  };
  for (const path of needs.read) check("read", path);
  for (const path of needs.write) check("write", path);
  for (const url of needs.net) check("net", hostPort(url));
  for (const port of needs.listen) check("net", `127.0.0.1:${port}`);
  return missing;
}

/** A word for a shell: quoted when it needs to be. */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The lines to print for missing permissions: what is missing, then the
 * task's own `deno run` command with the flags widened (and the same
 * arguments), to copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionHint } from "./permissions.ts";
 * const lines = permissionHint([{ kind: "net", target: "localhost:9101", what: "URL_OUT" }], ["--url-out", "http://localhost:9101/movies"]);
 * assert.match(lines[0], /no permission to connect to localhost:9101 \(URL_OUT\)/);
 * assert.match(lines[1], /--allow-net=localhost:9009,127.0.0.1:9009,localhost:9101 .*--v8-flags=.* main.ts --url-out/);
 * ```
 */
export function permissionHint(
  missing: Missing[],
  args: string[],
  main = "main.ts",
): string[] {
  const wider = (kind: Missing["kind"], granted: readonly string[]) =>
    [
      ...granted,
      ...missing.filter((m) => m.kind === kind).map((m) => m.target),
    ].join(",");
  const widened: Record<string, string> = {
    read: wider("read", TASK_PERMISSIONS.read),
    write: wider("write", TASK_PERMISSIONS.write),
    net: wider("net", TASK_PERMISSIONS.net),
  };
  const flags = taskRunFlags().map((flag) => {
    const kind = /^--allow-(read|write|net)=/.exec(flag)?.[1];
    return kind === undefined
      ? flag
      : `--allow-${kind}=${shellWord(widened[kind])}`;
  });
  const command = ["deno run", ...flags, main, ...args.map(shellWord)].join(
    " ",
  );
  const what = missing.map((m) =>
    m.kind === "net"
      ? `connect to ${m.target} (${m.what})`
      : `${m.kind} ${m.target} (${m.what})`
  );
  return [
    `no permission to ${
      what.join(", ")
    }: deno task import grants only the project folder and localhost:9009; run instead:`,
    `  ${command}`,
    `(see README, "Permissions")`,
  ];
}

/**
 * A one-line message for a permission error raised while running, or
 * `null` for other errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionMessage } from "./permissions.ts";
 * assert.equal(permissionMessage(new Error("x")), null);
 * ```
 */
export function permissionMessage(error: unknown): string | null {
  if (
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied
  ) {
    return `permission missing: ${
      error.message.split("\n")[0]
    } (see README, "Permissions")`;
  }
  return null;
}
