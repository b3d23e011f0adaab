/**
 * `tslm kernel install [--user | --sys-prefix | --prefix DIR] [--json]`:
 * installs the "TypeScript (tslm)" Jupyter kernelspec.
 * `tslm kernel path`: prints the repository's kernelspec folder for JUPYTER_PATH.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { UsageError } from "../../util/errors.js";

export function register(program: Command): void {
  const kernel = program.command("kernel").description("The tslm Jupyter kernel (TypeScript with tslm preloaded).");
  defineCommand(kernel, {
    name: "install",
    description: 'Install the "TypeScript (tslm)" kernelspec (per user by default).',
    options: z.strictObject({
      user: z.boolean().default(false).describe("install in the per-user Jupyter folder (default)"),
      sysPrefix: z.boolean().default(false).describe("install in the sys.prefix of the Python that runs jupyter (virtualenv, conda)"),
      prefix: z.string().optional().describe("install in DIR/share/jupyter/kernels/tslm (use JUPYTER_PATH=DIR/share/jupyter)"),
      ...JSON_FLAG,
    }),
    flags: { hints: { prefix: "<dir>" } },
    async run(flags) {
      if ([flags.user, flags.sysPrefix, flags.prefix !== undefined].filter(Boolean).length > 1) throw new UsageError("choose one of --user, --sys-prefix and --prefix DIR");
      const { installKernel } = await import("../../../kernel/install.js");
      const r = installKernel({ user: flags.user, sysPrefix: flags.sysPrefix, prefix: flags.prefix });
      printResult(flags.json, r, () => `installed kernelspec "tslm" in ${r.dir}\n  argv: ${r.argv.join(" ")}`);
    },
  });
  defineCommand(kernel, {
    name: "path",
    description: "Print the kernelspec folder of this installation, for JUPYTER_PATH.",
    options: z.strictObject({ ...JSON_FLAG }),
    async run(flags) {
      const { repoJupyterPath } = await import("../../../kernel/jupyter-env.js");
      const dir = repoJupyterPath();
      printResult(flags.json, { jupyterPath: dir }, () => dir);
    },
  });
}
