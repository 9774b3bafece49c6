/**
 * The sink's JSON log lines, shaped like the real service's:
 * `{"level":"info","method":"POST","msg":"POST request","path":"/movies","body":"{...}","time":"..."}`,
 * and for a refused request `{"level":"error",...,"msg":"return 400",...,"error":"title is required",...}`.
 *
 * @module
 */

/**
 * One request's log entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogLine, type LogEntry } from "./log.ts";
 * const entry: LogEntry = {
 *   level: "info", method: "GET", msg: "GET request", path: "/movies",
 *   time: "2026-01-02T03:04:05Z",
 * };
 * assert.ok(JSON.parse(formatLogLine(entry)).path === "/movies");
 * ```
 */
export interface LogEntry {
  /** `info` for answered requests, `error` for refused ones. */
  level: "info" | "error";
  /** The request method. */
  method: string;
  /** `POST request`, `GET request`, `return 400`, ... */
  msg: string;
  /** The request path. */
  path: string;
  /** The request body as text, for POSTs whose body was read. */
  body?: string;
  /** The error message of a refused request. */
  error?: string;
  /** The time, RFC 3339 in UTC to the second (Go's `time.RFC3339`). */
  time: string;
}

/**
 * One JSON line (without newline), keys in the service's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogLine } from "./log.ts";
 * const line = formatLogLine({
 *   level: "error", method: "POST", msg: "return 400", path: "/movies",
 *   body: "{}", error: "title is required", time: "2026-01-02T03:04:05Z",
 * });
 * assert.ok(JSON.parse(line).error === "title is required");
 * assert.ok(line.startsWith('{"level":"error","method":"POST","msg":"return 400"'));
 * ```
 */
export function formatLogLine(entry: LogEntry): string {
  let line = `{"level":"${entry.level}","method":${
    JSON.stringify(entry.method)
  },"msg":${JSON.stringify(entry.msg)},"path":${JSON.stringify(entry.path)}`;
  if (entry.body !== undefined) line += `,"body":${JSON.stringify(entry.body)}`;
  if (entry.error !== undefined) {
    line += `,"error":${JSON.stringify(entry.error)}`;
  }
  return line + `,"time":"${entry.time}"}`;
}

/**
 * A formatter of the clock's time as RFC 3339 UTC seconds
 * (`2026-01-02T03:04:05Z`), computed once per second of the clock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rfc3339Clock } from "./log.ts";
 * const time = rfc3339Clock(() => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)));
 * assert.ok(time() === "2026-01-02T03:04:05Z");
 * ```
 */
export function rfc3339Clock(now: () => Date): () => string {
  let second = NaN;
  let text = "";
  return () => {
    const date = now();
    const s = Math.floor(date.getTime() / 1000);
    if (s !== second) {
      second = s;
      text = date.toISOString().slice(0, 19) + "Z";
    }
    return text;
  };
}
