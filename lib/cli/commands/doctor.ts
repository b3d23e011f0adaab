/**
 * `tslm doctor [--json]`: what this installation runs on: Node, the tensor
 * backend chosen (and why the others were passed over), the native addon,
 * Jupyter and the tslm kernelspec.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";

export function register(program: Command): void {
  defineCommand(program, {
    name: "doctor",
    description: "Check the environment: Node, tensor backend, native addon, Jupyter and the tslm kernel.",
    options: z.strictObject({ ...JSON_FLAG }),
    async run(flags) {
      const { diagnose, formatDiagnosis } = await import("../doctor.js");
      const d = await diagnose();
      printResult(flags.json, d, () => formatDiagnosis(d));
      if (!d.ok) process.exitCode = 1;
    },
  });
}
