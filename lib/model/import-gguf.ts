/**
 * Loads a GGUF file (llama.cpp's format, as tslm's `exportGguf` and
 * llama.cpp's converter write it) as a tslm model: architectures "llama" and
 * "qwen2", F32 / F16 / BF16 / Q8_0 tensors (decoded to float32), and the
 * byte-level BPE tokenizer rebuilt from `tokenizer.ggml.*`. The inverse of
 * export-gguf.ts: llama.cpp names back to Hugging Face's, q/k rows of the
 * "llama" architecture back to rotate_half order. Save the result with
 * `saveModel` to get a Hugging Face folder.
 *
 * Llama 3.1-style rope scaling, which GGUF keeps as per-frequency divisors
 * (`rope_freqs`), is turned back into llama3 parameters that give the same
 * divisors. Refused by name: other architectures, YaRN and other scaling
 * types, and quantization types tslm does not decode.
 */
import { GgufValueType, KEY } from "../formats/gguf-constants.js";
import { readGguf, readGgufTensor, type GgufFile } from "../formats/gguf-reader.js";
import { hfTokenizerFromGguf } from "../formats/gguf-vocab.js";
import { configFromHf } from "../formats/hf-config.js";
import type { HostTensor } from "../formats/safetensors.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import { FormatError } from "../util/errors.js";
import { ensureBackend } from "../tensor/init.js";
import { CausalLM } from "./causal-lm.js";
import { unpermuteFromGgufRope } from "./export-gguf.js";
import { llama3ScalingFromFactors } from "./rope.js";

export interface LoadGgufOptions {
  /** Rebuild the tokenizer from the file's metadata (default true). */
  tokenizer?: boolean;
}

/** Hugging Face's name for a llama.cpp tensor name, or null for names tslm has no place for. */
function hfName(gguf: string): string | null {
  if (gguf === "token_embd.weight") return "model.embed_tokens.weight";
  if (gguf === "output_norm.weight") return "model.norm.weight";
  if (gguf === "output.weight") return "lm_head.weight";
  const m = /^blk\.(\d+)\.(\w+)\.(weight|bias)$/.exec(gguf);
  if (!m) return null;
  const part: Record<string, string> = {
    attn_norm: "input_layernorm", ffn_norm: "post_attention_layernorm",
    attn_q: "self_attn.q_proj", attn_k: "self_attn.k_proj", attn_v: "self_attn.v_proj", attn_output: "self_attn.o_proj",
    ffn_gate: "mlp.gate_proj", ffn_up: "mlp.up_proj", ffn_down: "mlp.down_proj",
  };
  const p = part[m[2]];
  return p ? `model.layers.${m[1]}.${p}.${m[3]}` : null;
}

/**
 * A GGUF file's model as tslm's `CausalLM` (weights in float32), with its
 * tokenizer when the file carries a byte-level BPE one.
 * @example const model = await loadGgufModel("smollm2.gguf"); await saveModel(model, "models/smollm2");
 */
export async function loadGgufModel(file: string, options: LoadGgufOptions = {}): Promise<CausalLM> {
  await ensureBackend();
  const g = readGguf(file);
  const get = (key: string): unknown => {
    const v = g.metadata.get(key);
    if (!v) return undefined;
    return typeof v.value === "bigint" ? Number(v.value) : v.value;
  };
  const config = configFromGguf(g, get);
  const weights = new Map<string, HostTensor>();
  for (const t of g.tensors) {
    if (t.name === "rope_freqs.weight") continue; // read by configFromGguf
    const name = hfName(t.name);
    if (!name) throw new FormatError(`tensor '${t.name}' has no place in a ${get(KEY.architecture)} model tslm runs`, { file, key: t.name, offset: t.infoOffset });
    let data = readGgufTensor(g, t.name);
    if (get(KEY.architecture) === "llama") {
      const heads = name.endsWith("self_attn.q_proj.weight") || name.endsWith("self_attn.q_proj.bias") ? config.numAttentionHeads
        : name.endsWith("self_attn.k_proj.weight") || name.endsWith("self_attn.k_proj.bias") ? config.numKeyValueHeads : 0;
      if (heads) data = t.shape.length === 2 ? unpermuteFromGgufRope(data, t.shape[0], t.shape[1], heads) : unpermuteFromGgufRope(data, data.length, 1, heads);
    }
    weights.set(name, { shape: t.shape, data });
  }
  const model = new CausalLM(config, weights, file);
  if (options.tokenizer !== false) {
    try {
      const tok = hfTokenizerFromGguf(get, file);
      if (tok) model.tokenizer = new Tokenizer(tok.tokenizerJson, tok.tokenizerConfig, null, file);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return model;
}

/** A LlamaConfig from the `<arch>.*` metadata, through the same checks as a config.json. */
function configFromGguf(g: GgufFile, get: (key: string) => unknown): ReturnType<typeof configFromHf> {
  const file = g.file;
  const arch = get(KEY.architecture);
  if (arch !== "llama" && arch !== "qwen2") {
    throw new FormatError(`GGUF architecture '${String(arch)}' is not one tslm runs (llama, qwen2)`, { file, key: KEY.architecture, offset: g.metadata.get(KEY.architecture)?.offset });
  }
  const a = arch as string;
  const need = (key: string): number => {
    const v = get(key);
    if (typeof v !== "number") throw new FormatError(`missing or non-numeric '${key}'`, { file, key });
    return v;
  };
  const scalingType = get(KEY.ropeScalingType(a));
  let ropeScaling: Record<string, unknown> | null = null;
  if (scalingType === "linear") ropeScaling = { rope_type: "linear", factor: need(KEY.ropeScalingFactor(a)) };
  else if (scalingType !== undefined && scalingType !== "none") {
    throw new FormatError(`rope scaling '${String(scalingType)}' cannot be imported (linear only)`, { file, key: KEY.ropeScalingType(a) });
  }
  const embd = g.tensors.find((t) => t.name === "token_embd.weight");
  if (!embd) throw new FormatError("no token_embd.weight tensor", { file, key: "token_embd.weight" });
  const tokens = g.metadata.get(KEY.tokens);
  const heads = need(KEY.headCount(a));
  const hidden = need(KEY.embeddingLength(a));
  const headDim = (get(KEY.keyLength(a)) as number | undefined) ?? hidden / heads;
  const valueDim = get(KEY.valueLength(a));
  if (valueDim !== undefined && valueDim !== headDim) throw new FormatError(`value heads of ${String(valueDim)} differ from key heads of ${headDim}; not supported`, { file, key: KEY.valueLength(a) });
  const ropeDims = get(KEY.ropeDimensionCount(a));
  if (ropeDims !== undefined && ropeDims !== headDim) throw new FormatError(`rotary embedding on ${String(ropeDims)} of ${headDim} head dimensions (partial rotary) is not supported`, { file, key: KEY.ropeDimensionCount(a) });
  const hasBias = g.tensors.some((t) => /^blk\.\d+\.attn_[qkv]\.bias$/.test(t.name));
  if (a === "llama" && hasBias) throw new FormatError("q/k/v biases in a 'llama' GGUF are not supported", { file, key: "blk.0.attn_q.bias" });
  const eos = get(KEY.eosId);
  const bos = get(KEY.bosId);
  const hf: Record<string, unknown> = {
    model_type: a,
    vocab_size: (get(KEY.vocabSize(a)) as number | undefined) ?? (tokens?.type === GgufValueType.ARRAY ? (tokens.value as unknown[]).length : embd.shape[0]),
    hidden_size: hidden,
    intermediate_size: need(KEY.feedForwardLength(a)),
    num_hidden_layers: need(KEY.blockCount(a)),
    num_attention_heads: heads,
    num_key_value_heads: (get(KEY.headCountKv(a)) as number | undefined) ?? heads,
    head_dim: headDim,
    max_position_embeddings: (get(KEY.contextLength(a)) as number | undefined) ?? 2048,
    rms_norm_eps: need(KEY.rmsEps(a)),
    rope_theta: (get(KEY.ropeFreqBase(a)) as number | undefined) ?? 10000,
    rope_scaling: ropeScaling,
    tie_word_embeddings: !g.tensors.some((t) => t.name === "output.weight"),
    bos_token_id: typeof bos === "number" ? bos : null,
    eos_token_id: typeof eos === "number" ? eos : null,
  };
  if (a === "qwen2") hf.use_sliding_window = false;
  const config = configFromHf(hf, file);
  // Llama 3.1-style scaling travels as per-frequency divisors: find the llama3 parameters that give them.
  if (g.tensors.some((t) => t.name === "rope_freqs.weight")) {
    if (ropeScaling) throw new FormatError("both rope_freqs and a rope scaling type: ambiguous", { file, key: "rope_freqs.weight" });
    const s = llama3ScalingFromFactors(config, readGgufTensor(g, "rope_freqs.weight"), file);
    if (s) {
      hf.rope_scaling = { rope_type: "llama3", factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositionEmbeddings };
      return configFromHf(hf, file);
    }
  }
  return config;
}
