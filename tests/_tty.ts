/**
 * A real pseudo-terminal for tests: a command in a detached tmux session of
 * 80×24 (by default), read back with `capture-pane`. Each session runs on its
 * own tmux server (a socket in a temporary folder, `-S`), without the user's
 * configuration, and {@link Tty.close} kills that server and removes the
 * folder: call it in a `finally`.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Why a tmux test cannot run here (tmux missing or broken), or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tmuxMissing } from "./_tty.ts";
 * const why = tmuxMissing();
 * assert.ok(why === null || why.startsWith("tmux"));
 * ```
 */
export function tmuxMissing(): string | null {
  try {
    const { success } = new Deno.Command("tmux", {
      args: ["-V"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success ? null : "tmux -V failed";
  } catch (error) {
    return `tmux is not installed (${
      error instanceof Error ? error.message : error
    }); apt-get install tmux`;
  }
}

/** Options for {@link Tty.start}. */
export interface TtyOptions {
  /** Terminal width. @default 80 */
  columns?: number;
  /** Terminal height. @default 24 */
  rows?: number;
  /** Variables set (a string) or unset (`null`) for the command. @default {} */
  env?: Record<string, string | null>;
  /** The command's working folder. @default Deno.cwd() */
  cwd?: string;
}

/** A shell word: single-quoted. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Marks the command's end on screen: `[exit N]`. */
export const EXIT_MARK = /^\[exit (\d+)\]$/;

/** One command running in its own tmux server. */
export class Tty {
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Starts `command` in a detached session. When it ends, `[exit N]` is
   * printed and the pane stays until {@link Tty.close}.
   */
  static async start(command: string[], options: TtyOptions = {}) {
    const tty = new Tty(await Deno.makeTempDir({ prefix: "tty_test_" }));
    await Deno.writeTextFile(
      `${tty.#dir}/tmux.conf`,
      "set -g status off\nset -g history-limit 2000\n",
    );
    const env = Object.entries(options.env ?? {}).map(([k, v]) =>
      v === null ? `-u ${quote(k)}` : quote(`${k}=${v}`)
    );
    const script = `cd ${quote(options.cwd ?? Deno.cwd())} && env ${
      env.join(" ")
    } ${command.map(quote).join(" ")}; echo "[exit $?]"; sleep 600`;
    try {
      await tty.#tmux([
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        String(options.columns ?? 80),
        "-y",
        String(options.rows ?? 24),
        script,
      ]);
    } catch (error) {
      await tty.close();
      throw error;
    }
    return tty;
  }

  async #tmux(args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: [
        "-S",
        `${this.#dir}/socket`,
        "-f",
        `${this.#dir}/tmux.conf`,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `tmux ${args[0]}: ${decoder.decode(out.stderr).trim()}`,
      );
    }
    return decoder.decode(out.stdout);
  }

  /**
   * The screen's lines, top to bottom, trailing spaces removed; lines the
   * terminal wrapped are joined unless `rows`. With `escapes`, colour codes
   * are kept.
   */
  async screen(
    options: { escapes?: boolean; rows?: boolean } = {},
  ): Promise<string[]> {
    const text = await this.#tmux([
      "capture-pane",
      "-p",
      ...(options.rows ? [] : ["-J"]),
      ...(options.escapes ? ["-e"] : []),
      "-t",
      "main",
    ]);
    return text.replace(/\n$/, "").split("\n").map((l) => l.trimEnd());
  }

  /** Captures every `everyMs` until `until` holds for a screen, which it returns; throws with the screen after `timeoutMs`. */
  async waitFor(
    until: (lines: string[]) => boolean,
    what: string,
    timeoutMs = 5000,
    everyMs = 50,
  ): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    while (true) {
      const lines = await this.screen();
      if (until(lines)) return lines;
      if (Date.now() > end) {
        throw new Error(
          `no ${what} within ${timeoutMs} ms; the screen:\n${lines.join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** Kills this session's tmux server (and so the command) and removes its folder. */
  async close(): Promise<void> {
    try {
      await this.#tmux(["kill-server"]);
    } catch {
      // Already gone.
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
