/**
 * `tslm kernel install [--user | --sys-prefix | --prefix DIR] [--json]`:
 * installs the "TypeScript (tslm)" Jupyter kernelspec.
 * `tslm kernel path`: prints the repository's kernelspec folder for JUPYTER_PATH.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";

export function register(program: Command): void {
  const kernel = program.command("kernel").description("The tslm Jupyter kernel (TypeScript with tslm preloaded).");
  kernel
    .command("install")
    .description("Install the \"TypeScript (tslm)\" kernelspec (per user by default).")
    .option("--user", "install in the per-user Jupyter folder (default)")
    .option("--sys-prefix", "install in the sys.prefix of the Python that runs jupyter (virtualenv, conda)")
    .option("--prefix <dir>", "install in DIR/share/jupyter/kernels/tslm (use JUPYTER_PATH=DIR/share/jupyter)")
    .option("--json", "print one JSON object")
    .action(async (flags: { user?: boolean; sysPrefix?: boolean; prefix?: string; json?: boolean }) => {
      const { installKernel } = await import("../../../kernel/install.js");
      const r = installKernel({ user: flags.user, sysPrefix: flags.sysPrefix, prefix: flags.prefix });
      printResult(flags.json, r, () => `installed kernelspec "tslm" in ${r.dir}\n  argv: ${r.argv.join(" ")}`);
    });
  kernel
    .command("path")
    .description("Print the kernelspec folder of this installation, for JUPYTER_PATH.")
    .option("--json", "print one JSON object")
    .action(async (flags: { json?: boolean }) => {
      const { repoJupyterPath } = await import("../../../kernel/jupyter-env.js");
      const path = repoJupyterPath();
      printResult(flags.json, { jupyterPath: path }, () => path);
    });
}
