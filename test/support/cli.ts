/**
 * The `tslm` command run from source in a child process, as a user runs it,
 * for the CLI specs of every subsystem.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./run-cli.ts", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tslm ARGS` and waits for it. A script file, not `node -e`: with -e, a
 * first argument such as "inspect" is taken as a node subcommand.
 */
export function tslm(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 170_000,
    env: { ...process.env, TSLM_PROGRESS: "0" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one JSON object `--json` prints (asserting it is the only stdout line). */
export function oneJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `--json prints one line, got:\n${stdout}`);
  return JSON.parse(lines[0]);
}
