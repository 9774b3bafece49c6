/**
 * The reading half of the pipeline — source (CSV records with line numbers)
 * and schema (normalise, validate, serialise) — run on a worker thread, so
 * the main thread only sends requests. Sharing one thread made the HTTP
 * client about a third slower (parsing and validation in between, and rows
 * living long enough to be promoted in the heap); see README, "Benchmarks".
 *
 * The worker reads only as fast as batches are asked for (two ahead), so
 * memory stays flat.
 *
 * @module
 */

import type { Rejection } from "./movie.ts";
import type { Dialect, Layout } from "./source.ts";

/** One record of the input, read and judged. */
export type PreparedItem =
  | { kind: "blank"; line: number }
  | { kind: "header"; line: number }
  | { kind: "type_row"; line: number; fields: string[] }
  | {
    kind: "row";
    line: number;
    /** The fields as read, less the `line`/`reason` columns of a rejects file. */
    fields: string[];
    /** The JSON body, when the row is valid. */
    body?: string;
    /** Why not, when it is not. */
    rejection?: Rejection;
  };

/** What the importer asks the reading stage for. */
export interface PrepareOptions {
  /** The field separator. @default "auto" */
  delimiter?: "auto" | ";" | ",";
  /** The file's encoding. @default "auto" */
  encoding?: "auto" | "utf-8" | "windows-1252";
  /** The year the service takes as the current one. */
  currentYear: number;
  /** Told about problems the read goes on despite. @default none */
  onWarning?: (message: string) => void;
  /** Told about what was recognised. @default none */
  onInfo?: (message: string) => void;
}

/** An open, prepared input. */
export interface Prepared {
  dialect: Dialect;
  layout: Layout;
  /** The header's names less `line` and `reason` (the rejects file's columns). */
  columns: string[];
  /** Batches of items, in file order; rejects with an {@link InputError}-like message. */
  batches: AsyncIterable<PreparedItem[]>;
  /** Stops the worker. */
  close(): void;
}

/** The input cannot be read (the message is one line, for the user). */
export class PrepareInputError extends Error {}

/** Messages from the worker. */
export type WorkerMessage =
  | { type: "opened"; dialect: Dialect; layout: Layout; columns: string[] }
  | { type: "batch"; items: PreparedItem[] }
  | { type: "end" }
  | { type: "log"; level: "WARNING" | "INFO"; message: string }
  | { type: "error"; message: string; input: boolean; permission: boolean };

/** Messages to the worker. */
export type MainMessage =
  | {
    type: "open";
    path: string;
    delimiter: "auto" | ";" | ",";
    encoding: "auto" | "utf-8" | "windows-1252";
    currentYear: number;
  }
  | { type: "more" };

/**
 * The worker's module. When it is a local file, the run needs read access
 * to it (Deno checks a worker's script like any file read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WORKER_URL } from "./prepare.ts";
 * assert.ok(WORKER_URL.href.endsWith("/prepare_worker.ts"));
 * ```
 */
export const WORKER_URL: URL = new URL("./prepare_worker.ts", import.meta.url);

/** Batches asked for ahead of use. */
const AHEAD = 2;

/**
 * Opens `path` on a worker and returns its dialect, layout and batches.
 * Throws {@link PrepareInputError} when the input cannot be read, and
 * `Deno.errors.NotCapable` for a missing permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPrepared } from "./prepare.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "year;title;awards\n1999;Matrix;no\n\n1700;Old;No\n");
 * const input = await openPrepared(path, { currentYear: 2026 });
 * const items = [];
 * for await (const batch of input.batches) items.push(...batch);
 * input.close();
 * assert.deepEqual(items.map((i) => i.kind), ["header", "row", "blank", "row"]);
 * assert.equal(items[1].kind === "row" && items[1].body, '{"year":1999,"length":null,"title":"Matrix","subject":"","actor":"","actress":"","director":"","popularity":null,"awards":"No","image":""}');
 * assert.equal(items[3].kind === "row" && items[3].rejection?.rule, "range");
 * ```
 */
export function openPrepared(
  path: string,
  options: PrepareOptions,
): Promise<Prepared> {
  const worker = new Worker(WORKER_URL, { type: "module" });
  const post = (message: MainMessage) => worker.postMessage(message);
  const queue: PreparedItem[][] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    worker.terminate();
  };
  return new Promise<Prepared>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      switch (message.type) {
        case "log":
          (message.level === "WARNING" ? options.onWarning : options.onInfo)?.(
            message.message,
          );
          return;
        case "opened":
          for (let i = 0; i < AHEAD; i++) post({ type: "more" });
          resolve({
            dialect: message.dialect,
            layout: message.layout,
            columns: message.columns,
            batches: batches(),
            close,
          });
          return;
        case "batch":
          queue.push(message.items);
          break;
        case "end":
          ended = true;
          break;
        case "error": {
          const error = message.permission
            ? new Deno.errors.NotCapable(message.message)
            : message.input
            ? new PrepareInputError(message.message)
            : new Error(message.message);
          failure = error;
          close();
          reject(error); // ignored once opened
          break;
        }
      }
      const w = wake;
      wake = null;
      w?.();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failure = new Error(event.message);
      close();
      reject(failure);
      const w = wake;
      wake = null;
      w?.();
    };
    post({
      type: "open",
      path,
      delimiter: options.delimiter ?? "auto",
      encoding: options.encoding ?? "auto",
      currentYear: options.currentYear,
    });
  });

  async function* batches(): AsyncGenerator<PreparedItem[]> {
    try {
      while (true) {
        const next = queue.shift();
        if (next) {
          if (!ended && !closed) post({ type: "more" });
          yield next;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => wake = resolve);
      }
    } finally {
      close();
    }
  }
}
