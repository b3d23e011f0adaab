/**
 * Prepares a loaded model for a training method: quantizes the frozen base
 * (QLoRA), attaches LoRA, and lists the trainable parameters under stable
 * names (the names checkpoints and optimizer state use).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../model/causal-lm.js";
import { LoraModel } from "../model/lora-model.js";
import { quantizeModel, baseMemory, type BaseMemoryReport } from "../model/quantize-model.js";
import { ConfigError } from "../util/errors.js";
import type { TrainConfig } from "./config.js";
import type { Param } from "./optimizer.js";
import { checkLoraRank } from "../model/limits.js";
import type { WeightStorage } from "../model/causal-lm.js";
import type { LlamaConfig } from "../formats/hf-config.js";

export interface PreparedModel {
  model: CausalLM;
  /** Present for method "lora". */
  lora?: LoraModel;
  params: Param[];
  quantizedLayers: number;
  /** Layers left in float32 (4-bit needs input widths that are multiples of 64). */
  unquantizedLayers: string[];
  memory: BaseMemoryReport;
}

/** A model variable's Hugging Face name (variables are named `m<id>/<hf name>`). */
export function stableName(v: tf.Variable): string {
  const i = v.name.indexOf("/");
  return i >= 0 ? v.name.slice(i + 1) : v.name;
}

/**
 * How a training run loads its base: LoRA keeps the frozen base in its
 * storage precision (a BF16 checkpoint stays 16-bit) or quantizes it while
 * loading (QLoRA), one tensor at a time; full fine-tuning trains float32
 * weights. The embedding and LM head stay as stored under QLoRA.
 */
export function baseStorage(cfg: TrainConfig): WeightStorage {
  if (cfg.method === "full") return { base: "float32" };
  return cfg.quantization === "none" ? { base: "stored" } : { base: cfg.quantization, wideEmbeddings: true };
}

/** Bytes of activations a layer keeps per token and per hidden unit without checkpointing (measured: ~12.2 MB a token on the 24-layer, 896-wide Qwen2.5-0.5B shape). */
const ACTIVATION_BYTES_PER_TOKEN_UNIT = 570;
/** Activations of a micro-batch above which checkpointing is worth its extra forward pass. */
const CHECKPOINT_ABOVE_BYTES = 2 ** 30;

/**
 * Whether activation checkpointing pays for a run: on where a micro-batch's
 * activations would pass 1 GiB (a 0.5B model at 2 x 512), off for small
 * models, where memory is plentiful and recomputing costs ~25-45% of a step.
 */
export function checkpointingPays(config: LlamaConfig, cfg: TrainConfig): boolean {
  const tokens = cfg.batchSize * cfg.data.maxLength;
  return tokens * config.numHiddenLayers * config.hiddenSize * ACTIVATION_BYTES_PER_TOKEN_UNIT > CHECKPOINT_ABOVE_BYTES;
}

/**
 * Quantizes (when configured) and attaches LoRA (method "lora") or unfreezes
 * every weight (method "full").
 * @throws ConfigError for quantization with full fine-tuning.
 */
export function prepareModel(model: CausalLM, cfg: TrainConfig): PreparedModel {
  if (cfg.method === "full" && cfg.quantization !== "none") {
    throw new ConfigError(`quantization '${cfg.quantization}' freezes the base, which full fine-tuning trains; use method 'lora' (QLoRA) or quantization 'none'`, { key: "quantization" });
  }
  // Before quantizing (seconds at real sizes): an impossible rank fails at once.
  if (cfg.method === "lora") checkLoraRank(model.config, cfg.lora);
  model.setGradientCheckpointing(cfg.gradientCheckpointing === "on" || (cfg.gradientCheckpointing === "auto" && checkpointingPays(model.config, cfg)));
  const q = quantizeModel(model, cfg.quantization);
  const quantizedLayers = q.quantized;
  const unquantizedLayers = q.skipped;
  if (cfg.method === "lora") {
    const lora = new LoraModel(model, cfg.lora, { seed: cfg.seed });
    const params = lora.trainableVariables().map((p) => ({ name: p.name, variable: p.variable }));
    return { model, lora, params, quantizedLayers, unquantizedLayers, memory: baseMemory(model) };
  }
  for (const v of model.variables()) v.trainable = true;
  const params = model.trainableVariables().map((v) => ({ name: stableName(v), variable: v }));
  return { model, params, quantizedLayers, unquantizedLayers, memory: baseMemory(model) };
}
