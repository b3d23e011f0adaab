/**
 * Exports a model to GGUF for llama.cpp (and Ollama, LM Studio...).
 *
 * `llama` and `mistral` become GGUF architecture "llama", `qwen2` becomes
 * "qwen2". Tensor names follow llama.cpp (`token_embd`, `blk.N.attn_q`, ...).
 * HF `[out, in]` arrays are written row-major with dims reversed. For the
 * "llama" architecture q/k rows are permuted because llama.cpp rotates
 * adjacent pairs (2i, 2i+1) while Hugging Face's rotate_half pairs
 * (i, i + d/2) (the permutation of llama.cpp's convert_hf_to_gguf.py);
 * "qwen2" uses the NeoX rotation in llama.cpp, which is rotate_half, so no
 * permutation. 1-D tensors (norms, biases) stay F32; Q8_0 needs rows that
 * are multiples of 32 and falls back to F16 for others.
 */
import { basename } from "node:path";
import { GgmlType, KEY, LLAMA_FILE_TYPE, GgufValueType } from "../formats/gguf-constants.js";
import { encodeGgml, Q8_0_BLOCK } from "../formats/gguf-quant.js";
import { ggufVocabFromHf, placeholderVocab } from "../formats/gguf-vocab.js";
import { GgufWriter, type GgufValue } from "../formats/gguf-writer.js";
import type { HostTensor } from "../formats/safetensors.js";
import { TslmError } from "../util/errors.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { CausalLM } from "./causal-lm.js";
import { ropeFrequencyFactors } from "./rope.js";

export type GgufExportType = "f32" | "f16" | "q8_0";

export interface ExportGgufOptions {
  /** Storage of 2-D weights (default "f16", llama.cpp's usual export). */
  type?: GgufExportType;
  /** Tokenizer to embed (default `model.tokenizer`); without one, placeholder tokens are written. */
  tokenizer?: Tokenizer | null;
  /** `general.name` (default the output file's base name). */
  name?: string;
}

export interface ExportGgufResult {
  file: string;
  bytes: number;
  architecture: string;
  tensors: number;
  /** Tensors stored in another type than asked (e.g. Q8_0 rows not a multiple of 32). */
  fallbacks: string[];
  warnings: string[];
}

/**
 * Moves q/k rows between Hugging Face's rotate_half pairing (i, i + d/2) and
 * GGUF's adjacent pairing (2i, 2i+1): per head, rows (2, d/2) <-> (d/2, 2).
 */
function permuteRopeRows(w: Float32Array, outRows: number, inCols: number, heads: number, toGguf: boolean): Float32Array {
  const perHead = outRows / heads;
  const half = perHead / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const hf = h * perHead + j * half + i;
        const gguf = h * perHead + i * 2 + j;
        const [src, dst] = toGguf ? [hf, gguf] : [gguf, hf];
        out.set(w.subarray(src * inCols, (src + 1) * inCols), dst * inCols);
      }
    }
  }
  return out;
}

/** Reorders q/k rows from rotate_half pairing to adjacent pairing: per head, (2, rows/2) -> (rows/2, 2). */
export function permuteForGgufRope(w: Float32Array, outRows: number, inCols: number, heads: number): Float32Array {
  return permuteRopeRows(w, outRows, inCols, heads, true);
}

/** Inverse of `permuteForGgufRope` (GGUF adjacent pairs back to rotate_half order). */
export function unpermuteFromGgufRope(w: Float32Array, outRows: number, inCols: number, heads: number): Float32Array {
  return permuteRopeRows(w, outRows, inCols, heads, false);
}

/** Same permutation for a bias vector. */
function permuteBias(b: Float32Array, heads: number): Float32Array {
  return permuteForGgufRope(b, b.length, 1, heads);
}

const GGML_OF: Record<GgufExportType, GgmlType> = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 };

/** llama.cpp's name for an HF tensor name. */
function ggufName(hf: string): string {
  if (hf === "model.embed_tokens.weight") return "token_embd.weight";
  if (hf === "model.norm.weight") return "output_norm.weight";
  if (hf === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) throw new TslmError(`no GGUF name for tensor '${hf}'`, { key: hf });
  const part: Record<string, string> = {
    input_layernorm: "attn_norm", post_attention_layernorm: "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
  };
  const p = part[m[2]];
  if (!p) throw new TslmError(`no GGUF name for tensor '${hf}'`, { key: hf });
  return `blk.${m[1]}.${p}.${m[3]}`;
}

/**
 * Writes `model` to `file` as GGUF (atomically).
 * @example exportGguf(model, "model.gguf", { type: "q8_0" })
 */
export function exportGguf(model: CausalLM, file: string, options: ExportGgufOptions = {}): ExportGgufResult {
  const cfg = model.config;
  const type = options.type ?? "f16";
  if (!(type in GGML_OF)) throw new TslmError(`GGUF export type must be f32, f16 or q8_0, got ${JSON.stringify(type)}`);
  const arch = cfg.modelType === "qwen2" ? "qwen2" : "llama";
  const warnings: string[] = [];
  if (cfg.ropeScaling?.type === "dynamic") throw new TslmError("llama.cpp has no dynamic-NTK rope scaling; export refused (it would compute different outputs)");
  if (cfg.mlpBias || cfg.attentionOutBias) throw new TslmError(`GGUF ${arch} export does not carry ${cfg.mlpBias ? "MLP" : "o_proj"} biases; export refused`);
  if (arch === "llama" && cfg.attentionBias) throw new TslmError("GGUF llama export does not carry q/k/v biases; export refused");
  if (cfg.slidingWindow !== null && cfg.slidingWindow < cfg.maxPositionEmbeddings) {
    warnings.push(`sliding window ${cfg.slidingWindow} is not written: llama.cpp attends to the full context`);
  }
  const tokenizer = options.tokenizer === undefined ? model.tokenizer : options.tokenizer;
  const vocab = tokenizer
    ? ggufVocabFromHf(tokenizer.tokenizerJson, tokenizer.config, cfg.vocabSize, { eosTokenIds: cfg.eosTokenIds, bosTokenId: cfg.bosTokenId })
    : placeholderVocab(cfg.vocabSize);
  warnings.push(...vocab.warnings);

  const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value });
  const w = new GgufWriter(file);
  try {
    w.addKeyValue(KEY.architecture, { type: GgufValueType.STRING, value: arch });
    w.addKeyValue(KEY.name, { type: GgufValueType.STRING, value: options.name ?? basename(file).replace(/\.gguf$/i, "") });
    w.addKeyValue(KEY.fileType, u32(LLAMA_FILE_TYPE[type]));
    if (type === "q8_0") w.addKeyValue(KEY.quantizationVersion, u32(2));
    // The architecture's hyper-parameters, in llama.cpp's key order (u32 unless noted).
    const sizes: Array<[(a: string) => string, number]> = [
      [KEY.contextLength, cfg.maxPositionEmbeddings],
      [KEY.embeddingLength, cfg.hiddenSize],
      [KEY.blockCount, cfg.numHiddenLayers],
      [KEY.feedForwardLength, cfg.intermediateSize],
      [KEY.headCount, cfg.numAttentionHeads],
      [KEY.headCountKv, cfg.numKeyValueHeads],
      // Only where head_dim is not hidden / heads (Mistral-style configs).
      ...(cfg.headDim * cfg.numAttentionHeads !== cfg.hiddenSize ? ([[KEY.keyLength, cfg.headDim], [KEY.valueLength, cfg.headDim]] as Array<[(a: string) => string, number]>) : []),
      [KEY.ropeDimensionCount, cfg.headDim],
    ];
    for (const [key, value] of sizes) w.addKeyValue(key(arch), u32(value));
    w.addKeyValue(KEY.rmsEps(arch), f32(cfg.rmsNormEps));
    w.addKeyValue(KEY.ropeFreqBase(arch), f32(cfg.ropeTheta));
    w.addKeyValue(KEY.vocabSize(arch), u32(cfg.vocabSize));
    if (cfg.ropeScaling?.type === "linear") {
      w.addKeyValue(KEY.ropeScalingType(arch), { type: GgufValueType.STRING, value: "linear" });
      w.addKeyValue(KEY.ropeScalingFactor(arch), f32(cfg.ropeScaling.factor));
    }
    for (const [k, v] of vocab.entries) w.addKeyValue(k, v);

    // Tensors in llama.cpp's usual order: embedding, layers, output norm, head.
    const host = model.weightsToHost();
    const plan: { name: string; shape: number[]; type: GgmlType; data: Float32Array }[] = [];
    const fallbacks: string[] = [];
    const add = (hfName: string, t: HostTensor) => {
      let data = t.data as Float32Array;
      const name = ggufName(hfName);
      if (arch === "llama") {
        const heads = /self_attn\.q_proj/.test(hfName) ? cfg.numAttentionHeads : /self_attn\.k_proj/.test(hfName) ? cfg.numKeyValueHeads : 0;
        if (heads) data = t.shape.length === 2 ? permuteForGgufRope(data, t.shape[0], t.shape[1], heads) : permuteBias(data, heads);
      }
      let gt = t.shape.length === 1 ? GgmlType.F32 : GGML_OF[type];
      if (gt === GgmlType.Q8_0 && t.shape[t.shape.length - 1] % Q8_0_BLOCK !== 0) {
        gt = GgmlType.F16;
        fallbacks.push(`${name}: rows of ${t.shape[t.shape.length - 1]} are not a multiple of ${Q8_0_BLOCK}; stored F16`);
      }
      plan.push({ name, shape: t.shape, type: gt, data });
    };
    add("model.embed_tokens.weight", host.get("model.embed_tokens.weight")!);
    if (cfg.ropeScaling?.type === "llama3") {
      plan.push({ name: "rope_freqs.weight", shape: [cfg.headDim / 2], type: GgmlType.F32, data: ropeFrequencyFactors(cfg) });
    }
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      for (const [n, t] of host) if (n.startsWith(`model.layers.${l}.`)) add(n, t);
    }
    add("model.norm.weight", host.get("model.norm.weight")!);
    if (!cfg.tieWordEmbeddings) add("lm_head.weight", host.get("lm_head.weight")!);
    for (const p of plan) w.addTensorInfo(p.name, p.shape, p.type);
    for (const p of plan) w.writeTensorData(p.name, encodeGgml(p.data, p.type));
    const bytes = w.finish();
    return { file, bytes, architecture: arch, tensors: plan.length, fallbacks, warnings };
  } catch (e) {
    if (w.currentState !== "done") w.abort();
    throw e;
  }
}
