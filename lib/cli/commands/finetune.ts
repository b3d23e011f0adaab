/**
 * `tslm finetune [CONFIG.yaml] [flags]`: LoRA / QLoRA / full fine-tuning.
 * Every key of the training config is also a flag (generated from the
 * schema); flags override the YAML file, which overrides the defaults.
 * The PEFT adapter lands in OUTPUT/adapter; Ctrl-C stops after the current
 * step with a checkpoint (exit 130), and `--resume` continues exactly (or
 * further, with a higher `--max-steps`).
 */
import type { Command } from "commander";
import { interruptible, printResult } from "../output.js";
import { flagsFromSchema, resolveFlags, type FlagOptions } from "../flags.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { UsageError } from "../../util/errors.js";
import { TrainConfigSchema } from "../../train/config.js";
import type { FinetuneRun } from "../../train/trainer.js";

/** How training-config keys map to flags. */
const TRAIN_FLAG_OPTIONS: FlagOptions = {
  groups: { data: "", lora: "lora-" },
  rename: { "data.trainFile": "data", "lora.r": "lora-rank" },
  hints: { model: "<dir>", output: "<dir>", "data.trainFile": "<file>", "data.validationFile": "<file>" },
  configFile: true,
};
const TRAIN_SPECS = flagsFromSchema(TrainConfigSchema, TRAIN_FLAG_OPTIONS);

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

function summary(run: FinetuneRun) {
  const last = run.evals[run.evals.length - 1];
  return {
    status: run.status,
    steps: run.steps,
    totalSteps: run.totalSteps,
    resumedFrom: run.resumedFrom,
    output: run.outputDir,
    ...run.exports,
    trainLoss: run.history.length ? run.history[run.history.length - 1].loss : null,
    eval: last ?? null,
    evals: run.evals,
    quantizedLayers: run.prepared.quantizedLayers,
    baseMemory: run.prepared.memory,
    throughput: run.throughput,
  };
}

function formatSummary(run: FinetuneRun, r: ReturnType<typeof summary>): string {
  const last = r.eval;
  return [
    `${run.status} ${run.steps}/${run.totalSteps} steps` + (run.resumedFrom !== null ? ` (resumed at ${run.resumedFrom})` : ""),
    `train loss ${fmt(r.trainLoss)}` + (last ? ` | val loss ${fmt(last.loss)} | perplexity ${fmt(last.perplexity, 3)}` + (last.exactMatch !== null ? ` | exact match ${(100 * last.exactMatch).toFixed(1)}% | BLEU ${fmt(last.bleu, 1)}` : "") : ""),
    `${Math.round(run.throughput.tokensPerSecond)} tokens/s` + (run.prepared.quantizedLayers ? ` | base weights ${(run.prepared.memory.bytes / 1e6).toFixed(2)} MB (${(100 * run.prepared.memory.ratio).toFixed(1)}% of float32)` : ""),
    ...(run.exports.adapterDir ? [`adapter: ${run.exports.adapterDir}`] : []),
    ...(run.exports.modelDir ? [`model: ${run.exports.modelDir}`] : []),
    ...(run.exports.mergedDir ? [`merged: ${run.exports.mergedDir}`] : []),
    ...(run.exports.ggufFile ? [`gguf: ${run.exports.ggufFile}`] : []),
  ].join("\n");
}

export function register(program: Command): void {
  defineCommand(program, {
    name: "finetune",
    description: "Fine-tune a model with LoRA, QLoRA (quantization int4/nf4/int8) or all weights; writes a PEFT adapter under --output.",
    args: [["[config]", "YAML (or JSON) file with training settings; flags override it"]],
    options: z.strictObject({ ...JSON_FLAG }),
    more: [TRAIN_SPECS],
    async run(flags, [configFile]: [string | undefined], cmd) {
      const cfg = resolveFlags(TrainConfigSchema, cmd, TRAIN_SPECS, configFile);
      if (!cfg.output) throw new UsageError("set --output DIR (or output: in the config file): the adapter, checkpoints and metrics go there", "--output");
      const { finetune } = await import("../../train/trainer.js");
      const run = await interruptible("stopping after this step (a checkpoint will be written; continue with --resume)", (signal) =>
        finetune({ config: cfg }, { log: (l) => process.stderr.write(l + "\n"), signal }),
      );
      if (!run) return;
      const result = summary(run);
      printResult(flags.json, result, () => formatSummary(run, result));
      run.model.dispose();
    },
  });
}
