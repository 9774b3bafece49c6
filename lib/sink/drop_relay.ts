/**
 * The TCP relay behind `dropRate`: how the sink closes a connection without
 * sending any answer.
 *
 * `Deno.serve` cannot do that. Measured with `fetch` on Deno 2.9: a handler
 * that throws gets a 500 from `onError`; `Response.error()` is refused and
 * also becomes a 500; a response whose body stream errors sends its status
 * line and headers first, so the client sees `201` and only then "error
 * reading a body from connection"; a header value with a control byte
 * panics the runtime. So in drop mode the public port is this relay:
 * every client connection gets its own connection to the `Deno.serve`
 * server on an ephemeral loopback port, and bytes are pumped both ways.
 * The handler sees the relay's upstream socket as its remote address;
 * `drop(port)` looks the pair up by that port and closes both sides
 * before any byte of the answer exists, so the client reads EOF with no
 * response (`fetch` rejects with "fetch failed"; curl says "Empty reply
 * from server"). Off by default, so the default sink pays nothing for it.
 *
 * @module
 */

/**
 * A running relay.
 *
 * @example
 * ```ts
 * import { type DropRelay, startDropRelay } from "./drop_relay.ts";
 * const relay: DropRelay = startDropRelay({ hostname: "127.0.0.1", port: 0 });
 * relay.setUpstream({ hostname: "127.0.0.1", port: 9 });
 * await relay.close();
 * ```
 */
export interface DropRelay {
  /** The public port (useful when it was 0). */
  readonly port: number;
  /** Sets where connections are relayed to; call before any client comes. */
  setUpstream(address: { hostname: string; port: number }): void;
  /**
   * Closes, without an answer, the client connection whose upstream socket
   * has this local port; false when there is no such connection.
   */
  drop(upstreamLocalPort: number): boolean;
  /** Stops accepting, closes every connection, waits for the pumps. */
  close(): Promise<void>;
}

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn | undefined;
  done: boolean;
}

function shut(pair: Pair): void {
  if (pair.done) return;
  pair.done = true;
  try {
    pair.client.close();
  } catch { /* already closed */ }
  try {
    pair.upstream?.close();
  } catch { /* already closed */ }
}

async function pump(from: Deno.Conn, to: Deno.Conn, pair: Pair) {
  const buffer = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      let offset = 0;
      while (offset < n) offset += await to.write(buffer.subarray(offset, n));
    }
  } catch { /* a side was closed */ }
  shut(pair);
}

/**
 * Listens on `listen` (synchronously, so a busy port throws here) and
 * relays each connection to the upstream set with `setUpstream`.
 *
 * @example
 * ```ts
 * import { startDropRelay } from "./drop_relay.ts";
 * const relay = startDropRelay({ hostname: "127.0.0.1", port: 0 });
 * console.assert(relay.port > 0 && !relay.drop(1));
 * await relay.close();
 * ```
 */
export function startDropRelay(
  listen: { hostname: string; port: number },
): DropRelay {
  const listener = Deno.listen({ ...listen, transport: "tcp" });
  let upstream: { hostname: string; port: number } | undefined;
  const byUpstreamPort = new Map<number, Pair>();
  const pairs = new Set<Pair>();
  const tasks = new Set<Promise<void>>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const relay = async (pair: Pair) => {
    try {
      if (upstream === undefined) throw new Error("no upstream");
      pair.upstream = await Deno.connect({ ...upstream, transport: "tcp" });
    } catch {
      shut(pair);
      return;
    }
    if (pair.done || closing) return shut(pair);
    const key = (pair.upstream.localAddr as Deno.NetAddr).port;
    byUpstreamPort.set(key, pair);
    await Promise.all([
      pump(pair.client, pair.upstream, pair),
      pump(pair.upstream, pair.client, pair),
    ]);
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
      const pair: Pair = { client, upstream: undefined, done: false };
      pairs.add(pair);
      const task = relay(pair).finally(() => {
        pairs.delete(pair);
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();

  return {
    port: (listener.addr as Deno.NetAddr).port,
    setUpstream(address) {
      upstream = address;
    },
    drop(upstreamLocalPort) {
      const pair = byUpstreamPort.get(upstreamLocalPort);
      if (pair === undefined) return false;
      shut(pair);
      return true;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        listener.close();
        await accepting;
        for (const pair of pairs) shut(pair);
        await Promise.all(tasks);
      })();
      return closed;
    },
  };
}
