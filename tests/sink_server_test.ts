/**
 * The sink over loopback, default behaviour: routes, bodies, status codes,
 * log lines, metrics, and the control routes.
 */

import assert from "node:assert/strict";
// A test-only dependency, pinned here rather than in lib/sink/_deps.ts.
// deno-lint-ignore no-import-prefix
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import { type SinkOptions, startSink } from "../lib/sink/server.ts";

const NOW = () => new Date("2026-06-01T12:00:00Z");
const GOOD = {
  year: 1997,
  length: 194,
  title: "Titanic",
  subject: "Drama",
  actor: "DiCaprio, Leonardo",
  actress: "Winslet, Kate",
  director: "Cameron, James",
  popularity: 80,
  awards: "Yes",
  image: "titanic.png",
};

function quietSink(options: SinkOptions = {}) {
  return startSink({ port: 0, failRate: 0, log: false, now: NOW, ...options });
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

async function send(
  url: string,
  method: string,
  body?: string | Uint8Array<ArrayBuffer>,
  headers?: Record<string, string>,
): Promise<Answer> {
  const res = await fetch(url, { method, body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const post = (url: string, body: string | Uint8Array<ArrayBuffer>) =>
  send(url, "POST", body);

Deno.test("server: a valid movie gets 201 with an empty body", async () => {
  const sink = quietSink();
  try {
    const answer = await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    assert.equal(answer.status, 201);
    assert.equal(answer.text, "");
    assert.deepEqual(sink.counters().post, { "201": 1 });
  } finally {
    await sink.close();
  }
});

Deno.test("server: every SINK.md example answers 400 with its message", async () => {
  const sink = quietSink();
  const cases: [string | Uint8Array<ArrayBuffer>, string][] = [
    [
      '{"year":"1997","title":"x"}',
      "json: cannot unmarshal string into Go struct field film.year of type int",
    ],
    [
      '{"year":1997.5,"title":"x"}',
      "json: cannot unmarshal number 1997.5 into Go struct field film.year of type int",
    ],
    [
      '{"title":"x","year":1997,"length":"12"}',
      "json: cannot unmarshal string into Go struct field film.length of type float64",
    ],
    [
      '{"title":5,"year":1997}',
      "json: cannot unmarshal number into Go struct field film.title of type string",
    ],
    ["[]", "json: cannot unmarshal array into Go value of type main.film"],
    ["", "unexpected end of JSON input"],
    ['{"year":1997}', "title is required"],
    ['{"title":"x"}', "year must be between 1888 and 2026 (inclusive)"],
    [
      '{"title":"x","year":2027}',
      "year must be between 1888 and 2026 (inclusive)",
    ],
    [
      '{"title":"x","year":1997,"popularity":100.5}',
      "year must be between 0 and 100 (inclusive)",
    ],
    [
      '{"title":"x","year":1997,"awards":"yes"}',
      'awards must be "Yes" or "No"',
    ],
    [
      '{"title":"x","year":1997,"image":"cover.gif"}',
      'image value doesn\'t match the regexp ".+\\\\.(png|jpg|jpeg)$": cover.gif',
    ],
    [
      '{"title":"x","year":1997,"actor":"Bj\\ufffdrk"}',
      "value for actor contains an invalid character at position 2: Bj\uFFFDrk",
    ],
    [
      new Uint8Array([
        ...new TextEncoder().encode('{"year":1997,"title":"Am'),
        0xe9, // Latin-1 é: invalid UTF-8, Go makes it U+FFFD
        ...new TextEncoder().encode('lie"}'),
      ]),
      "value for title contains an invalid character at position 2: Am\uFFFDlie",
    ],
  ];
  try {
    for (const [body, message] of cases) {
      const answer = await post(`${sink.url}/movies`, body);
      assert.equal(answer.status, 400, message);
      assert.equal(answer.text, message + "\n");
      assert.equal(
        answer.headers.get("content-type"),
        "text/plain; charset=utf-8",
      );
    }
    assert.deepEqual(sink.counters().post, { "400": cases.length });
  } finally {
    await sink.close();
  }
});

Deno.test("server: Go's decoding rules over the wire: case, null, unknown keys", async () => {
  const sink = quietSink({ store: true });
  try {
    const answer = await post(
      `${sink.url}/movies?source=test`,
      '{"YEAR":1997,"Title":"Heat","director":null,"rating":"R","cast":[1,2]}',
    );
    assert.equal(answer.status, 201);
    const [film] = sink.accepted() as { year: number; title: string }[];
    assert.equal(film.year, 1997);
    assert.equal(film.title, "Heat");
    assert.equal((film as Record<string, unknown>).director, "");
    assert.equal((film as Record<string, unknown>).rating, undefined);
  } finally {
    await sink.close();
  }
});

Deno.test("server: other methods on /{key} get 405 with Go's body", async () => {
  const sink = quietSink();
  try {
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const answer = await send(`${sink.url}/movies`, method);
      assert.equal(answer.status, 405);
      assert.equal(answer.text, `unsupported method: ${method}\n`);
    }
    const head = await send(`${sink.url}/movies`, "HEAD");
    assert.equal(head.status, 405);
    assert.equal(head.text, "");
    assert.deepEqual(sink.counters().post, {});
    assert.deepEqual(sink.counters().get, {});
  } finally {
    await sink.close();
  }
});

Deno.test("server: paths that are not one segment get 404 page not found", async () => {
  const sink = quietSink();
  try {
    for (const path of ["/", "/a/b", "/movies/", "/_sink/nothing"]) {
      for (const method of ["GET", "POST"]) {
        const answer = await send(`${sink.url}${path}`, method, undefined);
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.equal(answer.text, "404 page not found\n");
      }
    }
  } finally {
    await sink.close();
  }
});

Deno.test("server: GET /{key} answers []\\n and is counted", async () => {
  const sink = quietSink({ store: true });
  try {
    await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    for (const key of ["movies", "anything", "x%2Fy"]) {
      const answer = await send(`${sink.url}/${key}`, "GET");
      assert.equal(answer.status, 200);
      assert.equal(answer.text, "[]\n"); // even with stored movies
    }
    assert.deepEqual(sink.counters().get, { "200": 3 });
  } finally {
    await sink.close();
  }
});

Deno.test("server: the year rule follows the injected clock", async () => {
  const sink = quietSink({ now: () => new Date("2031-01-01T00:00:00Z") });
  try {
    const later = await post(
      `${sink.url}/movies`,
      JSON.stringify({ ...GOOD, year: 2031 }),
    );
    assert.equal(later.status, 201);
    const tooLate = await post(
      `${sink.url}/movies`,
      JSON.stringify({ ...GOOD, year: 2032 }),
    );
    assert.equal(
      tooLate.text,
      "year must be between 1888 and 2031 (inclusive)\n",
    );
  } finally {
    await sink.close();
  }
});

Deno.test("server: /metrics is Prometheus text whose counters match what was sent", async () => {
  const sink = quietSink();
  try {
    for (let i = 0; i < 3; i++) {
      await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    }
    await post(`${sink.url}/movies`, "{}");
    await post(`${sink.url}/movies`, "nope");
    await send(`${sink.url}/movies`, "GET");
    const res = await fetch(`${sink.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^# HELP sink_post_total .+$/m);
    assert.match(text, /^# TYPE sink_post_total counter$/m);
    assert.match(text, /^# TYPE sink_get_total counter$/m);
    const families = parsePrometheus(text) as {
      name: string;
      type: string;
      metrics: { value: string; labels?: Record<string, string> }[];
    }[];
    const values = (name: string) => {
      const family = families.find((f) => f.name === name);
      assert.ok(family, name);
      assert.equal(family.type, "COUNTER");
      return Object.fromEntries(
        family.metrics.map((m) => [m.labels?.status, Number(m.value)]),
      );
    };
    assert.deepEqual(values("sink_post_total"), { "201": 3, "400": 2 });
    assert.deepEqual(values("sink_get_total"), { "200": 1 });
    assert.equal(await sink.metricsText(), text);
    assert.deepEqual(sink.counters(), {
      post: { "201": 3, "400": 2 },
      get: { "200": 1 },
      dropped: 0,
      storeDropped: 0,
      replayed: 0,
      timeouts: { idle: 0, read: 0, write: 0 },
    });
  } finally {
    await sink.close();
  }
});

Deno.test("server: POST /_sink/reset zeroes the counters and the store", async () => {
  const sink = quietSink({ store: true });
  try {
    await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    await send(`${sink.url}/movies`, "GET");
    assert.equal((await send(`${sink.url}/_sink/reset`, "GET")).status, 405);
    const reset = await send(`${sink.url}/_sink/reset`, "POST");
    assert.equal(reset.status, 204);
    assert.deepEqual(sink.counters(), {
      post: {},
      get: {},
      dropped: 0,
      storeDropped: 0,
      replayed: 0,
      timeouts: { idle: 0, read: 0, write: 0 },
    });
    assert.deepEqual(sink.accepted(), []);
    const text = await sink.metricsText();
    assert.doesNotMatch(text, /sink_post_total\{/);
    assert.doesNotMatch(text, /sink_get_total\{/);
    // and the library call does the same
    await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    sink.reset();
    assert.deepEqual(sink.counters().post, {});
  } finally {
    await sink.close();
  }
});

Deno.test("server: GET /_sink/movies lists stored movies; 404 when not storing", async () => {
  const storing = quietSink({ store: true });
  const plain = quietSink();
  try {
    await post(`${storing.url}/movies`, JSON.stringify(GOOD));
    await post(`${storing.url}/movies`, "{}"); // refused, not stored
    const answer = await send(`${storing.url}/_sink/movies`, "GET");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(answer.text), [GOOD]);
    assert.deepEqual(storing.accepted(), [GOOD]);

    await post(`${plain.url}/movies`, JSON.stringify(GOOD));
    assert.deepEqual(plain.accepted(), []);
    const off = await send(`${plain.url}/_sink/movies`, "GET");
    assert.equal(off.status, 404);
    assert.match(off.text, /--store/);
  } finally {
    await storing.close();
    await plain.close();
  }
});

Deno.test("server: --store-file appends accepted movies as JSON lines", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(file, '{"earlier":true}\n');
    const sink = quietSink({ storeFile: file });
    await post(`${sink.url}/movies`, JSON.stringify(GOOD));
    await post(
      `${sink.url}/movies`,
      JSON.stringify({ ...GOOD, title: "Heat" }),
    );
    await post(`${sink.url}/movies`, '{"title":""}');
    await sink.close(); // flushes
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0]), { earlier: true });
    assert.deepEqual(JSON.parse(lines[1]), GOOD);
    assert.equal(JSON.parse(lines[2]).title, "Heat");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("server: one JSON log line per request, shaped like the service's", async () => {
  const lines: string[] = [];
  const sink = quietSink({ log: (line) => lines.push(line) });
  try {
    const body = JSON.stringify(GOOD);
    await post(`${sink.url}/movies`, body);
    await post(`${sink.url}/movies`, '{"title":""}');
    await send(`${sink.url}/movies`, "GET");
    assert.equal(lines.length, 3);
    const [ok, refused, get] = lines.map((line) => JSON.parse(line));
    assert.deepEqual(ok, {
      level: "info",
      method: "POST",
      msg: "POST request",
      path: "/movies",
      body,
      time: "2026-06-01T12:00:00Z",
    });
    assert.deepEqual(Object.keys(ok), [
      "level",
      "method",
      "msg",
      "path",
      "body",
      "time",
    ]);
    assert.equal(refused.level, "error");
    assert.equal(refused.msg, "return 400");
    assert.equal(refused.error, "title is required");
    assert.equal(refused.body, '{"title":""}');
    assert.equal(get.msg, "GET request");
    assert.equal(get.level, "info");
  } finally {
    await sink.close();
  }
});

Deno.test("server: invalid options and a busy port throw at start", async () => {
  assert.throws(() => startSink({ failRate: 1.5 }), RangeError);
  assert.throws(() => startSink({ port: 70000 }), /port/);
  assert.throws(() => startSink({ host: "" }), /host/);
  const sink = quietSink();
  try {
    assert.throws(
      () => quietSink({ port: sink.port }),
      (error: unknown) => error instanceof Deno.errors.AddrInUse,
    );
  } finally {
    await sink.close();
  }
});

Deno.test("server: the defaults are the real service's", async () => {
  const sink = startSink({ port: 0, log: false });
  try {
    const s = sink.settings;
    assert.equal(s.failRate, 0.2);
    assert.equal(s.host, "127.0.0.1");
    assert.equal(s.store, false);
    assert.equal(s.idempotency, false);
    assert.equal(s.dropRate + s.rate429 + s.slowRate + s.latencyMs, 0);
    assert.equal(s.storeDropRate, 0);
    assert.equal(s.downSeconds, 0);
    // Go's http.Server in the real service: ReadTimeout and WriteTimeout
    // 2 s, no IdleTimeout (so the read timeout)
    assert.equal(s.readTimeoutMs, 2000);
    assert.equal(s.writeTimeoutMs, 2000);
    assert.equal(s.idleTimeoutMs, 2000);
    assert.match(sink.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(new URL(sink.url).port, String(sink.port));
  } finally {
    await sink.close();
  }
  assert.equal(startSink.length, 0);
});
