/**
 * The sink's HTTP/1.1 server: `http-parser-js` parses the requests, and
 * this module runs the connections the way Go's `net/http` server does, so
 * that the sink can apply Go's server timeouts and close a connection
 * without an answer, and writes its answers in Go's form (status line,
 * the handler's headers, `Connection`, `Date`, `Content-Length`).
 *
 * Why not `Deno.serve`: it exposes no connection. Measured on Deno 2.9.6:
 * it has no server timeouts; a handler cannot close its connection (a
 * thrown error becomes a 500, `Response.error()` too, an erroring body
 * stream sends the status line first, a `Connection: close` answer leaves
 * the connection open). A TCP relay in front of it did all that, but cost
 * 2.5–3 times the CPU per request (about 33 µs instead of 12); `node:http`
 * enforces timeouts Node's way (408 answers) at about a third of the
 * speed. This server costs about what `Deno.serve` did.
 *
 * The timeouts (0: none), as Go's server applies them:
 * - read: a request's headers and body must all arrive within
 *   `readTimeoutMs` of its first byte (of the accept, for a connection's
 *   first request). Headers not complete in time: the connection is closed
 *   without an answer. Body not complete: the handler's body read fails
 *   with a {@link BodyTimeoutError}; its answer is sent with
 *   `Connection: close`, then the connection is closed (a FIN, then up to
 *   500 ms of reading what the client still sends, as Go's
 *   `closeWriteAndWait`).
 * - write: an answer not ready within `writeTimeoutMs` of the request's
 *   headers is not sent; the connection is closed without an answer when
 *   it would have been written.
 * - idle: a kept-alive connection with no new request byte for
 *   `idleTimeoutMs` after its last answer is closed.
 *
 * Deadlines are checked by one timer every 20th of the shortest timeout
 * (5 to 50 ms), not a timer per request, so a close can come that much
 * late.
 *
 * @module
 */

import { HTTPParser } from "./_deps.ts";

/** How long a connection closed after a cut body keeps reading (Go). */
const LINGER_MS = 500;
/** Go's `DefaultMaxHeaderBytes` plus its 4096 bytes of slack. */
const MAX_HEADER_BYTES = (1 << 20) + 4096;

/**
 * The request body did not arrive within the read timeout (Go's
 * `i/o timeout`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyTimeoutError } from "./http_server.ts";
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
 * A request as the handler sees it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sinkRequest, type SinkRequest } from "./http_server.ts";
 * const request: SinkRequest = sinkRequest("POST", "/movies?x=1", "{}", {
 *   "Idempotency-Key": "k1",
 * });
 * assert.equal(request.header("idempotency-key"), "k1");
 * assert.equal(new TextDecoder().decode(await request.body()), "{}");
 * ```
 */
export interface SinkRequest {
  /** The method, e.g. `POST`. */
  readonly method: string;
  /** The request target as sent, e.g. `/movies?source=test`. */
  readonly target: string;
  /** A header's value (name in lower case), or null. */
  header(name: string): string | null;
  /**
   * The whole body; rejects with a {@link BodyTimeoutError} when the read
   * timeout passes first, or with an error when the connection ends.
   */
  body(): Promise<Uint8Array>;
}

/**
 * An answer: status, headers (Go's canonical names, in Go's sorted order),
 * body. `Date`, `Content-Length` and `Connection` are added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Answer } from "./http_server.ts";
 * const notFound: Answer = {
 *   status: 404,
 *   headers: { "Content-Type": "text/plain; charset=utf-8" },
 *   body: "404 page not found\n",
 * };
 * assert.equal(notFound.status, 404);
 * ```
 */
export interface Answer {
  /** The HTTP status. */
  readonly status: number;
  /** The headers, written in this order. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body (none when absent). */
  readonly body?: string | Uint8Array;
}

/**
 * What a handler returns to have the connection closed without any answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_ANSWER } from "./http_server.ts";
 * assert.equal(typeof NO_ANSWER, "symbol");
 * ```
 */
export const NO_ANSWER: unique symbol = Symbol("no answer");

/**
 * A request handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Handler } from "./http_server.ts";
 * const teapot: Handler = () => ({ status: 418 });
 * assert.equal(typeof teapot, "function");
 * ```
 */
export type Handler = (
  request: SinkRequest,
) => Answer | typeof NO_ANSWER | Promise<Answer | typeof NO_ANSWER>;

/**
 * Where to listen, the timeouts (0: none) and the hooks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HttpServerOptions } from "./http_server.ts";
 * const go: HttpServerOptions = {
 *   hostname: "127.0.0.1", port: 9009,
 *   readTimeoutMs: 2000, writeTimeoutMs: 2000, idleTimeoutMs: 2000,
 * };
 * assert.equal(go.idleTimeoutMs, go.readTimeoutMs);
 * ```
 */
export interface HttpServerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Time for a whole request from its first byte, ms. */
  readTimeoutMs: number;
  /** Time for the answer from the request's headers, ms. */
  writeTimeoutMs: number;
  /** Time a kept-alive connection may wait for its next request, ms. */
  idleTimeoutMs: number;
  /** Told of each timeout that closed a connection or cut a body. */
  onTimeout?: (kind: "idle" | "read" | "write") => void;
  /** The answer when the handler throws. @default a bare 500 */
  onError?: (error: unknown) => Answer;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type HttpServer, startHttpServer } from "./http_server.ts";
 * const server: HttpServer = startHttpServer({
 *   hostname: "127.0.0.1", port: 0,
 *   readTimeoutMs: 0, writeTimeoutMs: 0, idleTimeoutMs: 0,
 * }, () => ({ status: 204 }));
 * assert.ok(server.port > 0);
 * await server.close();
 * ```
 */
export interface HttpServer {
  /** The port it listens on. */
  readonly port: number;
  /**
   * Stops listening, closes idle connections, lets the answers in progress
   * go out, then closes every connection.
   */
  close(): Promise<void>;
}

/** Go's `http.StatusText` for the statuses the sink sends. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  418: "I'm a teapot",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

const encoder = new TextEncoder();
const CONTINUE = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");
const latin1 = new TextDecoder("latin1");

/**
 * A read buffer for the parser, which reads its lines with
 * `chunk.toString("ascii", start, end)` (Node's `Buffer`): given here as
 * an own method of a plain `Uint8Array` (`node:buffer`'s polyfill, or a
 * subclass, is several times slower). Its `slice` copies, so body chunks
 * never alias the buffer.
 */
function parserBuffer(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  Object.defineProperty(bytes, "toString", {
    value(_encoding?: string, start = 0, end = bytes.length): string {
      const line = bytes.subarray(start, end);
      return line.length < 128
        ? String.fromCharCode.apply(null, line as unknown as number[])
        : latin1.decode(line);
    },
  });
  return bytes;
}

/** The `Date` header value, computed once per second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== httpDate.second) {
    httpDate.second = second;
    httpDate.text = new Date(second * 1000).toUTCString();
  }
  return httpDate.text;
}
httpDate.second = NaN;
httpDate.text = "";

/** The bytes of an answer, as Go writes them. */
function encodeAnswer(
  answer: Answer,
  request: Request1 | null,
  connection: "close" | "keep-alive" | null,
): Uint8Array {
  const http10 = request !== null && request.minor === 0;
  const status = answer.status;
  let head = `${http10 ? "HTTP/1.0" : "HTTP/1.1"} ${status} ${
    STATUS_TEXT[status] ?? "status code " + status
  }\r\n`;
  const headers = answer.headers;
  if (headers !== undefined) {
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  }
  if (connection !== null) head += `Connection: ${connection}\r\n`;
  head += `Date: ${httpDate()}\r\n`;
  const bodiless = status === 204 || status === 304 || status < 200;
  const body = answer.body ?? "";
  const text = typeof body === "string";
  const bytes = text ? null : body;
  if (!bodiless) {
    const length = text ? utf8Length(body) : body.length;
    head += `Content-Length: ${length}\r\n`;
  }
  head += "\r\n";
  const sendBody = !bodiless && request?.method !== "HEAD";
  if (text) return encoder.encode(sendBody ? head + body : head);
  const headBytes = encoder.encode(head);
  if (!sendBody || bytes!.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + bytes!.length);
  out.set(headBytes);
  out.set(bytes!, headBytes.length);
  return out;
}

/** Bytes of a string in UTF-8 (as `TextEncoder` writes it), not encoding it. */
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      length += 1;
    } else if (code < 0xd800 || code >= 0xdc00) {
      length += 2; // 3 bytes (a lone low surrogate becomes U+FFFD, 3 too)
    } else {
      const low = text.charCodeAt(i + 1);
      length += 2; // a pair: 4 bytes for 2 units; a lone high one: U+FFFD
      if (low >= 0xdc00 && low < 0xe000) i++;
    }
  }
  return length;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** One parsed request (HTTP/1.x) and its body. */
class Request1 implements SinkRequest {
  chunks: Uint8Array[] = [];
  complete = false;
  failure: Error | null = null;
  waiter: {
    resolve: (body: Uint8Array) => void;
    reject: (error: Error) => void;
  } | null = null;
  continued = false;
  constructor(
    readonly method: string,
    readonly target: string,
    readonly minor: number,
    readonly headers: string[],
    readonly keepAlive: boolean,
    readonly expectsContinue: boolean,
    readonly connection: Connection,
  ) {}

  header(name: string): string | null {
    const headers = this.headers;
    for (let i = 0; i < headers.length; i += 2) {
      const key = headers[i];
      if (key.length === name.length && key.toLowerCase() === name) {
        return headers[i + 1];
      }
    }
    return null;
  }

  bytes(): Uint8Array {
    const chunks = this.chunks;
    if (chunks.length === 1) return chunks[0];
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  body(): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.complete) return Promise.resolve(this.bytes());
    if (this.expectsContinue && !this.continued) {
      this.continued = true; // Go sends it on the first body read
      void this.connection.send(CONTINUE);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  finish(): void {
    this.complete = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve(this.bytes());
  }

  fail(error: Error): void {
    if (this.complete || this.failure !== null) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}

interface Shared {
  options: HttpServerOptions;
  handler: Handler;
  closing: boolean;
}

/** One client connection, from accept to close. */
class Connection {
  readonly parser = new HTTPParser(HTTPParser.REQUEST);
  readonly queue: Request1[] = [];
  /** The request being handled. */
  current: Request1 | null = null;
  /** The request whose body is still arriving. */
  receiving: Request1 | null = null;
  /** Bytes of a request not yet complete have arrived (or: fresh). */
  reading = true;
  /** When the request being read began (Go's t0), ms. */
  readSince = performance.now();
  /** When the connection last became idle, ms. */
  idleSince = 0;
  /** When the current request's headers were read, ms. */
  began = 0;
  /** Cut: answer what is being handled, then close (FIN, linger). */
  cut = false;
  /** When a lingering connection is closed for good, ms (0: not yet). */
  lingerUntil = 0;
  broken: Error | null = null;
  /** The client has closed its side: close after the answer. */
  peerDone = false;
  closed = false;

  constructor(readonly conn: Deno.Conn, readonly shared: Shared) {
    const parser = this.parser;
    parser.maxHeaderSize = MAX_HEADER_BYTES;
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      const headers = info.headers;
      let expects = false;
      for (let i = 0; i < headers.length; i += 2) {
        if (
          headers[i].length === 6 && headers[i].toLowerCase() === "expect" &&
          headers[i + 1].toLowerCase() === "100-continue"
        ) expects = true;
      }
      const request = new Request1(
        HTTPParser.methods[info.method],
        info.url,
        info.versionMinor,
        headers,
        info.shouldKeepAlive,
        expects && info.versionMinor > 0,
        this,
      );
      this.receiving = request;
      this.queue.push(request);
    };
    parser[HTTPParser.kOnBody] = (chunk) => {
      this.receiving?.chunks.push(chunk); // a copy (Uint8Array's slice)
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      const request = this.receiving;
      this.receiving = null;
      request?.finish();
    };
  }

  /**
   * Sends bytes; a failure closes the connection. (Deno queues the writes
   * of one connection in order.)
   */
  async send(bytes: Uint8Array): Promise<void> {
    try {
      await writeAll(this.conn, bytes);
    } catch {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    const error = new Error("connection closed");
    this.receiving?.fail(error);
    for (const request of this.queue) request.fail(error);
  }

  /** Bytes arrived from the client. */
  feed(chunk: Uint8Array, n: number): void {
    if (this.cut || this.broken !== null) return; // discarded
    if (!this.reading) this.readSince = performance.now(); // Go's t0
    const result = this.parser.execute(chunk as never, 0, n);
    if (result instanceof Error) {
      this.broken = result;
      this.reading = false;
    } else {
      // Mid-request unless the parser waits for a request line and holds
      // no part of one (its own fields, undeclared in its types; pinned).
      const parser = this.parser as unknown as { state: string; line: string };
      this.reading = parser.state !== "REQUEST_LINE" || parser.line !== "";
    }
    this.next();
  }

  /** The client closed its side (or the read failed). */
  ended(): void {
    this.peerDone = true;
    if (this.receiving !== null) {
      this.receiving.fail(new Error("unexpected EOF"));
    }
    if (this.current === null) this.close(); // else: answer, then close
  }

  /** Starts the next request when none is being handled. */
  next(): void {
    if (this.current !== null || this.closed) return;
    const request = this.queue.shift();
    if (request === undefined) {
      if (this.broken !== null) return this.refuseBroken();
      if (this.shared.closing || this.peerDone) return this.close();
      return;
    }
    this.current = request;
    this.began = performance.now();
    void this.handle(request);
  }

  /** Go's answer to a request it cannot parse, written raw, then closed. */
  private refuseBroken(): void {
    const tooBig = /max header size/.test(String(this.broken?.message));
    const text = tooBig
      ? "431 Request Header Fields Too Large"
      : "400 Bad Request";
    void this.send(encoder.encode(
      `HTTP/1.1 ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Connection: close\r\n\r\n${text}`,
    )).then(() => this.close());
  }

  private async handle(request: Request1): Promise<void> {
    let answer: Answer | typeof NO_ANSWER;
    try {
      const result = this.shared.handler(request);
      answer = result instanceof Promise ? await result : result;
    } catch (error) {
      answer = this.shared.options.onError?.(error) ?? { status: 500 };
    }
    const { writeTimeoutMs, onTimeout } = this.shared.options;
    if (this.closed) return;
    if (answer === NO_ANSWER) return this.close();
    if (
      writeTimeoutMs > 0 && performance.now() - this.began >= writeTimeoutMs
    ) {
      onTimeout?.("write"); // Go's write fails: no answer, closed
      return this.close();
    }
    const cut = this.cut || request.failure instanceof BodyTimeoutError;
    const keep = request.keepAlive && !cut && !this.peerDone &&
      !this.shared.closing;
    const connection = !keep && request.minor > 0
      ? "close"
      : keep && request.minor === 0
      ? "keep-alive"
      : null;
    await this.send(encodeAnswer(answer, request, connection));
    this.current = null;
    if (keep) {
      // idle from now; Go times a next request from here, even one begun
      this.idleSince = this.readSince = performance.now();
      return this.next();
    }
    if (!cut || this.peerDone) return this.close();
    this.cut = true; // linger: FIN, read and discard, close later
    this.lingerUntil = performance.now() + LINGER_MS;
    this.conn.closeWrite().catch(() => this.close());
  }

  /** The Go text of a read that timed out on this connection. */
  timeoutText(): string {
    const local = this.conn.localAddr as Deno.NetAddr;
    const remote = this.conn.remoteAddr as Deno.NetAddr;
    return `read tcp ${local.hostname}:${local.port}->${remote.hostname}:${remote.port}: i/o timeout`;
  }

  /** Applies the read, idle and linger deadlines at `now`. */
  sweep(now: number): void {
    const { readTimeoutMs, idleTimeoutMs, onTimeout } = this.shared.options;
    if (this.lingerUntil > 0) {
      if (now >= this.lingerUntil) this.close();
      return;
    }
    const timed = this.current === null || this.receiving === this.current;
    if (
      this.reading && timed && readTimeoutMs > 0 &&
      now - this.readSince >= readTimeoutMs
    ) {
      onTimeout?.("read");
      const receiving = this.receiving;
      if (receiving !== null && receiving === this.current) {
        this.cut = true; // the handler's body read fails; it answers
        receiving.fail(new BodyTimeoutError(this.timeoutText()));
      } else {
        this.close(); // headers too slow (or a body nobody reads): closed
      }
      return;
    }
    if (
      !this.reading && this.current === null && this.queue.length === 0 &&
      idleTimeoutMs > 0 && now - this.idleSince >= idleTimeoutMs
    ) {
      onTimeout?.("idle");
      this.close();
    }
  }
}

/** The sweep period: a 20th of the shortest timeout, 5 to 50 ms. */
function sweepPeriod(options: HttpServerOptions): number {
  const shortest = Math.min(
    ...[options.readTimeoutMs, options.idleTimeoutMs].filter((ms) => ms > 0),
    1000,
  );
  return Math.min(50, Math.max(5, shortest / 20));
}

async function serveConnection(connection: Connection): Promise<void> {
  const buffer = parserBuffer(16384);
  try {
    for (;;) {
      const n = await connection.conn.read(buffer);
      if (n === null) break;
      connection.feed(buffer, n);
    }
  } catch { /* reset, or closed by us */ }
  connection.ended();
}

/**
 * Listens (synchronously, so a busy port throws here) and serves each
 * connection with `handler`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startHttpServer } from "./http_server.ts";
 * const server = startHttpServer({
 *   hostname: "127.0.0.1", port: 0,
 *   readTimeoutMs: 2000, writeTimeoutMs: 2000, idleTimeoutMs: 2000,
 * }, (request) => ({ status: 200, body: `${request.method} ${request.target}\n` }));
 * const res = await fetch(`http://127.0.0.1:${server.port}/movies?x=1`);
 * assert.equal(await res.text(), "GET /movies?x=1\n");
 * await server.close();
 * ```
 */
export function startHttpServer(
  options: HttpServerOptions,
  handler: Handler,
): HttpServer {
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  const server = new Server(listener, { options, handler, closing: false });
  return { port: server.port, close: () => server.close() };
}

/** The listener, its connections and the deadline sweep. */
class Server {
  readonly connections = new Set<Connection>();
  readonly tasks = new Set<Promise<void>>();
  readonly accepting: Promise<void>;
  readonly sweeper: ReturnType<typeof setInterval> | undefined;
  closed: Promise<void> | undefined;

  constructor(readonly listener: Deno.Listener, readonly shared: Shared) {
    this.accepting = this.acceptAll();
    // Only the read and idle timeouts (and the linger after a cut body,
    // which only a read timeout causes) need the sweep.
    const options = shared.options;
    const timed = options.readTimeoutMs > 0 || options.idleTimeoutMs > 0;
    this.sweeper = timed
      ? setInterval(() => this.sweep(), sweepPeriod(options))
      : undefined;
  }

  get port(): number {
    return (this.listener.addr as Deno.NetAddr).port;
  }

  async acceptAll(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.listener.accept();
      } catch {
        return; // the listener was closed
      }
      this.serve(new Connection(conn, this.shared));
    }
  }

  serve(connection: Connection): void {
    this.connections.add(connection);
    const task = serveConnection(connection).finally(() => {
      this.connections.delete(connection);
      this.tasks.delete(task);
    });
    this.tasks.add(task);
  }

  sweep(): void {
    const now = performance.now();
    for (const connection of this.connections) {
      if (!connection.closed) connection.sweep(now);
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.shared.closing = true;
      this.listener.close();
      await this.accepting;
      for (const connection of this.connections) {
        if (connection.current === null) connection.close();
        else connection.receiving?.fail(new Error("server closing"));
      }
      await Promise.all(this.tasks);
      clearInterval(this.sweeper);
    })();
    return this.closed;
  }
}

/**
 * A complete request made from parts, for tests and examples.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sinkRequest } from "./http_server.ts";
 * const request = sinkRequest("GET", "/movies");
 * assert.equal(request.method, "GET");
 * assert.equal((await request.body()).length, 0);
 * ```
 */
export function sinkRequest(
  method: string,
  target: string,
  body: string | Uint8Array = "",
  headers: Record<string, string> = {},
): SinkRequest {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const lower = new Map(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    method,
    target,
    header: (name) => lower.get(name) ?? null,
    body: () => Promise.resolve(bytes),
  };
}
