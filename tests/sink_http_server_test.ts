/**
 * The sink's HTTP server (`lib/sink/http_server.ts`) seen from raw
 * sockets so every byte (or its absence) is visible: Go's form of the
 * answers, keep-alive, pipelining, `Expect: 100-continue`, HEAD, HTTP/1.0,
 * bad requests; and Go's server timeouts: the idle close, the read timeout
 * for slow headers and slow bodies, the write timeout for late answers,
 * all of it off with 0. Timeouts here are 200–600 ms.
 */

import assert from "node:assert/strict";
// The importer's HTTP client, pinned as in lib/importer/_deps.ts.
// deno-lint-ignore no-import-prefix
import { Pool } from "npm:undici@7.30.2";
import { type SinkOptions, startSink } from "../lib/sink/server.ts";
import { startHttpServer } from "../lib/sink/http_server.ts";

const MOVIE = JSON.stringify({ title: "Heat", year: 1995 });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sinkWith(options: SinkOptions) {
  return startSink({ port: 0, failRate: 0, log: false, ...options });
}

const postHead = (length: number) =>
  `POST /movies HTTP/1.1\r\nHost: sink\r\nContent-Length: ${length}\r\n\r\n`;

/** A raw connection with a guard: nothing here waits more than 5 s. */
class Raw {
  #buffer = "";
  #guard: ReturnType<typeof setTimeout>;
  private constructor(readonly conn: Deno.Conn) {
    this.#guard = setTimeout(() => this.close(), 5000);
  }
  static async open(port: number): Promise<Raw> {
    return new Raw(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  /** Sends text; false when the sink has closed the connection. */
  async send(text: string): Promise<boolean> {
    try {
      await this.conn.write(encoder.encode(text));
      return true;
    } catch {
      return false;
    }
  }
  /** More bytes, or null at the end (EOF or reset). */
  async #more(): Promise<string | null> {
    const chunk = new Uint8Array(4096);
    try {
      const n = await this.conn.read(chunk);
      return n === null ? null : decoder.decode(chunk.subarray(0, n));
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) return null;
      throw new Error(`no end within 5 s (${error})`);
    }
  }
  /** The next whole answer (head and Content-Length body), or null at EOF. */
  async answer(): Promise<string | null> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const length = Number(
          /content-length: *(\d+)/i.exec(this.#buffer.slice(0, end))?.[1] ??
            0,
        );
        if (this.#buffer.length >= end + 4 + length) {
          const answer = this.#buffer.slice(0, end + 4 + length);
          this.#buffer = this.#buffer.slice(answer.length);
          return answer;
        }
      }
      const more = await this.#more();
      if (more === null) {
        assert.equal(this.#buffer, "", "the connection ended mid-answer");
        return null;
      }
      this.#buffer += more;
    }
  }
  /** Everything until the sink closes the connection. */
  async rest(): Promise<string> {
    let text = this.#buffer;
    this.#buffer = "";
    for (
      let more = await this.#more();
      more !== null;
      more = await this.#more()
    ) {
      text += more;
    }
    return text;
  }
  close(): void {
    clearTimeout(this.#guard);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

const statusOf = (answer: string | null) =>
  answer === null ? null : Number(answer.split(" ")[1]);

Deno.test("http server: a kept-alive connection used within the idle timeout stays; unused, it is closed", async () => {
  const sink = sinkWith({ readTimeoutMs: 600 }); // idle follows: 600 ms
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(statusOf(await raw.answer()), 201);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(statusOf(await raw.answer()), 201); // the same connection
    assert.equal(sink.counters().timeouts.idle, 0);
    // then left idle: closed by the sink, without a byte
    assert.equal(await raw.rest(), "");
    assert.deepEqual(sink.counters().timeouts, { idle: 1, read: 0, write: 0 });
    assert.deepEqual(sink.counters().post, { "201": 2 });
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: a connection that never sends is closed after the read timeout", async () => {
  // Go times a connection's first request from the accept
  const sink = sinkWith({ readTimeoutMs: 200, idleTimeoutMs: 0 });
  const raw = await Raw.open(sink.port);
  try {
    assert.equal(await raw.rest(), "");
    assert.deepEqual(sink.counters().timeouts, { idle: 0, read: 1, write: 0 });
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: headers slower than the read timeout: closed, no answer, nothing counted", async () => {
  const sink = sinkWith({ readTimeoutMs: 200, store: true });
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send("POST /movies HTTP/1.1\r\nHost: sink\r\n"));
    assert.equal(await raw.rest(), "");
    assert.equal(sink.counters().timeouts.read, 1);
    assert.deepEqual(sink.counters().post, {});
    assert.deepEqual(sink.accepted(), []);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: a body trickling past the read timeout is answered 500 (Go's i/o timeout), then closed", async () => {
  const lines: string[] = [];
  const sink = sinkWith({
    readTimeoutMs: 200,
    store: true,
    log: (line) => lines.push(line),
  });
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length)));
    const answer = raw.answer();
    // one byte every 40 ms: the body would need over a second
    for (const char of MOVIE) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      if (!(await raw.send(char))) break;
    }
    const text = await answer;
    assert.ok(text !== null, "an answer");
    assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.match(
      text,
      /\r\n\r\nread tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: i\/o timeout\n$/,
    );
    assert.equal(await raw.rest(), ""); // and then closed
    assert.deepEqual(sink.counters().post, { "500": 1 });
    assert.equal(sink.counters().timeouts.read, 1);
    assert.deepEqual(sink.accepted(), []);
    const logged = JSON.parse(lines[0]);
    assert.equal(logged.msg, "return 500");
    assert.match(logged.error, /i\/o timeout$/);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: an answer later than the write timeout is never sent; the movie is stored", async () => {
  const sink = sinkWith({
    writeTimeoutMs: 200,
    slowRate: 1,
    slowMs: 400,
    store: true,
  });
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(await raw.rest(), ""); // closed, not one byte of answer
    assert.equal(sink.accepted().length, 1);
    assert.deepEqual(sink.counters().post, { "201": 1 }); // Go's handler ran
    assert.equal(sink.counters().timeouts.write, 1);
  } finally {
    raw.close();
    await sink.close();
  }
  // a slow answer within the write timeout is delivered
  const patient = sinkWith({ writeTimeoutMs: 2000, slowRate: 1, slowMs: 50 });
  try {
    const res = await fetch(`${patient.url}/movies`, {
      method: "POST",
      body: MOVIE,
    });
    await res.body?.cancel();
    assert.equal(res.status, 201);
    assert.equal(patient.counters().timeouts.write, 0);
  } finally {
    await patient.close();
  }
});

Deno.test("http server: with every timeout 0, idle connections, slow bodies and late answers are all served", async () => {
  const sink = sinkWith({
    readTimeoutMs: 0,
    writeTimeoutMs: 0,
    slowRate: 1,
    slowMs: 300,
    store: true,
  });
  assert.equal(sink.settings.idleTimeoutMs, 0); // follows the read timeout
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length)));
    for (const char of MOVIE.slice(0, 8)) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.ok(await raw.send(char));
    }
    assert.ok(await raw.send(MOVIE.slice(8)));
    assert.equal(statusOf(await raw.answer()), 201); // after 300 ms
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(statusOf(await raw.answer()), 201); // the same connection
    assert.deepEqual(sink.counters().timeouts, { idle: 0, read: 0, write: 0 });
    assert.equal(sink.accepted().length, 2);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: the idle timeout alone can be off while the read timeout is on", async () => {
  const sink = sinkWith({ readTimeoutMs: 200, idleTimeoutMs: 0 });
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(statusOf(await raw.answer()), 201);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    assert.equal(statusOf(await raw.answer()), 201);
    assert.deepEqual(sink.counters().timeouts, { idle: 0, read: 0, write: 0 });
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: a pooled fetch client carries on across idle closes", async () => {
  const sink = sinkWith({ readTimeoutMs: 200, store: true });
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${sink.url}/movies`, {
        method: "POST",
        body: MOVIE,
      });
      await res.body?.cancel();
      assert.equal(res.status, 201);
      // wait until the sink has closed the pooled connection
      for (let t = 0; sink.counters().timeouts.idle <= i && t < 100; t++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.equal(sink.counters().timeouts.idle, 2);
    assert.equal(sink.accepted().length, 2);
  } finally {
    await sink.close();
  }
});

const DATE =
  /^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/;

Deno.test("http server: answers are written in Go's form", async () => {
  const sink = sinkWith({});
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(await raw.send(postHead(MOVIE.length) + MOVIE));
    const [status, date, length, blank] = (await raw.answer())!.split("\r\n");
    assert.equal(status, "HTTP/1.1 201 Created");
    assert.match(date, DATE);
    assert.deepEqual([length, blank], ["Content-Length: 0", ""]);
    assert.ok(await raw.send(postHead(2) + "{}"));
    const refused = (await raw.answer())!.split("\r\n");
    assert.deepEqual(refused.slice(0, 3), [
      "HTTP/1.1 400 Bad Request",
      "Content-Type: text/plain; charset=utf-8",
      "X-Content-Type-Options: nosniff",
    ]);
    assert.match(refused[3], DATE);
    assert.deepEqual(refused.slice(4), [
      "Content-Length: 18",
      "",
      "title is required\n",
    ]);
    assert.ok(await raw.send("GET /movies HTTP/1.1\r\nHost: sink\r\n\r\n"));
    const listed = (await raw.answer())!;
    assert.match(
      listed,
      /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain; charset=utf-8\r\n/,
    );
    assert.ok(listed.endsWith("\r\nContent-Length: 3\r\n\r\n[]\n"));
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: pipelined requests are answered in order on one connection", async () => {
  const sink = sinkWith({ store: true });
  const raw = await Raw.open(sink.port);
  try {
    const bad = '{"title":""}';
    assert.ok(
      await raw.send(
        postHead(MOVIE.length) + MOVIE + postHead(bad.length) + bad +
          "GET /movies HTTP/1.1\r\nHost: sink\r\n\r\n",
      ),
    );
    assert.equal(statusOf(await raw.answer()), 201);
    assert.equal(statusOf(await raw.answer()), 400);
    assert.equal(statusOf(await raw.answer()), 200);
    assert.equal(sink.accepted().length, 1);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: Expect: 100-continue gets 100 Continue when the body is read", async () => {
  const sink = sinkWith({ store: true });
  const raw = await Raw.open(sink.port);
  try {
    assert.ok(
      await raw.send(
        `POST /movies HTTP/1.1\r\nHost: sink\r\nExpect: 100-continue\r\nContent-Length: ${MOVIE.length}\r\n\r\n`,
      ),
    );
    assert.equal(await raw.answer(), "HTTP/1.1 100 Continue\r\n\r\n");
    assert.ok(await raw.send(MOVIE));
    assert.equal(statusOf(await raw.answer()), 201);
    assert.equal(sink.accepted().length, 1);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: chunked and large bodies are read like any other", async () => {
  const sink = sinkWith({ store: true });
  const raw = await Raw.open(sink.port);
  try {
    const long = JSON.stringify({
      title: "Heat",
      year: 1995,
      subject: "x".repeat(100_000),
    });
    const chunked = `${MOVIE.length.toString(16)}\r\n${MOVIE}\r\n0\r\n\r\n`;
    assert.ok(
      await raw.send(
        "POST /movies HTTP/1.1\r\nHost: sink\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunked + postHead(long.length) + long,
      ),
    );
    assert.equal(statusOf(await raw.answer()), 201);
    assert.equal(statusOf(await raw.answer()), 201);
    const stored = sink.accepted() as { subject: string }[];
    assert.equal(stored.length, 2);
    assert.equal(stored[1].subject.length, 100_000);
  } finally {
    raw.close();
    await sink.close();
  }
});

Deno.test("http server: HEAD, Connection: close, HTTP/1.0 and a bad request, as Go answers them", async () => {
  const sink = sinkWith({});
  try {
    let raw = await Raw.open(sink.port);
    assert.ok(
      await raw.send(
        "HEAD /movies HTTP/1.1\r\nHost: sink\r\nConnection: close\r\n\r\n",
      ),
    );
    const head = await raw.rest();
    assert.match(head, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(head, /\r\nContent-Length: 25\r\n\r\n$/); // no body
    raw.close();

    raw = await Raw.open(sink.port);
    assert.ok(
      await raw.send(
        "GET /movies HTTP/1.1\r\nHost: sink\r\nConnection: close\r\n\r\n",
      ),
    );
    assert.match((await raw.answer())!, /\r\nConnection: close\r\n/);
    assert.equal(await raw.rest(), ""); // then closed
    raw.close();

    raw = await Raw.open(sink.port);
    assert.ok(await raw.send("GET /movies HTTP/1.0\r\n\r\n"));
    assert.match((await raw.answer())!, /^HTTP\/1\.0 200 OK\r\n/);
    assert.equal(await raw.rest(), "");
    raw.close();

    raw = await Raw.open(sink.port);
    assert.ok(await raw.send("NONSENSE\r\n\r\n"));
    assert.equal(
      await raw.rest(),
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        "Connection: close\r\n\r\n400 Bad Request",
    );
    raw.close();
  } finally {
    await sink.close();
  }
});

Deno.test("http server: the importer's client (undici) posts over kept-alive connections", async () => {
  const sink = sinkWith({ store: true, readTimeoutMs: 300 });
  const pool = new Pool(sink.url, { connections: 4 });
  try {
    const post = async () => {
      const { statusCode, body } = await pool.request({
        path: "/movies",
        method: "POST",
        body: MOVIE,
        headers: { "content-type": "application/json" },
      });
      await body.dump();
      return statusCode;
    };
    const statuses = await Promise.all(Array.from({ length: 40 }, post));
    assert.deepEqual(new Set(statuses), new Set([201]));
    assert.equal(sink.accepted().length, 40);
    // past the idle timeout, its pooled connections are gone: it reconnects
    for (let t = 0; sink.counters().timeouts.idle === 0 && t < 100; t++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(sink.counters().timeouts.idle > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await post(), 201);
  } finally {
    await pool.close();
    await sink.close();
  }
});

Deno.test("http server: a handler that throws gets onError's answer", async () => {
  const server = startHttpServer({
    hostname: "127.0.0.1",
    port: 0,
    readTimeoutMs: 0,
    writeTimeoutMs: 0,
    idleTimeoutMs: 0,
    onError: (error) => ({
      status: 500,
      body: `${(error as Error).message}\n`,
    }),
  }, () => {
    throw new Error("boom");
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/x`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "boom\n");
  } finally {
    await server.close();
  }
});
