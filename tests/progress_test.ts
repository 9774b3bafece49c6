import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import { createLogger } from "../lib/importer/log.ts";
import {
  createProgress,
  etaMs,
  formatDuration,
  nextRate,
  progressLine,
  type ProgressOptions,
  type ProgressSnapshot,
  type RateState,
} from "../lib/importer/progress.ts";

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  bytesRead: 0,
  totalBytes: 1_000_000,
  delivered: 0,
  rejected: 0,
  alreadyDelivered: 0,
  retrying: 0,
  inFlight: 0,
  ...over,
});

/** A 1M-row import well under way: every number at its widest. */
const big = snap({
  bytesRead: 423_456,
  delivered: 1_000_000,
  rejected: 100_000,
  alreadyDelivered: 250_000,
  retrying: 1_234,
  inFlight: 16,
});
const rates = { bytesPerSecond: 1_000, rowsPerSecond: 12_345 };
const ESC = "\x1b";
/** Colour codes (Select Graphic Rendition). */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, "g");

/**
 * A tiny terminal of `width` columns: printable text (wrapping at the last
 * column), `\r`, `\n`, erase line (`ESC [2K`); colour codes are dropped.
 * Returns its lines, the cursor's last.
 */
function screen(output: string, width = 80): string[] {
  const lines: string[] = [""];
  let col = 0;
  const text = output.replace(SGR, "");
  for (let i = 0; i < text.length; i++) {
    const row = lines.length - 1;
    if (text.startsWith("\x1b[2K", i)) {
      lines[row] = "";
      i += 3;
    } else if (text[i] === "\r") col = 0;
    else if (text[i] === "\n") {
      lines.push("");
      col = 0;
    } else {
      assert.notEqual(text[i], "\x1b", `unexpected escape at ${i}`);
      if (col === width) {
        lines.push("");
        col = 0;
      }
      const line = lines.at(-1)!.padEnd(col);
      lines[lines.length - 1] = line.slice(0, col) + text[i] +
        line.slice(col + 1);
      col++;
    }
  }
  return lines;
}

Deno.test("percentage: of the file's bytes, rounded down, never 100 % early", () => {
  const pct = (bytesRead: number) =>
    progressLine(snap({ bytesRead, totalBytes: 1000 }), null, { width: 6 });
  assert.equal(pct(0), "  0.0%");
  assert.equal(pct(423), " 42.3%");
  assert.equal(pct(999), " 99.9%");
  assert.equal(pct(1000), "100.0%");
  assert.equal(pct(2000), "100.0%", "a file that grew is still 100 %");
});

Deno.test("unknown size: megabytes read instead, and no ETA", () => {
  const line = progressLine(
    snap({ totalBytes: 0, bytesRead: 12_345_678, delivered: 5 }),
    rates,
  );
  assert.match(line, /^12\.3 MB read {2}5 delivered/);
  assert.doesNotMatch(line, /ETA|%/);
});

Deno.test("ETA: bytes left at the smoothed byte rate, m:ss or h:mm:ss", () => {
  const at = (bytesRead: number, bytesPerSecond: number | null) =>
    progressLine(snap({ bytesRead, totalBytes: 1000 }), {
      bytesPerSecond,
      rowsPerSecond: 1,
    }).split("  ").at(-1);
  assert.equal(at(400, 10), "ETA 1:00");
  assert.equal(at(400, 0.1), "ETA 1:40:00");
  assert.equal(at(400, 0.001), "ETA >99h");
  assert.equal(at(400, null), "ETA --:--", "no rate yet");
  assert.equal(at(400, 0), "ETA --:--", "stalled");
  assert.equal(at(1000, 0), "ETA 0:00");
  assert.equal(etaMs(snap({ bytesRead: 1, totalBytes: 2 }), 1), 1000);
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(61_000), "1:01");
  assert.equal(formatDuration(36_000_000), "10:00:00");
});

Deno.test("ETA: the file is read but rows are in flight or retrying: finishing", () => {
  const line = progressLine(
    snap({ bytesRead: 1000, totalBytes: 1000, retrying: 3 }),
    rates,
  );
  assert.match(line, /^100\.0%.* {2}finishing$/);
});

Deno.test("rate: constant input gives that rate exactly, whatever the update intervals", () => {
  // 2,000 rows/s and 200 kB/s, sampled every 1 ms in one run and every 700 ms in the other.
  const run = (stepMs: number) => {
    let state: RateState | undefined;
    for (let t = 0; t <= 7000; t += stepMs) {
      state = nextRate(
        state,
        snap({ delivered: t * 2, bytesRead: t * 200 }),
        t,
      );
    }
    return state!;
  };
  for (const stepMs of [1, 700]) {
    const state = run(stepMs);
    assert.ok(Math.abs(state.rowsPerSecond! - 2000) < 1e-6, `${stepMs} ms`);
    assert.ok(Math.abs(state.bytesPerSecond! - 200_000) < 1e-3);
  }
});

Deno.test("rate: recent, not the average since the start", () => {
  let state: RateState | undefined;
  let delivered = 0;
  // 60 s at 1,000 rows/s, then 20 s at 100 rows/s, one update every 100 ms.
  for (let t = 0; t <= 80_000; t += 100) {
    if (t > 0) delivered += t <= 60_000 ? 100 : 10;
    state = nextRate(state, snap({ delivered }), t);
  }
  const average = delivered / 80;
  assert.ok(average > 700, `average since start ${average}`);
  assert.ok(
    state!.rowsPerSecond! < 130,
    `recent rate ${state!.rowsPerSecond}`,
  );
  assert.ok(state!.rowsPerSecond! > 100);
});

Deno.test("rate: updates at the same instant count once; the rows are kept for the next step", () => {
  let state = nextRate(undefined, snap(), 0);
  state = nextRate(state, snap({ delivered: 500 }), 1000);
  const same = nextRate(state, snap({ delivered: 900 }), 1000);
  assert.equal(same, state, "no time passed: nothing changes");
  const later = nextRate(same, snap({ delivered: 1000 }), 2000);
  assert.ok(Math.abs(later.rowsPerSecond! - 500) < 1e-6);
});

Deno.test("rate: shown as rows/s, '--/s' before any time has passed", () => {
  assert.match(
    progressLine(snap(), { bytesPerSecond: null, rowsPerSecond: null }),
    / {2}--\/s {2}ETA --:--$/,
  );
  assert.match(progressLine(snap(), rates), / {2}12,345\/s {2}/);
});

Deno.test("width 80 (79 usable): the counts that matter fit; nothing wraps", () => {
  const line = progressLine(big, rates, { width: 79 });
  assert.ok(line.length <= 79, `${line.length}: ${line}`);
  assert.equal(
    line,
    " 42.3%  1,000,000 delivered  100,000 rejected  12,345/s  ETA 9:37",
    "at the widest numbers, retrying and in flight give way first",
  );
  const small = snap({
    bytesRead: 423_456,
    delivered: 418_233,
    rejected: 1_021,
    retrying: 12,
    inFlight: 16,
  });
  assert.equal(
    progressLine(small, { bytesPerSecond: 9_790, rowsPerSecond: 9_812 }, {
      width: 79,
      bar: true,
    }),
    " 42.3%  418,233 delivered  1,021 rejected  12 retrying  9,812/s  ETA 0:59",
    "at the usual sizes only in flight (and the bar) give way",
  );
});

Deno.test("width 40: percentage, delivered, ETA", () => {
  assert.equal(
    progressLine(big, rates, { width: 39 }),
    " 42.3%  1,000,000 delivered  ETA 9:37",
  );
  assert.equal(progressLine(big, rates, { width: 16 }), " 42.3%  ETA 9:37");
  assert.equal(progressLine(big, rates, { width: 6 }), " 42.3%");
  assert.equal(progressLine(big, rates, { width: 3 }), "42.");
  assert.equal(progressLine(big, rates, { width: 0 }), "");
});

Deno.test("every width: within it, and a part shown stays shown when wider", () => {
  let previous: string[] = [];
  for (let width = 0; width <= 160; width++) {
    const line = progressLine(big, rates, { width, bar: true });
    assert.ok(line.length <= width, `${width}: ${line}`);
    const items = line.split("  ").map((p) => p.trim()).filter(Boolean);
    for (const item of previous) {
      assert.ok(items.includes(item), `${width}: lost ${item}`);
    }
    if (width >= 6) previous = items;
  }
  assert.match(previous.join("|"), /^\[#{8}-{12}\]\|42\.3%\|.*250,000 earlier/);
});

Deno.test("colour: only when asked (NO_COLOR), and it does not count toward the width", () => {
  const plain = progressLine(big, rates, { width: 120 });
  const coloured = progressLine(big, rates, { width: 120, color: true });
  assert.ok(!plain.includes(ESC));
  assert.ok(coloured.includes(`${ESC}[1m 42.3%${ESC}[22m`), "bold percentage");
  assert.ok(coloured.includes(`${ESC}[31m100,000 rejected${ESC}[39m`), "red");
  assert.ok(coloured.includes(`${ESC}[33m1,234 retrying${ESC}[39m`), "yellow");
  assert.equal(stripVTControlCharacters(coloured), plain);
  const none = progressLine(snap(), rates, { color: true });
  assert.deepEqual(
    none.match(SGR),
    [`${ESC}[1m`, `${ESC}[22m`],
    "nothing rejected or retrying: only the percentage is styled",
  );
});

/** A bar-mode progress on a fake clock and terminal, recording each write. */
function fakeBar(options: ProgressOptions = {}) {
  const writes: { at: number; text: string }[] = [];
  const clock = { time: 0 };
  const progress = createProgress({
    mode: "bar",
    write: (text) => writes.push({ at: clock.time, text }),
    now: () => clock.time,
    columns: () => 80,
    color: false,
    ...options,
  });
  return { progress, writes, clock };
}

Deno.test("redraws: at most 10 in any second, however often update is called", () => {
  const { progress, writes, clock } = fakeBar();
  for (let t = 0; t <= 3000; t += 1) {
    clock.time = t;
    progress.update(snap({ bytesRead: t * 100, delivered: t }));
  }
  assert.ok(writes.length >= 25, `${writes.length} redraws`);
  for (let i = 10; i < writes.length; i++) {
    assert.ok(
      writes[i].at - writes[i - 10].at >= 1000,
      `11 redraws within ${writes[i].at - writes[i - 10].at} ms`,
    );
  }
  assert.ok(writes.every((w) => w.text.startsWith("\r\x1b[2K")));
});

Deno.test("redraws: an unchanged line is not written again", () => {
  const { progress, writes, clock } = fakeBar();
  progress.update(snap({ bytesRead: 10 }));
  clock.time = 500;
  progress.update(snap({ bytesRead: 10 }));
  clock.time = 10_000;
  progress.update(snap({ bytesRead: 10 }));
  // The first has no rate yet, the second does; the third is the same as the second.
  assert.equal(writes.length, 2);
});

Deno.test("log lines go above the bar, whole, and the bar is redrawn below them", () => {
  const { progress, writes, clock } = fakeBar();
  progress.log("before any bar");
  for (let i = 1; i <= 30; i++) {
    clock.time = i * 37;
    progress.update(snap({ bytesRead: i * 10_000, delivered: i * 100 }));
    if (i % 3 === 0) progress.log(`WARNING warning ${i}: ${"x".repeat(i)}`);
  }
  const lines = screen(writes.map((w) => w.text).join(""));
  assert.equal(lines[0], "before any bar");
  const warnings = lines.slice(1, -1);
  assert.deepEqual(
    warnings,
    Array.from(
      { length: 10 },
      (_, k) => `WARNING warning ${3 * k + 3}: ${"x".repeat(3 * k + 3)}`,
    ),
  );
  assert.match(
    lines.at(-1)!,
    /^ +\d+\.\d% {2}[\d,]+ delivered .* ETA \d:\d\d$/,
  );
  progress.done();
  progress.log("summary");
  progress.update(snap({ bytesRead: 1 }));
  const after = screen(writes.map((w) => w.text).join(""));
  assert.deepEqual(after.slice(-2), ["summary", ""], "bar erased by done()");
  assert.equal(after.length, lines.length + 1);
});

Deno.test("the logger's lines, routed through progress.log, land above the bar", () => {
  const { progress, writes, clock } = fakeBar();
  const log = createLogger({ write: (l) => progress.log(l), now: () => 0 });
  progress.update(snap({ bytesRead: 500_000 }));
  log.row("line 3: year: not a year");
  clock.time = 200;
  progress.update(snap({ bytesRead: 600_000 }));
  log.warn("slow service");
  const lines = screen(writes.map((w) => w.text).join(""));
  assert.deepEqual(lines.slice(0, 2), [
    "1970-01-01T00:00:00.000Z WARNING line 3: year: not a year",
    "1970-01-01T00:00:00.000Z WARNING slow service",
  ]);
  assert.match(lines[2], /^ 60\.0%/);
  assert.equal(lines.length, 3);
});

Deno.test("bar: fits a 40-column terminal; a resize is picked up on the next redraw", () => {
  let columns = 40;
  const { progress, writes, clock } = fakeBar({ columns: () => columns });
  progress.update(big);
  clock.time = 1000;
  progress.update({ ...big, delivered: big.delivered + 100 });
  assert.ok(screen(writes.at(-1)!.text, 40).every((l) => l.length <= 39));
  columns = 120;
  clock.time = 2000;
  progress.update({ ...big, delivered: big.delivered + 200 });
  assert.match(writes.at(-1)!.text, /in flight/);
});

Deno.test("lines: one plain INFO message every interval, same content, no escapes", () => {
  const messages: string[] = [];
  let now = 0;
  const progress = createProgress({
    isTty: false,
    info: (m) => messages.push(m),
    write: () => assert.fail("lines mode writes only through info"),
    now: () => now,
  });
  assert.equal(progress.mode, "lines");
  for (now = 0; now <= 12_000; now += 100) {
    progress.update(snap({ bytesRead: now * 10, delivered: now }));
  }
  assert.equal(messages.length, 2, "at 5 s and 10 s");
  assert.equal(
    messages[0],
    "progress 5.0%  5,000 delivered  0 rejected  0 retrying  0 in flight  1,000/s  ETA 1:35",
  );
  assert.ok(messages.every((m) => !m.includes("\x1b")));
  progress.done();
  now = 20_000;
  progress.update(snap());
  assert.equal(messages.length, 2, "nothing after done()");
});

Deno.test("lines: by default a `time INFO progress …` line through write", () => {
  let out = "";
  let now = Date.UTC(2026, 0, 1);
  const progress = createProgress({
    mode: "lines",
    intervalMs: 1000,
    write: (t) => out += t,
    now: () => now,
  });
  progress.update(snap());
  now += 1000;
  progress.update(snap({ bytesRead: 1000, delivered: 10 }));
  progress.log("a log line");
  assert.equal(
    out,
    "2026-01-01T00:00:01.000Z INFO progress 0.1%  10 delivered  0 rejected  0 retrying  0 in flight  10/s  ETA 16:39\na log line\n",
  );
});

Deno.test("off: log lines only; auto is the bar on a terminal", () => {
  let out = "";
  const off = createProgress({ mode: "off", write: (t) => out += t });
  off.update(big);
  off.log("only this");
  off.done();
  assert.equal(out, "only this\n");
  assert.equal(off.mode, "off");
  assert.equal(createProgress({ isTty: true, write: () => {} }).mode, "bar");
  assert.equal(
    createProgress({ mode: "bar", isTty: false, write: () => {} }).mode,
    "bar",
  );
});
