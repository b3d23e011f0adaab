/**
 * Helpers of the demo tests: the CLI in a child process and temporary folders
 * (the report opened in headless Chromium comes from test/support/chromium.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tempDir as makeTempDir } from "../../support/tmp.js";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/**
 * Extra arguments naming the base model: none (the embedded default), or
 * `--model DIR` when TSLM_TEST_DEMO_MODEL points at another model folder.
 */
export function modelArgs(): string[] {
  const m = process.env.TSLM_TEST_DEMO_MODEL;
  return m ? ["--model", m] : [];
}

/** The environment of a demo child: no progress bars, no LLM judge from the caller's environment. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSLM_PROGRESS: "0", ...extra };
  for (const k of ["OPENAI_BASE_URL", "TSLM_JUDGE_MODEL", "OPENAI_MODEL", "OPENAI_API_KEY"]) if (!(k in extra)) delete env[k];
  return env;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Starts `tslm ARGS` from source; `onStderr` sees stderr as it arrives (to interrupt at a chosen moment). */
export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; onStderr?: (all: string, child: ChildProcess) => void } = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env: opts.env ?? childEnv(), stdio: ["ignore", "pipe", "pipe"] });
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

export { removeTempDirs } from "../../support/tmp.js";

export const tempDir = (prefix = "tslm-demo-"): string => makeTempDir(prefix);

export { openInChromium, type DrawnChart } from "../../support/chromium.js";
