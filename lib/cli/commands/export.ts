/**
 * `tslm export gguf --model DIR --out FILE [--type f32|f16|q8_0] [--json]`:
 * writes a model folder as a GGUF file for llama.cpp, Ollama and friends.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { TslmError } from "../../util/errors.js";

interface ExportFlags {
  model: string;
  out: string;
  type: string;
  name?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const exp = program.command("export").description("Export a model to other formats.");
  exp
    .command("gguf")
    .description("Write a model folder as GGUF (llama.cpp). F32 matches tslm's outputs to ~1e-6.")
    .requiredOption("--model <dir>", "Hugging Face model folder")
    .requiredOption("--out <file>", "output .gguf file")
    .option("--type <type>", "weight storage: f32, f16 or q8_0", "f16")
    .option("--name <name>", "general.name written into the file")
    .option("--json", "print one JSON object")
    .action(async (flags: ExportFlags) => {
      if (!["f32", "f16", "q8_0"].includes(flags.type)) throw new TslmError(`--type must be f32, f16 or q8_0, got '${flags.type}'`, { key: "--type" });
      const { init } = await import("../../tensor/init.js");
      await init();
      const { loadModel } = await import("../../model/io.js");
      const { exportGguf } = await import("../../model/export-gguf.js");
      const model = await loadModel(flags.model);
      try {
        const r = exportGguf(model, flags.out, { type: flags.type as "f32" | "f16" | "q8_0", name: flags.name });
        printResult(flags.json, { ...r, type: flags.type }, () =>
          [
            `wrote ${r.file}: ${r.architecture}, ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(2)} MB (${flags.type})`,
            ...r.fallbacks.map((f) => `note: ${f}`),
            ...r.warnings.map((w) => `warning: ${w}`),
          ].join("\n"),
        );
      } finally {
        model.dispose();
      }
    });
}
