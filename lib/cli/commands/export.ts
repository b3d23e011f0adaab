/**
 * `tslm export gguf --model DIR --out FILE [--type f32|f16|q8_0] [--json]`:
 * writes a model folder as a GGUF file for llama.cpp, Ollama and friends.
 * `tslm import gguf FILE --out DIR [--dtype f32|f16|bf16] [--json]`: the other way, a GGUF
 * file as a Hugging Face model folder.
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

  program
    .command("import")
    .description("Bring models from other formats into Hugging Face folders.")
    .command("gguf")
    .description("Write a GGUF file (llama, qwen2; F32/F16/BF16/Q8_0; byte-level BPE tokenizer) as a Hugging Face model folder.")
    .argument("<file>", "GGUF file")
    .requiredOption("--out <dir>", "output model folder (must not exist)")
    .option("--dtype <dtype>", "safetensors storage: f32, f16 or bf16", "f32")
    .option("--json", "print one JSON object")
    .action(async (file: string, flags: { out: string; dtype: string; json?: boolean }) => {
      const dtype = ({ f32: "F32", f16: "F16", bf16: "BF16" } as const)[flags.dtype as "f32" | "f16" | "bf16"];
      if (!dtype) throw new TslmError(`--dtype must be f32, f16 or bf16, got '${flags.dtype}'`, { key: "--dtype" });
      const { existsSync } = await import("node:fs");
      if (existsSync(flags.out)) throw new TslmError(`${flags.out} exists; give a new folder`, { key: "--out" });
      const { init } = await import("../../tensor/init.js");
      await init();
      const { loadGgufModel } = await import("../../model/import-gguf.js");
      const { saveModel } = await import("../../model/io.js");
      const { parameterCount } = await import("../../model/memory.js");
      const model = await loadGgufModel(file);
      try {
        const files = await saveModel(model, flags.out, { dtype });
        const c = model.config;
        const result = { dir: flags.out, model_type: c.modelType, parameters: parameterCount(model), layers: c.numHiddenLayers, vocab_size: c.vocabSize, tokenizer: model.tokenizer !== null && model.tokenizer !== undefined, files: files.map((f) => f.split("/").pop()) };
        printResult(flags.json, result, () =>
          [
            `wrote ${flags.out}: ${c.modelType}, ${result.parameters} parameters, ${c.numHiddenLayers} layers, vocabulary ${c.vocabSize}`,
            result.tokenizer ? "tokenizer rebuilt from the GGUF metadata" : "no tokenizer in the file (token ids only)",
          ].join("\n"),
        );
      } finally {
        model.dispose();
      }
    });
}
