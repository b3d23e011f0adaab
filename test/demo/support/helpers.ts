/**
 * Helpers of the demo tests: the CLI in a child process and temporary folders
 * (the report opened in headless Chromium comes from test/support/chromium.ts).
 */
import { tempDir as makeTempDir } from "../../support/tmp.js";
import { startTslm, type CliRun, type StartOptions } from "../../support/cli.js";

export { ROOT, type CliRun } from "../../support/cli.js";

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

/** Starts `tslm ARGS` from source with the demo's environment; `onStderr` sees stderr as it arrives (to interrupt at a chosen moment). */
export function startCli(args: string[], opts: StartOptions = {}): Promise<CliRun> {
  return startTslm(args, { env: childEnv(), ...opts });
}

export { removeTempDirs } from "../../support/tmp.js";

export const tempDir = (prefix = "tslm-demo-"): string => makeTempDir(prefix);

export { openInChromium, type DrawnChart } from "../../support/chromium.js";
