/** Answers and failures, as a fake service gives them. @module */

import type { Attempt } from "../lib/importer/retry.ts";

/** An HTTP answer with this status. */
export function response(
  status: number,
  retryAfter: string | null = null,
  body = "",
): Attempt {
  return { kind: "response", status, body, retryAfter };
}

/** 201 Created. */
export const created: Attempt = response(201);
/** 503 Service Unavailable, empty body. */
export const unavailable: Attempt = response(503);
/** Nobody listening. */
export const refused: Attempt = {
  kind: "network",
  error: "refused",
  message: "Connection refused",
  sent: false,
};
