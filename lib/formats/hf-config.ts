/**
 * Hugging Face `config.json` for the LLaMA family (`llama`, `mistral`,
 * `qwen2`), read into one typed `LlamaConfig` and written back.
 *
 * Field meanings and defaults follow transformers' `LlamaConfig`,
 * `MistralConfig` and `Qwen2Config` (configuration_*.py). Anything tslm does
 * not implement (another architecture, activation, rope scaling type) is
 * refused by name rather than silently ignored, because a wrong rotary or
 * activation gives a model that loads and talks nonsense.
 */
import { FormatError } from "../util/errors.js";

/** Architectures this module reads (`model_type` in config.json). */
export const SUPPORTED_MODEL_TYPES = ["llama", "mistral", "qwen2"] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Rope scaling types implemented by lib/model/rope.ts. */
export const SUPPORTED_ROPE_SCALING = ["linear", "dynamic", "llama3"] as const;
export type RopeScalingType = (typeof SUPPORTED_ROPE_SCALING)[number];

/**
 * Rotary scaling (`rope_scaling` in config.json), camelCased.
 * - `linear`: positions divided by `factor` (Chen et al. 2023, position interpolation).
 * - `dynamic`: NTK-aware base rescaled once the sequence passes `maxPositionEmbeddings`.
 * - `llama3`: Llama 3.1's per-frequency smoothing (low/high frequency factors).
 */
export interface RopeScaling {
  type: RopeScalingType;
  factor: number;
  /** llama3: context length of the original pretraining. */
  originalMaxPositionEmbeddings?: number;
  /** llama3 (defaults 1 and 4 as in Llama 3.1's config). */
  lowFreqFactor?: number;
  highFreqFactor?: number;
}

/** A LLaMA-family decoder's hyper-parameters (config.json, camelCased). */
export interface LlamaConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  /** SwiGLU inner width. */
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Grouped-query attention: KV heads; equals numAttentionHeads for plain multi-head attention. */
  numKeyValueHeads: number;
  /** Per-head width; hiddenSize / numAttentionHeads unless config.json says otherwise. */
  headDim: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** Output head shares the embedding matrix (no `lm_head.weight` tensor). */
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (qwen2 always; llama's `attention_bias` also puts one on o_proj). */
  attentionBias: boolean;
  /** Bias on o_proj too (llama with attention_bias); false for qwen2. */
  attentionOutBias: boolean;
  /** Bias on gate/up/down (llama's `mlp_bias`). */
  mlpBias: boolean;
  /** Mistral-style sliding window (tokens a query can see), or null for full causal attention. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  /** Every token id that ends generation (config.json may give one id or a list). */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** `torch_dtype` as written by the checkpoint (informational; tslm computes in float32). */
  torchDtype: string | null;
}

/** Defaults for fields config.json may leave out (transformers' class defaults). */
const DEFAULTS = {
  maxPositionEmbeddings: 2048,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
} as const;

type Json = Record<string, unknown>;

function num(json: Json, key: string, file: string | undefined, opts: { integer?: boolean; positive?: boolean; fallback?: number } = {}): number {
  const v = json[key];
  if (v === undefined || v === null) {
    if (opts.fallback !== undefined) return opts.fallback;
    throw new FormatError(`config.json lacks required field '${key}'`, { file, key });
  }
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new FormatError(`config.json field '${key}' must be a number, got ${JSON.stringify(v)}`, { file, key });
  }
  if (opts.integer && !Number.isInteger(v)) throw new FormatError(`config.json field '${key}' must be an integer, got ${v}`, { file, key });
  if (opts.positive && !(v > 0)) throw new FormatError(`config.json field '${key}' must be positive, got ${v}`, { file, key });
  return v;
}

function optId(json: Json, key: string, file: string | undefined): number | null {
  const v = json[key];
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (Array.isArray(v) && v.length > 0 && typeof v[0] === "number") return v[0];
  throw new FormatError(`config.json field '${key}' must be a token id, got ${JSON.stringify(v)}`, { file, key });
}

function idList(json: Json, key: string, file: string | undefined): number[] {
  const v = json[key];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const x of list) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
      throw new FormatError(`config.json field '${key}' must be a token id or a list of them, got ${JSON.stringify(v)}`, { file, key });
    }
  }
  return list as number[];
}

function parseRopeScaling(raw: unknown, file: string | undefined, key: string): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new FormatError(`config.json field '${key}' must be an object, got ${JSON.stringify(raw)}`, { file, key });
  const r = raw as Json;
  const type = (r.rope_type ?? r.type) as unknown;
  if (type === "default" || type === undefined) return null;
  if (typeof type !== "string" || !(SUPPORTED_ROPE_SCALING as readonly string[]).includes(type)) {
    throw new FormatError(
      `rope scaling type ${JSON.stringify(type)} is not supported; tslm implements ${SUPPORTED_ROPE_SCALING.join(", ")}`,
      { file, key: `${key}.rope_type` },
    );
  }
  const out: RopeScaling = { type: type as RopeScalingType, factor: num(r, "factor", file, { positive: true, fallback: 1 }) };
  const opt = (k: string): number | undefined => (r[k] === undefined || r[k] === null ? undefined : num(r, k, file));
  const omp = opt("original_max_position_embeddings");
  if (omp !== undefined) out.originalMaxPositionEmbeddings = omp;
  if (type === "llama3") {
    out.lowFreqFactor = opt("low_freq_factor") ?? 1;
    out.highFreqFactor = opt("high_freq_factor") ?? 4;
    if (out.originalMaxPositionEmbeddings === undefined) {
      throw new FormatError("llama3 rope scaling needs 'original_max_position_embeddings'", { file, key });
    }
  }
  return out;
}

/**
 * Reads a config.json object into a `LlamaConfig`.
 * @param file used in error messages only.
 * @throws FormatError naming the bad or unsupported field.
 * @example configFromHf({ model_type: "llama", vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2 }).headDim === 8
 */
export function configFromHf(json: unknown, file?: string): LlamaConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new FormatError("config.json must hold a JSON object", { file });
  }
  const j = json as Json;
  const modelType = j.model_type;
  if (typeof modelType !== "string" || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new FormatError(
      `model_type ${JSON.stringify(modelType)} is not supported; tslm reads ${SUPPORTED_MODEL_TYPES.join(", ")}`,
      { file, key: "model_type" },
    );
  }
  const act = j.hidden_act ?? j.hidden_activation ?? "silu";
  if (act !== "silu") {
    throw new FormatError(`hidden_act ${JSON.stringify(act)} is not supported; LLaMA-family models use "silu"`, { file, key: "hidden_act" });
  }
  const hiddenSize = num(j, "hidden_size", file, { integer: true, positive: true });
  const numAttentionHeads = num(j, "num_attention_heads", file, { integer: true, positive: true });
  const numKeyValueHeads = num(j, "num_key_value_heads", file, { integer: true, positive: true, fallback: numAttentionHeads });
  const headDim = num(j, "head_dim", file, { integer: true, positive: true, fallback: hiddenSize / numAttentionHeads });
  if (!Number.isInteger(headDim)) {
    throw new FormatError(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads} and no head_dim is given`, { file, key: "head_dim" });
  }
  if (headDim % 2 !== 0) throw new FormatError(`head_dim must be even for rotary embeddings, got ${headDim}`, { file, key: "head_dim" });
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new FormatError(`num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`, { file, key: "num_key_value_heads" });
  }
  const partial = j.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw new FormatError(`partial_rotary_factor ${JSON.stringify(partial)} is not supported (only 1)`, { file, key: "partial_rotary_factor" });
  }
  // transformers v5 moves rope_theta and the scaling into `rope_parameters`.
  const ropeParams = (j.rope_parameters ?? null) as Json | null;
  const ropeTheta = ropeParams && typeof ropeParams === "object" && ropeParams.rope_theta !== undefined
    ? num(ropeParams, "rope_theta", file, { positive: true })
    : num(j, "rope_theta", file, { positive: true, fallback: DEFAULTS.ropeTheta });
  const ropeScaling = j.rope_scaling !== undefined && j.rope_scaling !== null
    ? parseRopeScaling(j.rope_scaling, file, "rope_scaling")
    : parseRopeScaling(ropeParams, file, "rope_parameters");

  const isQwen = modelType === "qwen2";
  const attentionBias = isQwen ? true : j.attention_bias === true;
  let slidingWindow: number | null = null;
  if (modelType === "mistral" || (isQwen && j.use_sliding_window === true)) {
    const sw = j.sliding_window;
    if (sw !== undefined && sw !== null) slidingWindow = num(j, "sliding_window", file, { integer: true, positive: true });
  }
  if (isQwen && j.use_sliding_window === true && typeof j.max_window_layers === "number" && j.max_window_layers < num(j, "num_hidden_layers", file)) {
    throw new FormatError("qwen2 with sliding window on only some layers (max_window_layers) is not supported", { file, key: "max_window_layers" });
  }
  return {
    modelType: modelType as ModelType,
    vocabSize: num(j, "vocab_size", file, { integer: true, positive: true }),
    hiddenSize,
    intermediateSize: num(j, "intermediate_size", file, { integer: true, positive: true }),
    numHiddenLayers: num(j, "num_hidden_layers", file, { integer: true, positive: true }),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    maxPositionEmbeddings: num(j, "max_position_embeddings", file, { integer: true, positive: true, fallback: DEFAULTS.maxPositionEmbeddings }),
    rmsNormEps: num(j, "rms_norm_eps", file, { positive: true, fallback: DEFAULTS.rmsNormEps }),
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: j.tie_word_embeddings === true,
    attentionBias,
    attentionOutBias: !isQwen && attentionBias,
    mlpBias: j.mlp_bias === true,
    slidingWindow,
    bosTokenId: optId(j, "bos_token_id", file),
    eosTokenIds: idList(j, "eos_token_id", file),
    padTokenId: optId(j, "pad_token_id", file),
    torchDtype: typeof j.torch_dtype === "string" ? j.torch_dtype : typeof j.dtype === "string" ? j.dtype : null,
  };
}

/** Writes a `LlamaConfig` as a config.json object transformers can load. */
export function configToHf(cfg: LlamaConfig): Record<string, unknown> {
  const arch = { llama: "LlamaForCausalLM", mistral: "MistralForCausalLM", qwen2: "Qwen2ForCausalLM" }[cfg.modelType];
  const out: Record<string, unknown> = {
    architectures: [arch],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    head_dim: cfg.headDim,
    hidden_act: "silu",
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: cfg.ropeScaling ? ropeScalingToHf(cfg.ropeScaling) : null,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds.length === 0 ? null : cfg.eosTokenIds,
    pad_token_id: cfg.padTokenId,
    initializer_range: 0.02,
    use_cache: true,
  };
  if (cfg.torchDtype !== null) out.torch_dtype = cfg.torchDtype;
  if (cfg.modelType === "llama") {
    out.attention_bias = cfg.attentionBias;
    out.mlp_bias = cfg.mlpBias;
  }
  if (cfg.modelType === "mistral") out.sliding_window = cfg.slidingWindow;
  if (cfg.modelType === "qwen2") {
    out.use_sliding_window = cfg.slidingWindow !== null;
    out.sliding_window = cfg.slidingWindow;
  }
  return out;
}

function ropeScalingToHf(s: RopeScaling): Record<string, unknown> {
  const out: Record<string, unknown> = { rope_type: s.type, factor: s.factor };
  if (s.originalMaxPositionEmbeddings !== undefined) out.original_max_position_embeddings = s.originalMaxPositionEmbeddings;
  if (s.lowFreqFactor !== undefined) out.low_freq_factor = s.lowFreqFactor;
  if (s.highFreqFactor !== undefined) out.high_freq_factor = s.highFreqFactor;
  return out;
}
