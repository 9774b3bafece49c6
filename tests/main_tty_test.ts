/**
 * The real importer in a real terminal (tmux, 80×24) against the local
 * service: the status line — percentage and ETA — stays on screen while
 * rejected-row warnings scroll above it, and the summary replaces it at the
 * end. `PP_SHOW_SCREENS=1` prints the screens captured.
 */
import assert from "node:assert/strict";
import { generateCsvBytes } from "../lib/gen/generate.ts";
import { startSink } from "../lib/sink/server.ts";
import { importerArgs, ROOT } from "./_subprocess.ts";
import { EXIT_MARK, tmuxMissing, Tty } from "./_tty.ts";

const STATUS =
  /^ *\d{1,3}\.\d% {2}[\d,]+ delivered .*(ETA \d+:\d\d|finishing)$/;
const WARNING = /^\d{4}-\d\d-\d\dT[\d:.]+Z WARNING line \d+: /;

const missing = tmuxMissing();
if (missing) console.log(`main_tty_test: tmux test skipped: ${missing}`);

Deno.test({
  name:
    "tmux 80×24, the real importer: percentage and ETA on screen while warnings scroll above; the summary at the end",
  ignore: missing !== null,
  async fn() {
    // Slow enough (latency, two requests at a time) to be watched for a few seconds.
    const sink = startSink({
      port: 0,
      failRate: 0.2,
      seed: 8,
      log: false,
      latencyMs: 3,
    });
    const dir = await Deno.makeTempDir({ prefix: "pp-tty-" });
    const csv = `${dir}/movies.csv`;
    await Deno.writeFile(
      csv,
      generateCsvBytes({ rows: 1500, seed: 12, coverAll: true }).bytes,
    );
    const args = importerArgs(dir, sink.port, [
      "--csv-in",
      csv,
      "--url-out",
      `${sink.url}/movies`,
      "--concurrency",
      "2",
    ])
      .filter((a, i, all) => a !== "--progress" && all[i - 1] !== "--progress");
    const tty = await Tty.start([Deno.execPath(), ...args], {
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    });
    try {
      const screens: string[][] = [];
      let last = await tty.waitFor(
        (l) => l.some((x) => STATUS.test(x)),
        "a status line",
        20_000,
      );
      while (!last.some((l) => EXIT_MARK.test(l))) {
        screens.push(last);
        await new Promise((r) => setTimeout(r, 200));
        last = await tty.screen();
      }
      if (Deno.env.get("PP_SHOW_SCREENS")) {
        for (
          const s of [screens[0], screens[Math.floor(screens.length / 2)], last]
        ) {
          console.log(`${"-".repeat(80)}\n${s.join("\n")}`);
        }
      }
      assert.ok(screens.length >= 3, `${screens.length} screens while it ran`);
      const withWarnings = screens.filter((s) =>
        s.some((l) => WARNING.test(l))
      );
      assert.ok(withWarnings.length >= 2, "warnings scrolled during the run");
      for (const screen of screens) {
        const shown = screen.filter((l) => l !== "");
        const status = shown.filter((l) => STATUS.test(l));
        assert.equal(
          status.length,
          1,
          `one status line:\n${screen.join("\n")}`,
        );
        assert.equal(
          shown.at(-1),
          status[0],
          `below every warning:\n${screen.join("\n")}`,
        );
        assert.ok(status[0].length < 80);
        for (const line of shown.slice(0, -1)) {
          assert.ok(
            !STATUS.test(line),
            "no status line left among the log lines",
          );
        }
      }
      const end = last.filter((l) => l !== "");
      assert.equal(
        end.filter((l) => STATUS.test(l)).length,
        0,
        `the bar is cleared:\n${last.join("\n")}`,
      );
      assert.ok(
        end.some((l) => /^ {2}exit code: 0$/.test(l)),
        `the summary:\n${last.join("\n")}`,
      );
      assert.equal(end.at(-1), "[exit 0]");
    } finally {
      await tty.close();
      await sink.close();
    }
  },
});
