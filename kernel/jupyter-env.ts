/**
 * The Jupyter installation the kernel is used with: where `jupyter` is, which
 * Python runs it, where kernelspecs go, and the kernelspec folder that ships
 * in this repository (`kernel/jupyter`, usable through `JUPYTER_PATH`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { packageInfo } from "../lib/util/package.js";

/** Name of tslm's kernelspec. */
export const KERNEL_NAME = "tslm";
export const KERNEL_DISPLAY_NAME = "TypeScript (tslm)";

/** `<root>/kernel/jupyter`: a JUPYTER_PATH entry holding `kernels/tslm`. */
export function repoJupyterPath(): string {
  return join(packageInfo().root, "kernel", "jupyter");
}

/** The kernel's entry point (compiled). */
export function kernelMain(): string {
  return join(packageInfo().root, "dist", "kernel", "main.js");
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The `jupyter` command: `TSLM_JUPYTER`, else the first on PATH, else
 * Debian's `/usr/bin/jupyter`. Undefined when none exists.
 */
export function findJupyter(): string | undefined {
  const candidates = [process.env.TSLM_JUPYTER, onPath("jupyter"), "/usr/bin/jupyter"].filter((c): c is string => Boolean(c));
  return candidates.find((c) => existsSync(c));
}

/** The Python that runs `jupyter` (from its `#!` line). */
export function jupyterPython(jupyter: string): string | undefined {
  try {
    const first = readFileSync(jupyter, "utf8").slice(0, 300).split("\n")[0];
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m) return undefined;
    return m[1].endsWith("/env") ? m[2] && onPath(m[2]) : m[1];
  } catch {
    return undefined;
  }
}

export interface JupyterStatus {
  found: boolean;
  jupyter?: string;
  python?: string;
  /** `jupyter --version` lines of the core packages (jupyter_client, nbconvert, nbclient...). */
  versions?: Record<string, string>;
  /** The installed tslm kernelspec folder, if Jupyter finds one. */
  kernelspec?: string;
  /** The argv of that kernelspec. */
  kernelArgv?: string[];
  /** Whether that kernelspec points at this installation's kernel. */
  kernelspecCurrent?: boolean;
  error?: string;
}

/** Probes Jupyter: versions and where the tslm kernelspec is (runs `jupyter` twice, ~1 s). */
export function jupyterStatus(env: NodeJS.ProcessEnv = process.env): JupyterStatus {
  const jupyter = findJupyter();
  if (!jupyter) return { found: false, error: "jupyter was not found (install Debian's jupyter-client, jupyter-nbconvert, python3-nbclient)" };
  const status: JupyterStatus = { found: true, jupyter, python: jupyterPython(jupyter) };
  const v = spawnSync(jupyter, ["--version"], { encoding: "utf8", env, timeout: 30000 });
  if (v.status !== 0) return { ...status, found: false, error: `\`${jupyter} --version\` failed: ${(v.stderr || v.error?.message || "").trim().split("\n").pop()}` };
  status.versions = Object.fromEntries(
    v.stdout
      .split("\n")
      .map((l) => /^\s*([\w-]+)\s*:\s*(\S.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[2] !== "not installed")
      .map((m) => [m[1], m[2].trim()]),
  );
  try {
    const list = JSON.parse(execFileSync(jupyter, ["kernelspec", "list", "--json"], { encoding: "utf8", env, timeout: 30000, stdio: ["ignore", "pipe", "pipe"] })) as {
      kernelspecs: Record<string, { resource_dir: string; spec: { argv: string[] } }>;
    };
    const spec = list.kernelspecs[KERNEL_NAME];
    if (spec) {
      status.kernelspec = spec.resource_dir;
      status.kernelArgv = spec.spec.argv;
      status.kernelspecCurrent = spec.spec.argv.includes(kernelMain()) || spec.resource_dir === join(repoJupyterPath(), "kernels", KERNEL_NAME);
    }
  } catch (e) {
    status.error = `\`jupyter kernelspec list\` failed: ${(e as Error).message.split("\n")[0]}`;
  }
  return status;
}

/** JUPYTER_PATH with the repository's kernelspec folder first. */
export function withRepoKernel(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const parts = [repoJupyterPath(), ...(env.JUPYTER_PATH ? env.JUPYTER_PATH.split(delimiter) : [])];
  return { ...env, JUPYTER_PATH: parts.join(delimiter) };
}

/** Jupyter's per-user data folder (jupyter_core's rule on Linux and macOS). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (process.platform === "darwin") return join(homedir(), "Library", "Jupyter");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}
