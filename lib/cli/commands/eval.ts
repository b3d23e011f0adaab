/**
 * `tslm eval --model DIR [--adapter DIR] --data FILE [--json]`: loss,
 * perplexity, exact match and BLEU of a model (optionally with a PEFT
 * adapter, optionally on a quantized base) on every usable row of a
 * dataset. Dataset keys (format, columns, maxLength...) are flags too;
 * `--predictions` adds every generated answer beside its reference.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { flagsFromSchema, resolveFlags } from "../flags.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG, JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { TslmError, UsageError } from "../../util/errors.js";
import { DataConfigSchema } from "../../data/config.js";
import { TrainConfigSchema } from "../../train/config.js";
import type { EvalResult } from "../../train/evaluate.js";

const train = TrainConfigSchema.shape;

const EvalSchema = z.strictObject({
  model: z.string().describe("base model folder (Hugging Face layout)"),
  adapter: z.string().optional().describe("PEFT LoRA adapter folder to apply"),
  quantization: train.quantization.describe("store the base as none, int8, int4 or nf4 before evaluating"),
  maxNewTokens: train.maxNewTokens.describe("longest generated answer"),
  maxSamples: train.evalMaxSamples.describe("evaluate at most this many rows (the first ones)"),
  batchSize: train.evalBatchSize.unwrap().unwrap().default(8).describe("rows per loss batch"),
  generate: z.boolean().default(true).describe("generate answers for exact match and BLEU"),
  predictions: z.boolean().default(false).describe("also print every generated answer beside its reference (with --json: a `predictions` array)"),
  ...BACKEND_FLAG,
  config: z.string().optional().describe("YAML file with dataset settings (the keys of a training config's `data`)"),
  ...JSON_FLAG,
});
const DATA_SPECS = flagsFromSchema(DataConfigSchema, { rename: { trainFile: "data" }, skip: ["validationFile", "validationSize", "onBadRow"], hints: { trainFile: "<file>" }, configFile: true });

function formatPredictions(predictions: EvalResult["predictions"]): string[] {
  return predictions.map((p, i) => `${String(i + 1).padStart(4)} ${p.exact ? "=" : "x"} ${JSON.stringify(p.prediction)}  (reference ${JSON.stringify(p.reference)})`);
}

async function run(flags: z.output<typeof EvalSchema>, _args: [], cmd: Command): Promise<void> {
  const data = resolveFlags(DataConfigSchema, cmd, DATA_SPECS, flags.config);
  if (!data.trainFile) throw new UsageError("--data FILE is required", "--data");
  const { init } = await import("../../tensor/init.js");
  await init({ backend: flags.backend });
  const { loadModel } = await import("../../model/io.js");
  const { quantizeModel, baseMemory } = await import("../../model/quantize-model.js");
  const { loadAdapter } = await import("../../model/peft.js");
  const { loadDataset } = await import("../../data/dataset.js");
  const { textTokenizer } = await import("../../data/tokenizer-adapter.js");
  const { evaluate } = await import("../../train/evaluate.js");
  // Frozen for evaluation: kept as stored (16-bit stays 16-bit) or quantized while loading.
  const model = await loadModel(flags.model, flags.quantization === "none" ? { base: "stored" } : { base: flags.quantization, wideEmbeddings: true });
  try {
    if (!model.tokenizer) throw new TslmError("the model folder has no tokenizer.json", { file: flags.model });
    quantizeModel(model, flags.quantization);
    if (flags.adapter) loadAdapter(flags.adapter, model);
    const ds = await loadDataset({ ...data, validationSize: 0 }, textTokenizer(model.tokenizer));
    const r = await evaluate(model, model.tokenizer, ds.train, { batchSize: flags.batchSize, maxSamples: flags.maxSamples, generate: flags.generate, maxNewTokens: flags.maxNewTokens, padId: model.tokenizer.padTokenId });
    const memory = baseMemory(model);
    const { predictions, ...scores } = r;
    const result = { model: flags.model, adapter: flags.adapter ?? null, quantization: flags.quantization, data: data.trainFile, ...scores, baseMemory: memory, ...(flags.predictions ? { predictions } : {}) };
    printResult(flags.json, result, () =>
      [
        `${r.samples} samples from ${data.trainFile}`,
        `loss ${r.loss.toFixed(4)} | perplexity ${r.perplexity.toFixed(3)}` + (r.exactMatch !== null ? ` | exact match ${(100 * r.exactMatch).toFixed(1)}% | BLEU ${r.bleu!.toFixed(1)}` : ""),
        `base weights ${(memory.bytes / 1e6).toFixed(2)} MB (${(100 * memory.ratio).toFixed(1)}% of float32)`,
        ...(flags.predictions ? formatPredictions(predictions) : []),
      ].join("\n"),
    );
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  defineCommand(program, {
    name: "eval",
    description: "Evaluate a model (and optionally a PEFT adapter) on a dataset: loss, perplexity, exact match, BLEU.",
    options: EvalSchema,
    flags: { hints: { model: "<dir>", adapter: "<dir>", config: "<file>" }, describe: { generate: "skip generation (loss and perplexity only)" } },
    more: [DATA_SPECS],
    run,
  });
}
