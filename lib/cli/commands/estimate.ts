/**
 * `tslm estimate MODEL [--method lora|qlora|full] [--quantization ...]
 * [--batch B --seq T] [--json]`: predicted peak resident memory of loading,
 * fine-tuning and decoding a model, by term, from config.json and the
 * safetensors headers alone (nothing is loaded; see lib/model/estimate.ts).
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { printResult } from "../output.js";

interface EstimateFlags {
  method: "lora" | "qlora" | "full";
  quantization?: "none" | "int8" | "int4" | "nf4" | "q8_0";
  batch: number;
  seq?: number;
  loraRank?: number;
  lossChunk?: number;
  keepEmbeddingsWide?: boolean;
  checkpointing: boolean;
  json?: boolean;
}

/** A positive integer option value (commander reports the flag; the CLI exits with status 2). */
function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command("estimate")
    .description("Predict peak memory of loading, fine-tuning and decoding a model folder (reads config.json and safetensors headers only).")
    .argument("<model>", "Hugging Face model folder, or a config.json file")
    .addOption(new Option("--method <m>", "training method").choices(["lora", "qlora", "full"]).default("lora"))
    .addOption(new Option("--quantization <q>", "storage of the frozen base (default: none; nf4 with --method qlora)").choices(["none", "int8", "int4", "nf4", "q8_0"]))
    .option("--batch <n>", "sequences per training step, and sequences decoded together", positiveInt, 1)
    .option("--seq <n>", "tokens per training sequence, and KV cache positions when decoding (default 512 or the context)", positiveInt)
    .option("--lora-rank <r>", "LoRA rank (default 4, as tslm finetune)", positiveInt)
    .option("--loss-chunk <n>", "tokens per chunk of the vocabulary loss (default 256)", positiveInt)
    .option("--keep-embeddings-wide", "keep the embedding and LM head in storage precision on a quantized base")
    .option("--no-checkpointing", "estimate training without activation checkpointing (every layer's intermediates kept)")
    .option("--json", "print one JSON object")
    .action(async (model: string, flags: EstimateFlags) => {
      const { estimateMemory, formatEstimate } = await import("../../model/estimate.js");
      const estimate = estimateMemory(model, {
        method: flags.method,
        quantization: flags.quantization,
        batch: flags.batch,
        seq: flags.seq,
        lora: flags.loraRank !== undefined ? { r: flags.loraRank } : undefined,
        lossChunkTokens: flags.lossChunk,
        keepEmbeddingsWide: flags.keepEmbeddingsWide,
        activationCheckpointing: flags.checkpointing,
      });
      printResult(flags.json, estimate, () => formatEstimate(estimate));
    });
}
