/**
 * The Hugging Face weight names and shapes of a LLaMA-family model, and the
 * PEFT module names of its linear layers. One place, so loading, saving,
 * export and adapters agree.
 */
import type { LlamaConfig } from "../formats/hf-config.js";

/** Projections inside each decoder layer, with their HF module path. */
export const LAYER_PROJECTIONS = [
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
] as const;
export type LayerProjection = (typeof LAYER_PROJECTIONS)[number];

export interface LinearSpec {
  /** PEFT module name: `model.layers.{i}.self_attn.q_proj`, ..., `lm_head`. */
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}

/** Shapes `[out, in]` and biases of one layer's projections. */
export function projectionSpec(cfg: LlamaConfig, layer: number, proj: LayerProjection): LinearSpec {
  const qDim = cfg.numAttentionHeads * cfg.headDim;
  const kvDim = cfg.numKeyValueHeads * cfg.headDim;
  const D = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const name = `model.layers.${layer}.${proj}`;
  switch (proj) {
    case "self_attn.q_proj": return { name, inFeatures: D, outFeatures: qDim, bias: cfg.attentionBias };
    case "self_attn.k_proj": return { name, inFeatures: D, outFeatures: kvDim, bias: cfg.attentionBias };
    case "self_attn.v_proj": return { name, inFeatures: D, outFeatures: kvDim, bias: cfg.attentionBias };
    case "self_attn.o_proj": return { name, inFeatures: qDim, outFeatures: D, bias: cfg.attentionOutBias };
    case "mlp.gate_proj": return { name, inFeatures: D, outFeatures: I, bias: cfg.mlpBias };
    case "mlp.up_proj": return { name, inFeatures: D, outFeatures: I, bias: cfg.mlpBias };
    case "mlp.down_proj": return { name, inFeatures: I, outFeatures: D, bias: cfg.mlpBias };
  }
}

/** Every linear layer in forward order, the LM head last. */
export function linearSpecs(cfg: LlamaConfig): LinearSpec[] {
  const out: LinearSpec[] = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) for (const p of LAYER_PROJECTIONS) out.push(projectionSpec(cfg, l, p));
  out.push({ name: "lm_head", inFeatures: cfg.hiddenSize, outFeatures: cfg.vocabSize, bias: false });
  return out;
}

/** Non-linear weights (embedding and norms) by HF name, with shapes. */
export function normAndEmbeddingShapes(cfg: LlamaConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  m.set("model.embed_tokens.weight", [cfg.vocabSize, cfg.hiddenSize]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    m.set(`model.layers.${l}.input_layernorm.weight`, [cfg.hiddenSize]);
    m.set(`model.layers.${l}.post_attention_layernorm.weight`, [cfg.hiddenSize]);
  }
  m.set("model.norm.weight", [cfg.hiddenSize]);
  return m;
}

/**
 * Every tensor a checkpoint of this config holds, by HF name, with shape.
 * The LM head is absent when tied to the embedding.
 */
export function expectedWeights(cfg: LlamaConfig): Map<string, number[]> {
  const m = normAndEmbeddingShapes(cfg);
  for (const s of linearSpecs(cfg)) {
    if (s.name === "lm_head" && cfg.tieWordEmbeddings) continue;
    m.set(`${s.name}.weight`, [s.outFeatures, s.inFeatures]);
    if (s.bias) m.set(`${s.name}.bias`, [s.outFeatures]);
  }
  return m;
}

/** Parameter count of a config (tied head counted once). */
export function configParameterCount(cfg: LlamaConfig): number {
  let n = 0;
  for (const shape of expectedWeights(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Tensors some checkpoints carry that hold no parameters (old rotary buffers). */
export function isIgnorableTensor(name: string): boolean {
  return /\.rotary_emb\.inv_freq$/.test(name);
}
