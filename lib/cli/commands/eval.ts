/**
 * `tslm eval --model DIR [--adapter DIR] --data FILE [--json]`: loss,
 * perplexity, exact match and BLEU of a model (optionally with a PEFT
 * adapter, optionally on a quantized base) on every usable row of a
 * dataset. Dataset keys (format, columns, maxLength...) are flags too.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { DataConfigSchema } from "../../data/config.js";
import { configFlags, type FlagSpec } from "../../train/config-flags.js";
import { addConfigOptions, configFromFlags, resolveWithFile } from "./finetune.js";
import { ConfigError, TslmError } from "../../util/errors.js";

interface EvalFlags {
  model: string;
  adapter?: string;
  quantization?: string;
  maxNewTokens?: string;
  maxSamples?: string;
  batchSize?: string;
  generate?: boolean;
  backend?: string;
  config?: string;
  json?: boolean;
  [k: string]: unknown;
}

function positiveInt(flag: string, v: string | undefined, fallback: number | null): number | null {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} expects a positive integer, got '${v}'`, { key: flag });
  return n;
}

export function register(program: Command): void {
  const specs: FlagSpec[] = configFlags(DataConfigSchema, { rename: { trainFile: "data" }, skip: ["validationFile", "validationSize", "onBadRow"] });
  const cmd = program
    .command("eval")
    .description("Evaluate a model (and optionally a PEFT adapter) on a dataset: loss, perplexity, exact match, BLEU.")
    .requiredOption("--model <dir>", "base model folder (Hugging Face layout)")
    .option("--adapter <dir>", "PEFT LoRA adapter folder to apply")
    .option("--quantization <kind>", "store the base as none, int8, int4 or nf4 before evaluating", "none")
    .option("--max-new-tokens <n>", "longest generated answer", "256")
    .option("--max-samples <n>", "evaluate at most this many rows")
    .option("--batch-size <n>", "rows per loss batch", "8")
    .option("--no-generate", "skip generation (loss and perplexity only)")
    .option("--backend <name>", "TF.js backend: auto, native, wasm, cpu")
    .option("--config <file>", "YAML file with dataset settings (the keys of a training config's `data`)")
    .option("--json", "print one JSON object");
  addConfigOptions(cmd, specs);
  cmd.action(async (flags: EvalFlags) => {
    const data = await resolveWithFile(DataConfigSchema, flags.config, configFromFlags(flags, specs));
    if (!data.trainFile) throw new ConfigError("--data FILE is required", { key: "--data" });
    const quant = flags.quantization ?? "none";
    if (!["none", "int8", "int4", "nf4"].includes(quant)) throw new ConfigError(`--quantization must be none, int8, int4 or nf4, got '${quant}'`, { key: "--quantization" });
    const maxNew = positiveInt("--max-new-tokens", flags.maxNewTokens, 256)!;
    const maxSamples = positiveInt("--max-samples", flags.maxSamples, null);
    const batchSize = positiveInt("--batch-size", flags.batchSize, 8)!;
    const { init } = await import("../../tensor/init.js");
    await init(flags.backend ? { backend: flags.backend as never } : {});
    const { loadModel } = await import("../../model/io.js");
    const { quantizeModel, baseMemory } = await import("../../model/quantize-model.js");
    const { loadAdapter } = await import("../../model/peft.js");
    const { loadDataset } = await import("../../data/dataset.js");
    const { textTokenizer } = await import("../../data/tokenizer-adapter.js");
    const { evaluate } = await import("../../train/evaluate.js");
    const model = await loadModel(flags.model);
    try {
      if (!model.tokenizer) throw new TslmError("the model folder has no tokenizer.json", { file: flags.model });
      quantizeModel(model, quant as "none");
      if (flags.adapter) loadAdapter(flags.adapter, model);
      const ds = await loadDataset({ ...data, validationSize: 0 }, textTokenizer(model.tokenizer));
      const r = await evaluate(model, model.tokenizer, ds.train, { batchSize, maxSamples, generate: flags.generate !== false, maxNewTokens: maxNew, padId: model.tokenizer.padTokenId });
      const memory = baseMemory(model);
      const result = {
        model: flags.model,
        adapter: flags.adapter ?? null,
        quantization: quant,
        data: data.trainFile,
        samples: r.samples,
        loss: r.loss,
        perplexity: r.perplexity,
        tokenPerplexity: r.tokenPerplexity,
        exactMatch: r.exactMatch,
        bleu: r.bleu,
        baseMemory: memory,
        seconds: r.seconds,
        predictions: r.predictions,
      };
      printResult(flags.json, result, () =>
        [
          `${r.samples} samples from ${data.trainFile}`,
          `loss ${r.loss.toFixed(4)} | perplexity ${r.perplexity.toFixed(3)}` + (r.exactMatch !== null ? ` | exact match ${(100 * r.exactMatch).toFixed(1)}% | BLEU ${r.bleu!.toFixed(1)}` : ""),
          `base weights ${(memory.bytes / 1e6).toFixed(2)} MB (${(100 * memory.ratio).toFixed(1)}% of float32)`,
        ].join("\n"),
      );
    } finally {
      model.dispose();
    }
  });
}
