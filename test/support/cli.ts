/**
 * The `tslm` command as a user runs it, for the CLI specs of every
 * subsystem: in a child process from source (`run-cli.ts`, the one entry
 * stub), waited for (`tslm`) or watched while it runs (`startTslm`), or
 * in-process with its output captured (`tslmInProcess`).
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The entry stub: `node --import tsx RUN_CLI ARGS...` runs `tslm ARGS...` from source. */
export const RUN_CLI = fileURLToPath(new URL("./run-cli.ts", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI child: no progress bars. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TSLM_PROGRESS: "0", ...extra };
}

/**
 * Runs `tslm ARGS` and waits for it. A script file, not `node -e`: with -e, a
 * first argument such as "inspect" is taken as a node subcommand.
 */
export function tslm(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", RUN_CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 170_000, env: cliEnv() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Sees the child as soon as it is spawned (to signal it). */
  onStart?: (child: ChildProcess) => void;
  /** Sees stderr as it arrives (to interrupt at a chosen moment). */
  onStderr?: (all: string, child: ChildProcess) => void;
}

/** Starts `tslm ARGS` and resolves when it has exited. */
export function startTslm(args: string[], opts: StartOptions = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", RUN_CLI, ...args], { cwd: ROOT, env: opts.env ?? cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
  opts.onStart?.(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => {
    stderr += d;
    opts.onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

/** Runs the CLI in this process, capturing stdout, stderr and the exit status (for fast specs that need no fresh process). */
export async function tslmInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const { main } = await import("../../lib/cli/main.js");
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(args);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** The one JSON object `--json` prints (asserting it is the only stdout line). */
export function oneJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `--json prints one line, got:\n${stdout}`);
  return JSON.parse(lines[0]);
}

/** Asserts a failure printed exactly one line on stderr, no stack trace, and returns it. */
export function oneErrorLine(r: { stderr: string }): string {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.match(lines[0], /^tslm: /);
  return lines[0];
}
