/**
 * `tslm export gguf --model DIR --out FILE [--type f32|f16|q8_0] [--json]`:
 * writes a model folder as a GGUF file for llama.cpp, Ollama and friends.
 * `tslm import gguf FILE --out DIR [--dtype f32|f16|bf16] [--json]`: the other way, a GGUF
 * file as a Hugging Face model folder.
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { UsageError } from "../../util/errors.js";
import { makeParentDir } from "../../util/files.js";

const ExportSchema = z.strictObject({
  model: z.string().describe("Hugging Face model folder"),
  out: z.string().describe("output .gguf file (its folder is made if missing)"),
  type: z.enum(["f32", "f16", "q8_0"]).default("f16").describe("weight storage"),
  name: z.string().optional().describe("general.name written into the file"),
  ...JSON_FLAG,
});

const ImportSchema = z.strictObject({
  out: z.string().describe("output model folder (must not exist)"),
  dtype: z.enum(["f32", "f16", "bf16"]).default("f32").describe("safetensors storage"),
  ...JSON_FLAG,
});

async function exportGgufCommand(flags: z.output<typeof ExportSchema>): Promise<void> {
  // Before the model loads: a folder that cannot be made fails at once, with its name.
  makeParentDir(flags.out, "folder for --out");
  const { init } = await import("../../tensor/init.js");
  await init();
  const { loadModel } = await import("../../model/io.js");
  const { exportGguf } = await import("../../model/export-gguf.js");
  const model = await loadModel(flags.model);
  try {
    const r = exportGguf(model, flags.out, { type: flags.type, name: flags.name });
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
}

async function importGgufCommand(flags: z.output<typeof ImportSchema>, [file]: [string]): Promise<void> {
  if (existsSync(flags.out)) throw new UsageError(`--out: ${flags.out} exists; give a new folder`, "--out");
  makeParentDir(flags.out, "folder for --out");
  const dtype = ({ f32: "F32", f16: "F16", bf16: "BF16" } as const)[flags.dtype];
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
}

export function register(program: Command): void {
  defineCommand(program.command("export").description("Export a model to other formats."), {
    name: "gguf",
    description: "Write a model folder as GGUF (llama.cpp). F32 matches tslm's outputs to ~1e-6.",
    options: ExportSchema,
    flags: { hints: { model: "<dir>", out: "<file>", type: "<type>", name: "<name>" } },
    run: exportGgufCommand,
  });
  defineCommand(program.command("import").description("Bring models from other formats into Hugging Face folders."), {
    name: "gguf",
    description: "Write a GGUF file (llama, qwen2; F32/F16/BF16/Q8_0; byte-level BPE tokenizer) as a Hugging Face model folder.",
    args: [["<file>", "GGUF file"]],
    options: ImportSchema,
    flags: { hints: { out: "<dir>", dtype: "<dtype>" } },
    run: importGgufCommand,
  });
}
