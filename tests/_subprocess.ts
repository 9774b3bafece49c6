/** Running the importer (or any entry point) as a real subprocess. @module */
import { fileURLToPath } from "node:url";
import { BACKUP } from "./_shared_data.ts";

/** What a finished subprocess said. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(
  /[\\/]$/,
  "",
);

/** The real input shared with the exercise (never copied into the repo). */
export { BACKUP } from "./_shared_data.ts";

/** Runs a command to the end and collects its output. */
export async function execute(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Output> {
  const result = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** `deno run` of main.ts with explicit permissions for a test folder and a service port. */
export function importerArgs(
  dir: string,
  port: number | null,
  extra: string[],
): string[] {
  return [
    "run",
    `--allow-read=${ROOT},${BACKUP},${dir}`,
    `--allow-write=${dir}`,
    ...(port === null ? [] : [`--allow-net=127.0.0.1:${port}`]),
    "--allow-env",
    "--no-prompt",
    "--v8-flags=--max-semi-space-size=4,--max-old-space-size=256",
    `${ROOT}/main.ts`,
    "--rejects",
    `${dir}/rejects.csv`,
    "--report",
    `${dir}/report.json`,
    "--ledger-dir",
    `${dir}/ledger`,
    "--progress",
    "off",
    ...extra,
  ];
}
