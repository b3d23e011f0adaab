/**
 * Executing notebooks headlessly on the tslm kernel with Jupyter's
 * nbconvert, and checking what came out (used by `tslm notebook run`,
 * `npm start` and the tests).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { TslmError } from "../lib/util/errors.js";
import { makeParentDir } from "../lib/util/files.js";
import { VEGALITE_MIME } from "../lib/display/vega.js";
import { KERNEL_NAME, findJupyter, withRepoKernel } from "./jupyter-env.js";

export interface RunOptions {
  /** Where the executed copy goes. Default: `runs/notebooks/<name>` under the current folder. */
  out?: string;
  /** Seconds one cell may run. Default 600. */
  cellTimeoutS?: number;
  /** Kernel to run on. Default: tslm from this checkout (through JUPYTER_PATH). */
  kernel?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  ok: boolean;
  out: string;
  seconds: number;
  /** nbconvert's exit code and the tail of its stderr. */
  exitCode: number | null;
  log: string;
  /** Problems found in the executed notebook (see checkNotebook). */
  problems: string[];
}

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: { output_type: string; ename?: string; evalue?: string; data?: Record<string, unknown>; text?: string | string[]; execution_count?: number | null }[];
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
}

/**
 * What is wrong with an executed notebook: error outputs, code cells without
 * an execution count, Vega-Lite output stored as a string or without its SVG.
 */
export function checkNotebook(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const where = `cell ${i + 1}`;
    const src = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    if (src.trim() && typeof cell.execution_count !== "number") problems.push(`${where}: no execution count`);
    for (const o of cell.outputs ?? []) {
      if (o.output_type === "error") problems.push(`${where}: ${o.ename}: ${o.evalue}`);
      const data = o.data;
      if (data && VEGALITE_MIME in data) {
        if (typeof data[VEGALITE_MIME] !== "object" || data[VEGALITE_MIME] === null) problems.push(`${where}: ${VEGALITE_MIME} is not stored as a JSON object`);
        if (!("image/svg+xml" in data)) problems.push(`${where}: Vega-Lite output without its image/svg+xml rendering`);
      }
    }
  });
  return problems;
}

/** Executes `file` with `jupyter nbconvert --to notebook --execute` and checks the result. */
export function runNotebook(file: string, options: RunOptions = {}): Promise<RunResult> {
  const jupyter = findJupyter();
  if (!jupyter) throw new TslmError("jupyter was not found; install Debian's jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat (scripts/system-deps.sh)");
  const src = resolve(file);
  const out = resolve(options.out ?? resolve("runs", "notebooks", basename(src)));
  makeParentDir(out, "folder for the executed notebook");
  const args = [
    "nbconvert", "--to", "notebook", "--execute", src,
    "--output-dir", dirname(out), "--output", basename(out),
    `--ExecutePreprocessor.kernel_name=${options.kernel ?? KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${options.cellTimeoutS ?? 600}`,
    "--ExecutePreprocessor.startup_timeout=60",
  ];
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    // nbconvert runs the kernel in the notebook's folder (relative paths in cells work as in JupyterLab).
    const child = spawn(jupyter, args, { cwd: dirname(src), env: withRepoKernel(options.env ?? process.env), stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const keep = (b: Buffer) => (log = (log + b.toString()).slice(-20000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      let problems: string[] = [];
      if (code === 0) {
        try {
          problems = checkNotebook(JSON.parse(readFileSync(out, "utf8")) as Notebook);
        } catch (e) {
          problems = [`cannot read the executed notebook ${out}: ${(e as Error).message}`];
        }
      } else {
        problems = [`nbconvert exited with ${code}`];
      }
      resolvePromise({ ok: code === 0 && problems.length === 0, out, seconds, exitCode: code, log, problems });
    });
  });
}
