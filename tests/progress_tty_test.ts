/**
 * The progress bar in a real terminal (tmux, 80×24) and the plain lines in a
 * pipe. Run with `deno run`, this file is the fixture: it drives
 * createProgress with made-up counts for about 1.5 s, printing warnings
 * through the logger routed to progress.log, then the summary.
 */
import assert from "node:assert/strict";
import { createLogger } from "../lib/importer/log.ts";
import { createProgress, parseProgressMode } from "../lib/importer/progress.ts";
import { EXIT_MARK, tmuxMissing, Tty } from "./_tty.ts";

/** The importer's own narrow list (deno.json's `import` task), in short. */
const NARROW_ENV = "--allow-env=CSV_IN,URL_OUT,LOG_LEVEL";
const RUN_MS = 1500;

async function fixture(args: string[]): Promise<void> {
  const progress = createProgress({
    mode: parseProgressMode(args[0] ?? "auto") ?? "auto",
    intervalMs: Number(args[1] ?? 5000),
  });
  const log = createLogger({ write: (line) => progress.log(line) });
  const total = 90_000_000;
  const started = Date.now();
  let warnings = 0;
  for (let elapsed = 0; elapsed < RUN_MS; elapsed = Date.now() - started) {
    const done = elapsed / RUN_MS;
    progress.update({
      bytesRead: Math.round(done * total),
      totalBytes: total,
      delivered: Math.round(done * 1_000_000),
      rejected: Math.round(done * 10_000),
      alreadyDelivered: 0,
      retrying: Math.round(done * 40) % 7,
      inFlight: 16,
    });
    if (elapsed >= warnings * 60) {
      warnings++;
      // Every third warning is longer than the terminal is wide.
      const long = warnings % 3 === 0 ? ` ${"(a long reason) ".repeat(5)}` : "";
      log.warn(`fixture warning ${warnings}: line ${warnings * 37}${long} end`);
    }
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  progress.done();
  log.info(`summary: ${warnings} warnings, fixture finished`);
}

const STATUS =
  /^ *\d{1,3}\.\d% {2}[\d,]+ delivered {2}.*(ETA \d+:\d\d|finishing)$/;
const WARNING =
  /^\d{4}-\d\d-\d\dT[\d:.]+Z WARNING fixture warning (\d+): line \d+( (\(a long reason\) ){5})? end$/;

/** The end of a long warning, cut by the top of the screen. */
const TAIL = /^[ a-z()]+ end$/;

/** What one screen shows: the warnings' numbers and the status line (if any). */
function read(lines: string[]) {
  const shown = lines.filter((l) => l !== "");
  const status = shown.filter((l) => STATUS.test(l));
  const others = shown.filter((l) => !STATUS.test(l));
  const warnings = others.flatMap((l) => {
    const m = WARNING.exec(l);
    return m ? [Number(m[1])] : [];
  });
  return { shown, status, others, warnings };
}

function fixtureCommand(mode: string, intervalMs = 5000): string[] {
  return [
    Deno.execPath(),
    "run",
    NARROW_ENV,
    import.meta.filename!,
    mode,
    String(intervalMs),
  ];
}

/** Runs the fixture in tmux; captures every 150 ms until its summary; checks each screen. */
async function barScreens(env: Record<string, string | null>) {
  const tty = await Tty.start(fixtureCommand("auto"), { env });
  try {
    const screens: string[][] = [];
    const rows: string[][] = [];
    const coloured: string[] = [];
    const summary = (l: string) => l.includes(" INFO summary: ");
    let last = await tty.waitFor((l) => l.some((x) => STATUS.test(x)), "bar");
    const end = Date.now() + 10 * RUN_MS;
    while (!last.some(summary)) {
      assert.ok(Date.now() < end, `no summary in time:\n${last.join("\n")}`);
      screens.push(last);
      rows.push(await tty.screen({ rows: true }));
      const escapes = await tty.screen({ escapes: true });
      coloured.push(escapes.find((l) => l.includes("delivered")) ?? "");
      await new Promise((resolve) => setTimeout(resolve, 150));
      last = await tty.waitFor(() => true, "screen");
    }
    const final = await tty.waitFor(
      (l) => l.some((x) => EXIT_MARK.test(x)),
      "exit",
    );
    return { screens, rows, coloured, final };
  } finally {
    await tty.close();
  }
}

function checkRunningScreens(screens: string[][]): void {
  assert.ok(screens.length >= 3, `${screens.length} screens during the run`);
  let previousPercent = -1;
  let previousWarning = 0;
  for (const lines of screens) {
    const { shown, status, others, warnings } = read(lines);
    const dump = `\n${lines.join("\n")}`;
    assert.equal(status.length, 1, `one status line${dump}`);
    assert.equal(shown.at(-1), status[0], `the bar is below the log${dump}`);
    assert.ok(status[0].length < 80, "the bar never reaches the last column");
    // At the top, the second half of a long warning whose first half has scrolled off.
    const cut = others[0] !== undefined && TAIL.test(others[0]) ? 1 : 0;
    assert.equal(others.length - cut, warnings.length, `whole warnings${dump}`);
    warnings.forEach((n, i) => {
      if (i > 0) assert.equal(n, warnings[i - 1] + 1, `in order${dump}`);
    });
    const percent = Number(status[0].trim().split("%")[0]);
    assert.ok(percent >= previousPercent, `percentage goes up${dump}`);
    assert.ok(warnings.at(-1)! >= previousWarning);
    previousPercent = percent;
    previousWarning = warnings.at(-1)!;
  }
  const first = read(screens.at(-1)!).warnings[0];
  assert.ok(first > 1, "the earliest warnings have scrolled off the top");
}

/** The terminal's own rows: 24 of at most 80 columns; once it scrolls, the bar is on the last. */
function checkRows(rows: string[][]): void {
  for (const screen of rows) {
    assert.equal(screen.length, 24);
    assert.ok(screen.every((row) => row.length <= 80));
  }
  const full = rows.filter((screen) => screen.every((row) => row !== ""));
  assert.ok(full.length >= 2, `${full.length} full screens`);
  for (const screen of full) {
    assert.match(screen[23], STATUS, screen.join("\n"));
  }
}

const missing = import.meta.main ? null : tmuxMissing();
if (missing) console.log(`progress_tty_test: tmux tests skipped: ${missing}`);

Deno.test({
  name:
    "tmux 80×24: the bar stays on the last line, warnings scroll above it whole, done() clears it",
  ignore: missing !== null,
  async fn() {
    const { screens, rows, coloured, final } = await barScreens({
      NO_COLOR: null,
    });
    checkRunningScreens(screens);
    checkRows(rows);
    // A capture can fall between the erase and the redraw: those are empty.
    const bars = coloured.filter((l) => l !== "");
    assert.ok(
      bars.length >= 2 && bars.every((l) => l.includes("\x1b[")),
      "coloured bar",
    );
    const end = read(final);
    assert.equal(end.status.length, 0, `bar cleared:\n${final.join("\n")}`);
    assert.match(end.shown.at(-2)!, /INFO summary: \d+ warnings/);
    assert.equal(end.shown.at(-1), "[exit 0]");
    assert.ok(!final.join("\n").includes("Deno requests"), "no prompt");
  },
});

Deno.test({
  name: "tmux 80×24 with NO_COLOR: the same bar without colour codes",
  ignore: missing !== null,
  async fn() {
    const { screens, rows, coloured } = await barScreens({ NO_COLOR: "1" });
    checkRunningScreens(screens);
    checkRows(rows);
    const bars = coloured.filter((l) => l !== "");
    assert.ok(bars.length >= 2 && bars.every((l) => !l.includes("\x1b[")));
  },
});

Deno.test("a pipe: plain `INFO progress` lines between the warnings, no escape codes, narrow --allow-env", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: fixtureCommand("auto", 400).slice(1),
    env: { NO_COLOR: "" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.ok(!text.includes("\x1b") && !text.includes("\r"), text);
  const lines = text.trimEnd().split("\n");
  const progress = lines.filter((l) => / INFO progress /.test(l));
  assert.ok(progress.length >= 2, text);
  for (const line of progress) {
    assert.match(
      line,
      /Z INFO progress \d+\.\d% {2}[\d,]+ delivered {2}[\d,]+ rejected {2}\d+ retrying {2}16 in flight {2}[\d,]+\/s {2}ETA \d:\d\d$/,
    );
  }
  assert.ok(lines.every((l) => WARNING.test(l) || / INFO /.test(l)), text);
});

if (import.meta.main) await fixture(Deno.args);
