/**
 * The worker side of {@link ./prepare.ts}: opens the source, judges each
 * record (shape, then the movie schema) and sends batches as they are asked
 * for.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { IGNORED_COLUMNS, normalizeName } from "./csv/layout.ts";
import { COLUMNS, movieValidator } from "./movie.ts";
import type { MainMessage, PreparedItem, WorkerMessage } from "./prepare.ts";
import { InputError, openSource, type Source } from "./source.ts";

const send = (message: WorkerMessage) => self.postMessage(message);
let credits = 0;
let wake: (() => void) | null = null;

function isPermission(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied;
}

function fail(error: unknown): void {
  send({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
    input: error instanceof InputError,
    permission: isPermission(error),
  });
}

async function run(open: Extract<MainMessage, { type: "open" }>) {
  let source: Source;
  try {
    source = await openSource(open.path, {
      delimiter: open.delimiter,
      encoding: open.encoding,
      onWarning: (message) => send({ type: "log", level: "WARNING", message }),
      onInfo: (message) => send({ type: "log", level: "INFO", message }),
    });
  } catch (error) {
    return fail(error);
  }
  const { layout } = source;
  const header = layout.header ?? [...COLUMNS];
  // A rejects file imported again: its own `line` and `reason` columns are
  // dropped from what is kept of each row.
  const dropped = new Set(
    header.flatMap((name, i) =>
      IGNORED_COLUMNS.includes(normalizeName(name)) ? [i] : []
    ),
  );
  const original = (fields: string[]) =>
    dropped.size === 0 ? fields : fields.filter((_, i) => !dropped.has(i));
  const width = layout.width - dropped.size;
  send({
    type: "opened",
    dialect: source.dialect,
    layout,
    columns: original(header),
  });
  const validate = movieValidator(open.currentYear);
  const reader = source.items.getReader();
  try {
    while (true) {
      while (credits === 0) await new Promise<void>((r) => wake = r);
      const next = await reader.read();
      if (next.done) break;
      const items: PreparedItem[] = [];
      for (const item of next.value) {
        switch (item.kind) {
          case "blank":
          case "header":
            items.push({ kind: item.kind, line: item.line });
            break;
          case "type_row":
            items.push(item);
            break;
          case "malformed":
            items.push({
              kind: "row",
              line: item.line,
              fields: original(item.fields),
              rejection: {
                field: "row",
                rule: "malformed",
                message: item.reason,
              },
            });
            break;
          case "row": {
            const fields = original(item.fields);
            if (item.fields.length !== layout.width) {
              items.push({
                kind: "row",
                line: item.line,
                fields,
                rejection: {
                  field: "row",
                  rule: "field_count",
                  message:
                    `wrong number of fields: ${fields.length}, expected ${width}`,
                },
              });
              break;
            }
            const result = validate(item.fields, layout.index);
            items.push(
              result.ok
                ? { kind: "row", line: item.line, fields, body: result.body }
                : {
                  kind: "row",
                  line: item.line,
                  fields,
                  rejection: result.rejection,
                },
            );
          }
        }
      }
      credits--;
      send({ type: "batch", items });
    }
    send({ type: "end" });
  } catch (error) {
    fail(error);
  } finally {
    await source.close();
  }
}

self.onmessage = (event: MessageEvent<MainMessage>) => {
  const message = event.data;
  if (message.type === "open") {
    void run(message);
  } else {
    credits++;
    const w = wake;
    wake = null;
    w?.();
  }
};
