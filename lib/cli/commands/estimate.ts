/**
 * `tslm estimate MODEL [--method lora|qlora|full] [--quantization ...]
 * [--batch B --seq T] [--json]`: predicted peak resident memory of loading,
 * fine-tuning and decoding a model, by term, from config.json and the
 * safetensors headers alone (nothing is loaded; see lib/model/estimate.ts).
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { MAX_BATCH, MAX_TOKENS } from "../../data/config.js";

const EstimateSchema = z.strictObject({
  method: z.enum(["lora", "qlora", "full"]).default("lora").describe("training method"),
  quantization: z.enum(["none", "int8", "int4", "nf4", "q8_0"]).optional().describe("storage of the frozen base (default: none; nf4 with --method qlora)"),
  batch: z.number().int().min(1).max(MAX_BATCH).default(1).describe("sequences per training step, and sequences decoded together"),
  seq: z.number().int().min(1).max(MAX_TOKENS).optional().describe("tokens per training sequence, and KV cache positions when decoding (default 512 or the context)"),
  loraRank: z.number().int().min(1).optional().describe("LoRA rank (default 4, as tslm finetune)"),
  lossChunk: z.number().int().min(1).max(MAX_TOKENS).optional().describe("tokens per chunk of the vocabulary loss (default 256)"),
  keepEmbeddingsWide: z.boolean().default(false).describe("keep the embedding and LM head in storage precision on a quantized base"),
  checkpointing: z.boolean().default(true).describe("activation checkpointing"),
  ...JSON_FLAG,
});
export function register(program: Command): void {
  defineCommand(program, {
    name: "estimate",
    description: "Predict peak memory of loading, fine-tuning and decoding a model folder (reads config.json and safetensors headers only).",
    args: [["<model>", "Hugging Face model folder, or a config.json file"]],
    options: EstimateSchema,
    flags: {
      hints: { method: "<m>", quantization: "<q>", loraRank: "<r>" },
      describe: { checkpointing: "estimate training without activation checkpointing (every layer's intermediates kept)" },
    },
    async run(flags, [model]: [string]) {
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
    },
  });
}
