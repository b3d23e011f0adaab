/**
 * Randomly initialized models (tests, pretraining from scratch) and a helper
 * that fills a full `LlamaConfig` from the few numbers that matter.
 */
import type { LlamaConfig } from "../formats/hf-config.js";
import { configFromHf, configToHf } from "../formats/hf-config.js";
import type { HostTensor } from "../formats/safetensors.js";
import { ConfigError } from "../util/errors.js";
import { Random } from "../util/random.js";
import { CausalLM } from "./causal-lm.js";
import { expectedWeights } from "./weights.js";

/** What `defineConfig` needs; every other field has a documented default. */
export type ConfigInput = Pick<LlamaConfig, "vocabSize" | "hiddenSize" | "numHiddenLayers" | "numAttentionHeads"> & Partial<LlamaConfig>;

/**
 * A complete config from a few fields. Defaults: `modelType` "llama";
 * `intermediateSize` 8/3 x hidden rounded up to a multiple of 32 (LLaMA's
 * SwiGLU width); `numKeyValueHeads` = heads (no GQA); `headDim` = hidden /
 * heads; `maxPositionEmbeddings` 2048; `rmsNormEps` 1e-6 and `ropeTheta`
 * 10000 (transformers' defaults); untied head; biases as the model type
 * implies (qwen2: q/k/v); no sliding window; no special token ids.
 * @example defineConfig({ vocabSize: 256, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2 })
 */
export function defineConfig(input: ConfigInput): LlamaConfig {
  const hidden = input.hiddenSize;
  const heads = input.numAttentionHeads;
  const json: Record<string, unknown> = {
    model_type: input.modelType ?? "llama",
    vocab_size: input.vocabSize,
    hidden_size: hidden,
    intermediate_size: input.intermediateSize ?? Math.ceil((hidden * 8) / 3 / 32) * 32,
    num_hidden_layers: input.numHiddenLayers,
    num_attention_heads: heads,
    num_key_value_heads: input.numKeyValueHeads ?? heads,
    head_dim: input.headDim ?? hidden / heads,
  };
  // Round-trip through the HF reader so every check (divisibility, GQA) applies.
  const base = configFromHf(json, "(defineConfig)");
  const cfg: LlamaConfig = { ...base, ...stripUndefined(input) } as LlamaConfig;
  if (cfg.modelType === "qwen2" && input.attentionBias === undefined) cfg.attentionBias = true;
  if (cfg.modelType === "qwen2") cfg.attentionOutBias = false;
  else if (input.attentionOutBias === undefined) cfg.attentionOutBias = cfg.attentionBias;
  if (cfg.slidingWindow !== null && cfg.modelType === "llama") {
    throw new ConfigError("slidingWindow needs modelType 'mistral' or 'qwen2' (llama has no sliding window)", { key: "slidingWindow" });
  }
  // Validate the merged result the same way a config.json would be.
  return { ...configFromHf(configToHf(cfg), "(defineConfig)"), torchDtype: cfg.torchDtype };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface CreateModelOptions {
  /** Seed for the initial weights (used when `random` is absent). Default 0. */
  seed?: number;
  /** Random source to draw from instead of `seed`. */
  random?: Random;
  /** Std of the normal init of linear and embedding weights (transformers' `initializer_range`, 0.02). */
  initStd?: number;
}

/**
 * A model with random weights: linear and embedding weights ~ N(0, initStd),
 * biases 0, norm weights 1 (as transformers' `_init_weights`). Same seed,
 * same weights, on every backend.
 */
export function createModel(config: LlamaConfig | ConfigInput, options: CreateModelOptions = {}): CausalLM {
  const cfg = "modelType" in config && "eosTokenIds" in config ? (config as LlamaConfig) : defineConfig(config);
  const rng = options.random ?? new Random(options.seed ?? 0);
  const std = options.initStd ?? 0.02;
  const weights = new Map<string, HostTensor>();
  for (const [name, shape] of expectedWeights(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith("norm.weight")) data.fill(1);
    else if (!name.endsWith(".bias")) for (let i = 0; i < n; i++) data[i] = rng.normal(0, std);
    weights.set(name, { shape, data });
  }
  return new CausalLM(cfg, weights);
}
