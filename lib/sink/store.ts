/**
 * What the sink keeps of accepted movies (only when asked: the real
 * service keeps nothing): the list, an optional JSON-lines file, and the
 * `Idempotency-Key`s already accepted.
 *
 * @module
 */

import type { Film } from "./film.ts";
import { createLineWriter, type LineWriter } from "./line_writer.ts";

/**
 * The accepted movies of one sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStore, type MovieStore } from "./store.ts";
 * const store: MovieStore = createStore({ keep: false });
 * assert.ok(!store.keeping && store.list().length === 0);
 * store.close();
 * ```
 */
export interface MovieStore {
  /** Whether movies are kept (`store` or `storeFile` was set). */
  readonly keeping: boolean;
  /** Records an accepted movie, and its idempotency key when given. */
  add(film: Film, key: string | null): void;
  /** Whether a movie was already accepted under this idempotency key. */
  seen(key: string): boolean;
  /** The movies kept so far, in order of acceptance. */
  list(): Film[];
  /** Forgets the movies and keys (the file is left as written). */
  reset(): void;
  /** Flushes and closes the file, if any. */
  close(): void;
}

/**
 * Where to keep movies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StoreOptions } from "./store.ts";
 * const options: StoreOptions = { keep: true, file: "out/movies.jsonl" };
 * assert.ok(options.keep);
 * ```
 */
export interface StoreOptions {
  /** Keep accepted movies in memory. */
  keep: boolean;
  /** Also append each accepted movie as a JSON line to this file. */
  file?: string;
}

/**
 * Creates a store; with `file`, the file is opened for appending at once
 * (created if missing), so a bad path fails at start-up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStore } from "./store.ts";
 * import { zeroFilm } from "./film.ts";
 * const store = createStore({ keep: true });
 * store.add({ ...zeroFilm(), title: "Heat", year: 1995 }, "key-1");
 * assert.ok(store.seen("key-1") && !store.seen("key-2"));
 * assert.ok(store.list()[0].title === "Heat");
 * store.close();
 * ```
 */
export function createStore(options: StoreOptions): MovieStore {
  const keeping = options.keep || options.file !== undefined;
  let films: Film[] = [];
  const keys = new Set<string>();
  let file: Deno.FsFile | undefined;
  let writer: LineWriter | undefined;
  if (options.file !== undefined) {
    file = Deno.openSync(options.file, {
      append: true,
      create: true,
      write: true,
    });
    writer = createLineWriter(file, { flushMs: 100 });
  }
  return {
    keeping,
    add(film, key) {
      if (key !== null) keys.add(key);
      if (!keeping) return;
      films.push(film);
      writer?.write(JSON.stringify(film));
    },
    seen: (key) => keys.has(key),
    list: () => films.slice(),
    reset() {
      films = [];
      keys.clear();
    },
    close() {
      writer?.close();
      file?.close();
      writer = undefined;
      file = undefined;
    },
  };
}
