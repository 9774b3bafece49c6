/**
 * One attempt to POST one JSON body: the answer, or what went wrong below
 * HTTP, as a value — never an exception (except a missing permission, which
 * is the operator's to fix).
 *
 * @module
 */

import type { Attempt, NetworkError } from "./retry.ts";

/** Options for {@link postJson}. */
export interface PostOptions {
  /** Give up on an answer after this many ms. @default 10000 */
  timeoutMs?: number;
  /** Sent as `Idempotency-Key`, so a service that honours it stores a retried row once. @default none */
  idempotencyKey?: string;
  /** The client to send with (connection pool). @default Deno's shared client */
  client?: Deno.HttpClient;
}

/** Sends one body; see {@link postJson}. */
export type Send = (
  url: string,
  body: string,
  options: PostOptions,
) => Promise<Attempt>;

/**
 * Names a failed fetch by the runtime's message: refused, reset, timeout,
 * dns or other.
 *
 * @example
 * ```ts
 * import { networkError } from "./post.ts";
 * console.assert(networkError("tcp connect error: Connection refused (os error 111)") === "refused");
 * ```
 */
export function networkError(message: string): NetworkError {
  const m = message.toLowerCase();
  if (m.includes("connection refused")) return "refused";
  if (m.includes("dns error") || m.includes("failed to lookup")) return "dns";
  if (m.includes("timed out") || m.includes("timeout")) return "timeout";
  if (
    m.includes("reset") || m.includes("connection closed") ||
    m.includes("broken pipe") || m.includes("incomplete") ||
    m.includes("unexpected eof") || m.includes("aborted")
  ) return "reset";
  return "other";
}

/**
 * POSTs `body` as `application/json` and reads the answer. Keep-alive comes
 * from the client's connection pool. Redirects are not followed (a POST
 * redirected to GET would lose the movie): a 3xx is reported as it is.
 *
 * @example
 * ```ts ignore
 * import { postJson } from "./post.ts";
 * const attempt = await postJson("http://localhost:9009/movies", '{"title":"x"}', {});
 * console.log(attempt.kind === "response" ? attempt.status : attempt.error);
 * ```
 */
export async function postJson(
  url: string,
  body: string,
  options: PostOptions = {},
): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(),
    options.timeoutMs ?? 10_000,
  );
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (options.idempotencyKey) {
    headers["idempotency-key"] = options.idempotencyKey;
  }
  try {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers,
      redirect: "manual",
      signal: controller.signal,
      client: options.client,
    });
    const text = await response.text();
    return {
      kind: "response",
      status: response.status,
      body: text,
      retryAfter: response.headers.get("retry-after"),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    if (controller.signal.aborted) {
      return { kind: "network", error: "timeout", message: "timed out" };
    }
    const e = error as Error & { cause?: Error };
    const message = e.cause?.message ?? e.message;
    return { kind: "network", error: networkError(message), message };
  } finally {
    clearTimeout(timer);
  }
}
