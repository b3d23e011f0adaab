/**
 * `tslm kernel install`: writes the "TypeScript (tslm)" kernelspec. Its argv
 * holds absolute paths (this Node binary and this installation's kernel), so
 * Jupyter starts it without anything on PATH.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TslmError } from "../lib/util/errors.js";
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, findJupyter, jupyterPython, kernelMain, repoJupyterPath, userDataDir } from "./jupyter-env.js";
import { writeFileAtomic } from "../lib/util/atomic.js";
import { makeDir } from "../lib/util/files.js";

export interface InstallOptions {
  /** Per-user folder (the default). */
  user?: boolean;
  /** The `sys.prefix` of the Python that runs Jupyter (a virtualenv or conda env). */
  sysPrefix?: boolean;
  /** `PREFIX/share/jupyter/kernels/tslm`. */
  prefix?: string;
  /** Node binary for argv. Default: the one running now. */
  node?: string;
}

export interface InstallResult {
  dir: string;
  kernelJson: string;
  argv: string[];
}

/** The kernel.json of an installed kernelspec. */
export function kernelSpec(node: string = process.execPath): Record<string, unknown> {
  return {
    argv: [node, kernelMain(), "--connection-file", "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

/** Where the kernelspec goes for these options. */
export function installDir(options: InstallOptions): string {
  const chosen = [options.user, options.sysPrefix, options.prefix !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new TslmError("choose one of --user, --sys-prefix and --prefix DIR");
  if (options.prefix !== undefined) return join(options.prefix, "share", "jupyter", "kernels", KERNEL_NAME);
  if (options.sysPrefix) {
    const jupyter = findJupyter();
    const python = jupyter && jupyterPython(jupyter);
    if (!python) throw new TslmError("--sys-prefix: cannot find the Python that runs jupyter (is Jupyter installed?)");
    const prefix = execFileSync(python, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }).trim();
    return join(prefix, "share", "jupyter", "kernels", KERNEL_NAME);
  }
  return join(userDataDir(), "kernels", KERNEL_NAME);
}

/** Writes the kernelspec (kernel.json and logos) and returns where. */
export function installKernel(options: InstallOptions = {}): InstallResult {
  if (!existsSync(kernelMain())) throw new TslmError(`the kernel is not built (${kernelMain()} is missing); run npm run build`);
  const dir = installDir(options);
  makeDir(dir, "kernelspec folder");
  const spec = kernelSpec(options.node);
  const kernelJson = join(dir, "kernel.json");
  writeFileAtomic(kernelJson, JSON.stringify(spec, null, 2) + "\n");
  for (const logo of ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]) {
    const src = join(repoJupyterPath(), "kernels", KERNEL_NAME, logo);
    if (existsSync(src)) copyFileSync(src, join(dir, logo));
  }
  return { dir, kernelJson, argv: spec.argv as string[] };
}
