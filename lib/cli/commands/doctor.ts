/**
 * `tslm doctor [--json]`: what this installation runs on: Node, the tensor
 * backend chosen (and why the others were passed over), the native addon,
 * Jupyter and the tslm kernelspec.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";

export function register(program: Command): void {
  program
    .command("doctor")
    .description("Check the environment: Node, tensor backend, native addon, Jupyter and the tslm kernel.")
    .option("--json", "print one JSON object")
    .action(async (flags: { json?: boolean }) => {
      const { diagnose, formatDiagnosis } = await import("../doctor.js");
      const d = await diagnose();
      printResult(flags.json, d, () => formatDiagnosis(d));
      if (!d.ok) process.exitCode = 1;
    });
}
