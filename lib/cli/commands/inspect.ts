/**
 * `tslm inspect PATH [--json]`: header summary of a GGUF file, a
 * safetensors file, or a model folder (config + tensors), read without
 * loading tensor data. Pickled checkpoints are refused.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";

export function register(program: Command): void {
  program
    .command("inspect")
    .description("Summarize a GGUF file, a safetensors file or a model folder (header only).")
    .argument("<path>", "file or model folder")
    .option("--json", "print one JSON object")
    .option("--all", "list every tensor (human output shows the first 20)")
    .action(async (path: string, flags: { json?: boolean; all?: boolean }) => {
      const { inspectPath, formatInspection } = await import("../../formats/inspect.js");
      const info = inspectPath(path);
      printResult(flags.json, info, () => formatInspection(info, flags.all ? Infinity : 20));
    });
}
