/**
 * The TCP relay in front of the sink's `Deno.serve` server: it owns every
 * client connection, so the sink can close one when Go's server would (the
 * 2-second read and idle timeouts) or when a fault says so (a dropped
 * connection, a store-then-drop, a late answer cut by the write timeout).
 *
 * Why a relay: `Deno.serve` exposes no connection. Measured on Deno 2.9:
 * it has no server timeouts; a handler cannot close its connection (a
 * thrown error becomes a 500, `Response.error()` too, an erroring body
 * stream sends the status line first, and a `Connection: close` answer is
 * sent but the connection stays open); `node:http`'s server does enforce
 * timeouts, but Node's way (408 answers) and at about half the speed of
 * this relay. So each client connection gets its own loopback connection
 * to the server and bytes are pumped both ways. The handler sees the
 * relay's upstream socket as its remote address and gets the connection's
 * {@link Exchange} by that port.
 *
 * The timeouts follow Go's `net/http` server:
 * - read: the whole request (headers and body) must arrive within
 *   `readTimeoutMs` of its first byte (of the accept, for a connection's
 *   first request). Headers not complete by then: the connection is closed
 *   without an answer. Body not complete: the handler's body read fails
 *   (it answers 500, then the connection is closed).
 * - write: an answer not ready within `writeTimeoutMs` of the handler's
 *   start is not sent; the connection is closed instead, when the answer
 *   would have been written.
 * - idle: a kept-alive connection with no new request byte for
 *   `idleTimeoutMs` after its last answer is closed.
 *
 * Deadlines are checked by one timer every `timeout / 20` (5 to 50 ms), not
 * one timer per request, so a close comes up to that much late.
 *
 * @module
 */

/** What a connection is doing. */
const IDLE = 0, READING = 1, HANDLING = 2, CLOSING = 3;

/** How long a connection closed after an answer keeps reading (Go: 500 ms). */
const LINGER_MS = 500;

/**
 * How the relay listens and times connections out (0: no timeout).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RelayOptions } from "./relay.ts";
 * const go: RelayOptions = {
 *   listen: { hostname: "127.0.0.1", port: 9009 },
 *   readTimeoutMs: 2000, writeTimeoutMs: 2000, idleTimeoutMs: 2000,
 * };
 * assert.equal(go.idleTimeoutMs, go.readTimeoutMs);
 * ```
 */
export interface RelayOptions {
  /** Where clients connect. */
  listen: { hostname: string; port: number };
  /** Time for a whole request from its first byte, ms; 0: none. */
  readTimeoutMs: number;
  /** Time for the answer from the handler's start, ms; 0: none. */
  writeTimeoutMs: number;
  /** Time a connection may wait for its next request, ms; 0: none. */
  idleTimeoutMs: number;
  /** Told of each connection closed (or body read cut) by a timeout. */
  onTimeout?: (kind: "idle" | "read") => void;
}

/**
 * The request body did not arrive in time (Go: `i/o timeout`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyTimeoutError } from "./relay.ts";
 * const error = new BodyTimeoutError("read tcp 127.0.0.1:9009->127.0.0.1:5000: i/o timeout");
 * assert.ok(error instanceof Error && error.name === "BodyTimeoutError");
 * ```
 */
export class BodyTimeoutError extends Error {
  /** @param message Go's error text. */
  constructor(message: string) {
    super(message);
    this.name = "BodyTimeoutError";
  }
}

/**
 * One request's hold on its client connection, for the handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Exchange } from "./relay.ts";
 * const answerLater = (exchange: Exchange) => exchange.late() ? exchange.drop() : exchange.end();
 * assert.equal(typeof answerLater, "function");
 * ```
 */
export interface Exchange {
  /**
   * The request body; rejects with a {@link BodyTimeoutError} when the
   * read timeout comes first.
   */
  readBody(request: Request): Promise<Uint8Array>;
  /** Whether the write timeout has passed (the answer would not be sent). */
  late(): boolean;
  /** Closes the client connection without any answer. */
  drop(): void;
  /**
   * Sends these bytes as the whole answer, then closes the connection (a
   * FIN, then up to 500 ms of reading what the client still sends, as Go's
   * `closeWriteAndWait`); whatever the server answers is discarded.
   */
  answerAndClose(bytes: Uint8Array): void;
  /** The answer is on its way: the connection is idle from now on. */
  end(): void;
}

/**
 * A running relay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Relay, startRelay } from "./relay.ts";
 * const relay: Relay = startRelay({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   readTimeoutMs: 0, writeTimeoutMs: 0, idleTimeoutMs: 0,
 * });
 * relay.setUpstream({ hostname: "127.0.0.1", port: 9 });
 * assert.equal(relay.exchange(1), undefined);
 * await relay.close();
 * ```
 */
export interface Relay {
  /** The public port (useful when it was 0). */
  readonly port: number;
  /** Sets where connections are relayed to; call before any client comes. */
  setUpstream(address: { hostname: string; port: number }): void;
  /**
   * The handler starts on a request whose upstream socket has this local
   * port (the handler's `remoteAddr.port`); undefined when unknown.
   */
  exchange(upstreamLocalPort: number): Exchange | undefined;
  /** Stops accepting, closes every connection, waits for the pumps. */
  close(): Promise<void>;
}

interface Timing {
  readMs: number;
  writeMs: number;
  idleMs: number;
}

/** One client connection and its upstream connection. */
class Pair implements Exchange {
  upstream: Deno.Conn | undefined = undefined;
  done = false;
  phase = READING; // Go times the first request from the accept
  /** Since when the phase runs (request start, or idle start), ms. */
  since = performance.now();
  /** When the handler started, ms. */
  began = 0;
  /** Rejects the pending body read, when there is one. */
  cutBody: ((error: Error) => void) | null = null;

  constructor(readonly client: Deno.Conn, readonly timing: Timing) {}

  shut(): void {
    if (this.done) return;
    this.done = true;
    this.cutBody = null;
    try {
      this.client.close();
    } catch { /* already closed */ }
    try {
      this.upstream?.close();
    } catch { /* already closed */ }
  }

  readBody(request: Request): Promise<Uint8Array> {
    if (this.timing.readMs <= 0) return request.bytes();
    return new Promise((resolve, reject) => {
      this.cutBody = reject;
      request.bytes().then((bytes) => {
        this.cutBody = null;
        resolve(bytes);
      }, (error) => {
        this.cutBody = null;
        reject(error);
      });
    });
  }

  late(): boolean {
    return !this.done && this.phase !== CLOSING && this.timing.writeMs > 0 &&
      performance.now() - this.began >= this.timing.writeMs;
  }

  drop(): void {
    this.shut();
  }

  answerAndClose(bytes: Uint8Array): void {
    if (this.done || this.phase === CLOSING) return;
    this.phase = CLOSING;
    this.since = performance.now() + 1e9; // the sweep leaves it alone ...
    void writeAll(this.client, bytes)
      .then(() => this.client.closeWrite())
      .then(() => this.since = performance.now()) // ... until it lingered
      .catch(() => this.shut());
  }

  end(): void {
    if (this.phase !== HANDLING) return;
    this.phase = IDLE;
    this.since = performance.now();
  }

  /** The Go text of a read that timed out on this connection. */
  timeoutText(): string {
    const local = this.client.localAddr as Deno.NetAddr;
    const remote = this.client.remoteAddr as Deno.NetAddr;
    return `read tcp ${local.hostname}:${local.port}->${remote.hostname}:${remote.port}: i/o timeout`;
  }
}

async function writeAll(to: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await to.write(bytes.subarray(offset));
  }
}

/** Client to server: notes when a request starts; discards when closing. */
async function pumpUp(pair: Pair, upstream: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await pair.client.read(buffer);
      if (n === null) break;
      if (pair.phase === IDLE) {
        pair.phase = READING;
        pair.since = performance.now();
      } else if (pair.phase === CLOSING) continue;
      let offset = 0;
      while (offset < n) {
        offset += await upstream.write(buffer.subarray(offset, n));
      }
    }
  } catch { /* a side was closed */ }
  pair.shut();
}

/** Server to client: the answers (nothing once the relay answered itself). */
async function pumpDown(pair: Pair, upstream: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await upstream.read(buffer);
      if (n === null) break;
      if (pair.phase === CLOSING) continue;
      let offset = 0;
      while (offset < n) {
        offset += await pair.client.write(buffer.subarray(offset, n));
      }
    }
  } catch { /* a side was closed */ }
  if (pair.phase !== CLOSING) pair.shut();
}

/** Applies the deadlines to one connection at time `now`. */
function sweepPair(
  pair: Pair,
  now: number,
  onTimeout: (kind: "idle" | "read") => void,
): void {
  const { readMs, idleMs } = pair.timing;
  const age = now - pair.since;
  if (pair.phase === IDLE && idleMs > 0 && age >= idleMs) {
    onTimeout("idle");
    pair.shut();
  } else if (pair.phase === READING && readMs > 0 && age >= readMs) {
    onTimeout("read"); // the headers did not come in time: no answer
    pair.shut();
  } else if (pair.phase === HANDLING && readMs > 0 && age >= readMs) {
    const cut = pair.cutBody;
    if (cut === null) return;
    pair.cutBody = null;
    onTimeout("read");
    cut(new BodyTimeoutError(pair.timeoutText()));
  } else if (pair.phase === CLOSING && age >= LINGER_MS) {
    pair.shut();
  }
}

/** The sweep period for these timeouts: a 20th of the shortest, 5–50 ms. */
function sweepPeriod(timing: Timing): number {
  const shortest = Math.min(
    ...[timing.readMs, timing.idleMs].filter((ms) => ms > 0),
    1000,
  );
  return Math.min(50, Math.max(5, shortest / 20));
}

/**
 * Listens on `options.listen` (synchronously, so a busy port throws here)
 * and relays each connection to the upstream set with `setUpstream`,
 * applying the timeouts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRelay } from "./relay.ts";
 * const relay = startRelay({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   readTimeoutMs: 2000, writeTimeoutMs: 2000, idleTimeoutMs: 2000,
 * });
 * assert.ok(relay.port > 0);
 * await relay.close();
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  const listener = Deno.listen({ ...options.listen, transport: "tcp" });
  const timing: Timing = {
    readMs: options.readTimeoutMs,
    writeMs: options.writeTimeoutMs,
    idleMs: options.idleTimeoutMs,
  };
  const onTimeout = options.onTimeout ?? (() => {});
  let upstream: { hostname: string; port: number } | undefined;
  const byUpstreamPort = new Map<number, Pair>();
  const pairs = new Set<Pair>();
  const tasks = new Set<Promise<void>>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const relay = async (pair: Pair) => {
    let conn: Deno.Conn;
    try {
      if (upstream === undefined) throw new Error("no upstream");
      conn = await Deno.connect({ ...upstream, transport: "tcp" });
    } catch {
      return pair.shut();
    }
    pair.upstream = conn;
    if (pair.done || closing) return pair.shut();
    const key = (conn.localAddr as Deno.NetAddr).port;
    byUpstreamPort.set(key, pair);
    await Promise.all([pumpUp(pair, conn), pumpDown(pair, conn)]);
    byUpstreamPort.delete(key);
  };

  const accepting = (async () => {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch {
        return; // the listener was closed
      }
      const pair = new Pair(client, timing);
      pairs.add(pair);
      const task = relay(pair).finally(() => {
        pairs.delete(pair);
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();

  const timed = timing.readMs > 0 || timing.idleMs > 0;
  const sweeper = timed
    ? setInterval(() => {
      const now = performance.now();
      for (const pair of pairs) if (!pair.done) sweepPair(pair, now, onTimeout);
    }, sweepPeriod(timing))
    : undefined;

  return {
    port: (listener.addr as Deno.NetAddr).port,
    setUpstream(address) {
      upstream = address;
    },
    exchange(upstreamLocalPort) {
      const pair = byUpstreamPort.get(upstreamLocalPort);
      if (pair === undefined || pair.done) return undefined;
      if (pair.phase !== CLOSING) pair.phase = HANDLING;
      pair.began = performance.now();
      return pair;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(sweeper);
        listener.close();
        await accepting;
        for (const pair of pairs) pair.shut();
        await Promise.all(tasks);
      })();
      return closed;
    },
  };
}
