/**
 * Deno permissions, checked before anything is read or sent: each one a run
 * needs and does not have becomes one line naming the flag to add.
 *
 * @module
 */

/** What a run needs access to. */
export interface Needs {
  /** Files read. */
  read: string[];
  /** Files written. */
  write: string[];
  /** URLs connected to. */
  net: string[];
}

function descriptor(
  kind: "read" | "write" | "net",
  target: string,
): Deno.PermissionDescriptor {
  if (kind === "net") {
    const url = new URL(target);
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    return { name: "net", host: `${url.hostname}:${port}` };
  }
  return { name: kind, path: target };
}

function flag(kind: "read" | "write" | "net", target: string): string {
  const d = descriptor(kind, target);
  return d.name === "net"
    ? `--allow-net=${d.host}`
    : `--allow-${kind}=${target}`;
}

/**
 * The permissions missing for a run, each as one line with the flag to add.
 * A permission in the "prompt" state is requested (Deno asks on a terminal,
 * and refuses elsewhere).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingPermissions } from "./permissions.ts";
 * const missing = missingPermissions({ read: [], write: [], net: [] });
 * assert.ok(missing.length === 0);
 * ```
 */
export function missingPermissions(needs: Needs): string[] {
  const missing: string[] = [];
  const check = (kind: "read" | "write" | "net", target: string) => {
    const d = descriptor(kind, target);
    let state = Deno.permissions.querySync(d).state;
    if (state === "prompt") state = Deno.permissions.requestSync(d).state;
    if (state !== "granted") {
      const what = kind === "net"
        ? `connect to ${(d as Deno.NetPermissionDescriptor).host}`
        : `${kind} ${target}`;
      missing.push(
        `no permission to ${what}: run with ${
          flag(kind, target)
        } (see README, "Permissions")`,
      );
    }
  };
  for (const path of needs.read) check("read", path);
  for (const path of needs.write) check("write", path);
  for (const url of needs.net) check("net", url);
  return missing;
}

/**
 * A one-line message for a permission error raised while running (the
 * runtime's own text already names the flag), or `null` for other errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionMessage } from "./permissions.ts";
 * assert.ok(permissionMessage(new Error("x")) === null);
 * ```
 */
export function permissionMessage(error: unknown): string | null {
  if (
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied
  ) {
    return `permission missing: ${error.message.split("\n")[0]}`;
  }
  return null;
}
