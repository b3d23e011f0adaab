/**
 * `tslm inspect PATH [--json]`: header summary of a GGUF file, a
 * safetensors file, or a model folder (config + tensors), read without
 * loading tensor data. Pickled checkpoints are refused.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";

export function register(program: Command): void {
  defineCommand(program, {
    name: "inspect",
    description: "Summarize a GGUF file, a safetensors file or a model folder (header only).",
    args: [["<path>", "file or model folder"]],
    options: z.strictObject({ ...JSON_FLAG, all: z.boolean().default(false).describe("list every tensor (human output shows the first 20)") }),
    async run(flags, [path]: [string]) {
      const { inspectPath, formatInspection } = await import("../../formats/inspect.js");
      const info = inspectPath(path);
      printResult(flags.json, info, () => formatInspection(info, flags.all ? Infinity : 20));
    },
  });
}
