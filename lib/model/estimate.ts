/**
 * Resident memory of loading, fine-tuning and decoding a model, predicted
 * before anything is loaded: from config.json and the safetensors headers
 * (tensor dtypes and shapes; no tensor data is read).
 *
 * It models the memory design tslm is built towards (see issue "Real models
 * at real scale"):
 * - weights stay in their storage precision (BF16/F16 two bytes, F32 four);
 *   a quantized base keeps every matrix packed, the embedding and an untied
 *   LM head included unless `keepEmbeddingsWide`;
 * - LoRA adapters, their gradients and AdamW's two moments are float32;
 *   full fine-tuning keeps float32 master weights, gradients and two moments;
 * - training checkpoints activations per layer: one `[B, T, hidden]` per
 *   layer stays, and one layer's intermediates are recomputed and alive
 *   during its backward pass;
 * - the loss runs over the vocabulary in chunks of `lossChunkTokens` tokens;
 * - decoding keeps a float32 KV cache of `batch` sequences of `seq` positions;
 * - loading streams tensor by tensor, so only the largest tensor is staged.
 *
 * Every constant sits in `MEMORY_CONSTANTS`, so the model can be calibrated
 * against measured peaks (pass `constants` to override some).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { checkpointSummary, INDEX_FILE } from "../formats/checkpoint.js";
import { configFromHf, type LlamaConfig } from "../formats/hf-config.js";
import { SAFETENSORS_DTYPE_BYTES } from "../formats/safetensors.js";
import { ConfigError, FormatError } from "../util/errors.js";
import { readJsonFile } from "../util/files.js";
import { checkLoraRank, contextLength } from "./limits.js";
import { formatCount } from "./memory.js";
import { DEFAULT_LORA, isTargetModule, type LoraConfig } from "./lora-model.js";
import { configParameterCount, expectedWeights, isIgnorableTensor, linearSpecs } from "./weights.js";

/** Training methods: LoRA on a frozen base, LoRA on a quantized base (QLoRA), every weight. */
export type EstimateMethod = "lora" | "qlora" | "full";
export const ESTIMATE_METHODS: readonly EstimateMethod[] = ["lora", "qlora", "full"];

/** Storage of the frozen base: as stored, or packed. */
export type EstimateQuantization = "none" | "int8" | "int4" | "nf4" | "q8_0";
export const ESTIMATE_QUANTIZATIONS: readonly EstimateQuantization[] = ["none", "int8", "int4", "nf4", "q8_0"];

/**
 * The constants of the memory model, in one place. Values marked "measured"
 * were measured on this project's machine; the others follow from the
 * layouts and are the ones to calibrate against measured peaks.
 */
export interface MemoryConstants {
  /** Bytes of float32: adapters, master weights, gradients, optimizer moments, activations, logits, KV cache. */
  float32Bytes: number;
  /** Optimizer state per trainable parameter, in float32 values (AdamW: first and second moment). */
  adamMoments: number;
  /** 4-bit kinds (int4, nf4): elements per block sharing one float32 scale (lib/model/quant.ts, QLoRA's 64). */
  quantBlock: number;
  /** Bytes of one 4-bit block's scale (float32). */
  quantScaleBytes: number;
  /** Q8_0: elements per block and bytes per block (32 int8 + one f16 scale = 34: 1.0625 bytes per weight, GGML's layout). */
  q8Block: number;
  q8BlockBytes: number;
  /** int8: one float32 scale per output row (lib/model/quant.ts). */
  int8RowScaleBytes: number;
  /** Loading: buffers of the largest tensor's stored size alive at once (read before it is stored or packed). */
  stagingReadCopies: number;
  /**
   * Loading a quantized base: the largest tensor held as float32 while it is
   * packed, as a fraction of it. 0 models quantizing block by block straight
   * from the stored bytes (the streaming design); 1 models expanding the
   * whole tensor to float32 first.
   */
  stagingFloat32Fraction: number;
  /** Activation checkpointing: `[B, T, hidden]` tensors kept per layer for the backward pass (the layer's input). */
  checkpointsPerLayer: number;
  /** Backward through one layer: its recomputed forward intermediates plus their gradients, as multiples of the intermediates. */
  layerBackwardFactor: number;
  /** Attention tensors of `[B, heads, T, T]` alive per layer: scores and softmax probabilities. */
  attentionScoreCopies: number;
  /** Logits-sized tensors alive while one loss chunk is computed: logits, log-softmax, their gradient. */
  lossChunkCopies: number;
  /** Decoding: copies of the last position's logits per row (on the device and downloaded for sampling). */
  decodeLogitsCopies: number;
  /** Node.js, V8, TF.js and the native addon with nothing loaded (measured: 109 MB after `init()` on the native backend). */
  runtimeBaseBytes: number;
  /** The tokenizer in memory per vocabulary entry (measured: Qwen3's 151,669 entries 128 MB, Llama 3's 128,256 158 MB). */
  tokenizerBytesPerToken: number;
  /** Allocator slack, fragmentation and short-lived copies, as a fraction of all other terms. */
  allocatorSlack: number;
}

export const MEMORY_CONSTANTS: Readonly<MemoryConstants> = Object.freeze({
  float32Bytes: 4,
  adamMoments: 2,
  quantBlock: 64,
  quantScaleBytes: 4,
  q8Block: 32,
  q8BlockBytes: 34,
  int8RowScaleBytes: 4,
  stagingReadCopies: 1,
  stagingFloat32Fraction: 0,
  checkpointsPerLayer: 1,
  layerBackwardFactor: 2,
  attentionScoreCopies: 2,
  lossChunkCopies: 3,
  decodeLogitsCopies: 2,
  runtimeBaseBytes: 110e6,
  tokenizerBytesPerToken: 1000,
  allocatorSlack: 0.05,
});

/** One phase's memory, by term (bytes). */
export interface MemoryTerms {
  /** Model weights as resident: storage precision or packed (a quantized base), float32 master weights in full fine-tuning. */
  weights: number;
  /** LoRA A and B matrices (float32). */
  adapters: number;
  /** Optimizer state: AdamW's two float32 moments per trainable parameter. */
  optimizer: number;
  /** Float32 gradients of the trainable parameters. */
  gradients: number;
  /** Activations: checkpoints and one layer's intermediates (training), one layer of the prompt's prefill (decoding). */
  activations: number;
  /** Logits: one loss chunk's (training), the last position's per row (decoding). */
  logits: number;
  /** Float32 keys and values of every layer for `batch` sequences of `seq` positions (decoding). */
  kvCache: number;
  /** Loading: the largest tensor as read from disk (and any float32 copy of it while it is packed). */
  staging: number;
  /** Runtime (Node.js, TF.js, the native addon), the tokenizer, and allocator slack on everything else. */
  overhead: number;
}

export const MEMORY_TERMS: readonly (keyof MemoryTerms)[] = ["weights", "adapters", "optimizer", "gradients", "activations", "logits", "kvCache", "staging", "overhead"];

export interface PhaseEstimate {
  /** Sum of the terms: the predicted peak resident memory of the phase, in bytes. */
  total: number;
  terms: MemoryTerms;
}

export interface EstimateOptions {
  /** Training method (default "lora"). */
  method?: EstimateMethod;
  /** Storage of the frozen base (default "none"; "nf4" with method "qlora"). */
  quantization?: EstimateQuantization;
  /** Sequences per training step and sequences decoded together (default 1). */
  batch?: number;
  /** Tokens per training sequence, and positions of the KV cache when decoding (default 512, or the context if smaller). */
  seq?: number;
  /** LoRA rank and targets (default: lib/model's DEFAULT_LORA, every linear layer but the head). */
  lora?: Partial<Pick<LoraConfig, "r" | "targetModules" | "dropout">>;
  /** Keep the embedding and LM head in storage precision on a quantized base (default false: packed too). */
  keepEmbeddingsWide?: boolean;
  /** Tokens per chunk of the vocabulary loss (default 256: a 151,936-wide float32 chunk is 156 MB). */
  lossChunkTokens?: number;
  /** Activation checkpointing per layer while training (default true); false keeps every layer's intermediates. */
  activationCheckpointing?: boolean;
  /** Overrides of the model's constants (for calibration). */
  constants?: Partial<MemoryConstants>;
}

export interface MemoryEstimate {
  model: {
    /** The folder or config.json read, or "(config)" for a config object. */
    source: string;
    modelType: string;
    /** Parameters of the architecture (tied head counted once). */
    parameters: number;
    /** Parameters by storage dtype as found in the safetensors headers (or config.json's torch_dtype). */
    storage: Record<string, number>;
    /** Bytes of the safetensors files, or null when the folder has none. */
    fileBytes: number | null;
    contextLength: number;
  };
  settings: {
    method: EstimateMethod;
    quantization: EstimateQuantization;
    batch: number;
    seq: number;
    loraRank: number | null;
    lossChunkTokens: number;
    activationCheckpointing: boolean;
    keepEmbeddingsWide: boolean;
  };
  /** Parameters the optimizer updates (adapters, or every weight). */
  trainableParameters: number;
  load: PhaseEstimate;
  train: PhaseEstimate;
  decode: PhaseEstimate;
  /** Largest of the three totals. */
  peak: number;
  constants: MemoryConstants;
  notes: string[];
}

const DEFAULT_SEQ = 512;
const DEFAULT_LOSS_CHUNK = 256;

/** One tensor the model keeps: HF name, shape, storage dtype. */
interface TensorInfo {
  name: string;
  shape: number[];
  dtype: string;
}

function positiveInt(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${key} must be a positive integer, got ${value}`, { key });
  return value;
}

/** config.json's torch_dtype as a safetensors dtype (float32 when absent). */
function dtypeOfTorch(torchDtype: string | null): string {
  const t = (torchDtype ?? "float32").replace(/^torch\./, "");
  if (t === "bfloat16") return "BF16";
  if (t === "float16" || t === "half") return "F16";
  return "F32";
}

/** Reads a model folder's (or a config.json file's) config and the dtypes of its tensors, without tensor data. */
function readSource(source: string | LlamaConfig): { cfg: LlamaConfig; tensors: TensorInfo[]; fileBytes: number | null; name: string; notes: string[] } {
  const notes: string[] = [];
  let cfg: LlamaConfig;
  let dir: string | null = null;
  let name = "(config)";
  if (typeof source === "string") {
    if (!existsSync(source)) throw new ConfigError(`${source} does not exist (give a model folder or a config.json)`, { file: source });
    const isDir = statSync(source).isDirectory();
    dir = isDir ? source : dirname(source);
    const file = isDir ? join(source, "config.json") : source;
    if (!existsSync(file)) throw new FormatError("no config.json in the model folder", { file: source });
    cfg = configFromHf(readJsonFile(file), file);
    name = source;
    if (!isDir && basename(file) !== "config.json") dir = null;
  } else cfg = source;

  const expected = expectedWeights(cfg);
  const stored = new Map<string, { dtype: string; shape: number[] }>();
  let fileBytes: number | null = null;
  const hasWeights = dir !== null && (existsSync(join(dir, INDEX_FILE)) || readdirSync(dir).some((f) => f.endsWith(".safetensors")));
  if (hasWeights) {
    const summary = checkpointSummary(dir!);
    fileBytes = [...new Set(summary.map((t) => t.file))].reduce((n, f) => n + statSync(f).size, 0);
    for (const t of summary) {
      if (isIgnorableTensor(t.name)) continue;
      const shape = expected.get(t.name);
      if (!shape) {
        if (t.name === "lm_head.weight" && cfg.tieWordEmbeddings) continue; // a stored copy of the tied head is not loaded
        throw new FormatError(`unexpected tensor '${t.name}' for a ${cfg.modelType} model with this config`, { file: t.file, key: t.name });
      }
      if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
        throw new FormatError(`tensor '${t.name}' has shape ${JSON.stringify(t.shape)}, config.json implies ${JSON.stringify(shape)}`, { file: t.file, key: t.name });
      }
      stored.set(t.name, { dtype: t.dtype, shape: t.shape });
    }
  } else {
    notes.push(`no safetensors found: storage precision taken from config.json's torch_dtype (${cfg.torchDtype ?? "absent: float32"})`);
  }
  const fallback = dtypeOfTorch(cfg.torchDtype);
  const tensors: TensorInfo[] = [];
  for (const [n, shape] of expected) {
    const s = stored.get(n);
    if (hasWeights && !s) throw new FormatError(`missing tensor '${n}'`, { file: dir!, key: n });
    tensors.push({ name: n, shape, dtype: s?.dtype ?? fallback });
  }
  return { cfg, tensors, fileBytes, name, notes };
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Bytes of a `[rows, cols]` matrix packed as `kind`, or null when the kind cannot pack it (4-bit needs cols divisible by the block). */
function packedBytes(rows: number, cols: number, kind: Exclude<EstimateQuantization, "none">, k: MemoryConstants): number | null {
  const n = rows * cols;
  switch (kind) {
    case "int8":
      return n + rows * k.int8RowScaleBytes;
    case "int4":
    case "nf4":
      return cols % k.quantBlock === 0 ? n / 2 + (n / k.quantBlock) * k.quantScaleBytes : null;
    case "q8_0":
      return cols % k.q8Block === 0 ? (n / k.q8Block) * k.q8BlockBytes : null;
  }
}

/**
 * Float32 values one decoder layer keeps per token: its forward
 * intermediates (norms, projections, rotated q/k, attention scores over
 * `attended` positions, attention output, residuals, the SwiGLU's four
 * `[T, intermediate]` tensors) and, with LoRA, each adapted projection's
 * dropped-out input and `A x`.
 */
function layerFloatsPerToken(cfg: LlamaConfig, attended: number, k: MemoryConstants, lora: { r: number; dropout: boolean; targets: { inFeatures: number }[] } | null): number {
  const D = cfg.hiddenSize;
  const q = cfg.numAttentionHeads * cfg.headDim;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const norms = 2 * D; // input and post-attention RMSNorm outputs
  const attention = q + 2 * kv + (q + kv) + q + k.attentionScoreCopies * cfg.numAttentionHeads * attended; // q, k, v; rotated q, k; output; scores and probabilities
  const residuals = 4 * D; // o_proj and down_proj outputs, two residual sums
  const mlp = 4 * cfg.intermediateSize; // gate, up, silu(gate), silu(gate) * up
  let adapters = 0;
  if (lora) for (const t of lora.targets) adapters += lora.r + (lora.dropout ? t.inFeatures : 0);
  return norms + attention + residuals + mlp + adapters;
}

/** Runtime, tokenizer and allocator slack over the other terms of a phase. */
function withOverhead(terms: Omit<MemoryTerms, "overhead">, cfg: LlamaConfig, k: MemoryConstants): PhaseEstimate {
  const rest = Object.values(terms).reduce((a, b) => a + b, 0);
  const overhead = Math.round(k.runtimeBaseBytes + cfg.vocabSize * k.tokenizerBytesPerToken + rest * k.allocatorSlack);
  const all: MemoryTerms = { ...terms, overhead };
  return { total: rest + overhead, terms: all };
}

/** The method and quantization of an estimate, checked against each other. */
function methodOf(options: EstimateOptions): { method: EstimateMethod; quantization: EstimateQuantization } {
  const method = options.method ?? "lora";
  if (!ESTIMATE_METHODS.includes(method)) throw new ConfigError(`method must be one of ${ESTIMATE_METHODS.join(", ")}, got ${JSON.stringify(method)}`, { key: "method" });
  const quantization = options.quantization ?? (method === "qlora" ? "nf4" : "none");
  if (!ESTIMATE_QUANTIZATIONS.includes(quantization)) {
    throw new ConfigError(`quantization must be one of ${ESTIMATE_QUANTIZATIONS.join(", ")}, got ${JSON.stringify(quantization)}`, { key: "quantization" });
  }
  if (method === "qlora" && quantization === "none") throw new ConfigError("method 'qlora' trains on a quantized base; give a quantization (nf4, int4, int8, q8_0) or use method 'lora'", { key: "quantization" });
  if (method === "full" && quantization !== "none") {
    throw new ConfigError(`quantization '${quantization}' freezes the base, which full fine-tuning trains; use method 'lora' (QLoRA) or quantization 'none'`, { key: "quantization" });
  }
  return { method, quantization };
}

/** Bytes the weights take once loaded, the largest transient buffer of the load, and stored elements per dtype. */
function residentWeights(cfg: LlamaConfig, tensors: ReturnType<typeof readSource>["tensors"], quantization: EstimateQuantization, keepWide: boolean, k: MemoryConstants, notes: string[]) {
  const isLinear = new Set(linearSpecs(cfg).map((s) => `${s.name}.weight`));
  const isWide = (n: string) => n === "model.embed_tokens.weight" || n === "lm_head.weight";
  const storage: Record<string, number> = {};
  let residentBytes = 0;
  let largestStaging = 0;
  let unpacked = 0;
  for (const t of tensors) {
    const n = elements(t.shape);
    storage[t.dtype] = (storage[t.dtype] ?? 0) + n;
    const stored = n * (SAFETENSORS_DTYPE_BYTES[t.dtype] ?? k.float32Bytes);
    let bytes = stored;
    let quantized = false;
    if (quantization !== "none" && t.shape.length === 2 && (isWide(t.name) ? !keepWide : isLinear.has(t.name))) {
      const p = packedBytes(t.shape[0], t.shape[1], quantization, k);
      if (p === null) unpacked++;
      else {
        bytes = p;
        quantized = true;
      }
    }
    residentBytes += bytes;
    // Read into a buffer of the stored size; a tensor being quantized may also exist as float32.
    largestStaging = Math.max(largestStaging, stored * k.stagingReadCopies + (quantized ? n * k.float32Bytes * k.stagingFloat32Fraction : 0));
  }
  if (unpacked > 0) notes.push(`${unpacked} matrices stay in storage precision: their input width is not a multiple of the ${quantization} block`);
  return { residentBytes, largestStaging, storage };
}

/** LoRA's settings, its trainable parameters, and the targets of the layer with the most adapted inputs (one layer's intermediates are alive at a time). */
function loraSizing(cfg: LlamaConfig, method: EstimateMethod, o: NonNullable<EstimateOptions["lora"]>) {
  if (method === "full") return { lora: null, adapterParams: 0, layerTargets: [] as { inFeatures: number }[] };
  const lora = { r: o.r ?? DEFAULT_LORA.r, targetModules: o.targetModules ?? DEFAULT_LORA.targetModules, dropout: o.dropout ?? DEFAULT_LORA.dropout };
  checkLoraRank(cfg, lora);
  const targets = linearSpecs(cfg).filter((s) => isTargetModule(s.name, lora.targetModules));
  if (targets.length === 0) throw new ConfigError(`LoRA target modules ${JSON.stringify(lora.targetModules)} match no linear layer`, { key: "lora.targetModules" });
  const adapterParams = targets.reduce((a, s) => a + lora.r * (s.inFeatures + s.outFeatures), 0);
  const byLayer = new Map<string, { inFeatures: number }[]>();
  for (const s of targets) {
    const layer = /^model\.layers\.(\d+)\./.exec(s.name)?.[1];
    if (layer !== undefined) byLayer.set(layer, [...(byLayer.get(layer) ?? []), s]);
  }
  const width = (ts: { inFeatures: number }[]) => ts.reduce((a, t) => a + t.inFeatures, 0);
  let layerTargets: { inFeatures: number }[] = [];
  for (const ts of byLayer.values()) if (width(ts) > width(layerTargets)) layerTargets = ts;
  return { lora, adapterParams, layerTargets };
}

/**
 * Predicts peak resident memory of loading, training and decoding a model,
 * reading only config.json and the safetensors headers.
 * @param source a model folder, a config.json file, or a config object.
 * @throws ConfigError for impossible settings (quantized full fine-tuning, a
 *   LoRA rank larger than a layer, seq past the context).
 * @example estimateMemory("models/tslm-tiny", { method: "qlora", batch: 4, seq: 128 }).train.total
 */
export function estimateMemory(source: string | LlamaConfig, options: EstimateOptions = {}): MemoryEstimate {
  const k: MemoryConstants = { ...MEMORY_CONSTANTS, ...options.constants };
  const { method, quantization } = methodOf(options);
  const { cfg, tensors, fileBytes, name, notes } = readSource(source);
  const context = contextLength(cfg);
  const B = positiveInt(options.batch ?? 1, "batch");
  const T = positiveInt(options.seq ?? Math.min(DEFAULT_SEQ, context), "seq");
  if (T > context) throw new ConfigError(`seq ${T} is more than the model's context of ${context} tokens (max_position_embeddings)`, { key: "seq" });
  const chunk = positiveInt(options.lossChunkTokens ?? DEFAULT_LOSS_CHUNK, "lossChunkTokens");
  const checkpointing = options.activationCheckpointing ?? true;
  const keepWide = options.keepEmbeddingsWide ?? false;
  const f32 = k.float32Bytes;
  const L = cfg.numHiddenLayers;
  const D = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const { residentBytes, largestStaging, storage } = residentWeights(cfg, tensors, quantization, keepWide, k, notes);
  const parameters = configParameterCount(cfg);
  const { lora, adapterParams, layerTargets } = loraSizing(cfg, method, options.lora ?? {});
  const trainable = lora ? adapterParams : parameters;

  // ---- load ---------------------------------------------------------------------------
  const load = withOverhead({ weights: residentBytes, adapters: 0, optimizer: 0, gradients: 0, activations: 0, logits: 0, kvCache: 0, staging: largestStaging }, cfg, k);

  // ---- train --------------------------------------------------------------------------
  const tokens = B * T;
  const perLayer = layerFloatsPerToken(cfg, T, k, lora ? { r: lora.r, dropout: lora.dropout > 0, targets: layerTargets } : null);
  const kept = checkpointing ? L * k.checkpointsPerLayer * D + k.layerBackwardFactor * perLayer : L * perLayer + (k.layerBackwardFactor - 1) * perLayer;
  // The final norm's input and output feed the head ([B, T, hidden] each).
  const trainActivations = tokens * (kept + 2 * D) * f32;
  const train = withOverhead(
    {
      weights: lora ? residentBytes : parameters * f32,
      adapters: adapterParams * f32,
      optimizer: trainable * k.adamMoments * f32,
      gradients: trainable * f32,
      activations: trainActivations,
      logits: Math.min(tokens, chunk) * V * f32 * k.lossChunkCopies,
      kvCache: 0,
      staging: 0,
    },
    cfg,
    k,
  );

  // ---- decode -------------------------------------------------------------------------
  const kvCache = 2 * L * cfg.numKeyValueHeads * cfg.headDim * T * f32 * B;
  const prefillLayer = layerFloatsPerToken(cfg, T, k, lora ? { r: lora.r, dropout: false, targets: layerTargets } : null);
  const decode = withOverhead(
    {
      weights: residentBytes,
      adapters: adapterParams * f32,
      optimizer: 0,
      gradients: 0,
      activations: tokens * (prefillLayer + D) * f32,
      logits: B * V * f32 * k.decodeLogitsCopies,
      kvCache,
      staging: 0,
    },
    cfg,
    k,
  );

  return {
    model: { source: name, modelType: cfg.modelType, parameters, storage, fileBytes, contextLength: context },
    settings: { method, quantization, batch: B, seq: T, loraRank: lora ? lora.r : null, lossChunkTokens: chunk, activationCheckpointing: checkpointing, keepEmbeddingsWide: keepWide },
    trainableParameters: trainable,
    load,
    train,
    decode,
    peak: Math.max(load.total, train.total, decode.total),
    constants: k,
    notes,
  };
}

/** "1.23 GB", "456 MB" (decimal units, as file sizes are usually given). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** A table of the three phases by term, for terminals. */
export function formatEstimate(e: MemoryEstimate): string {
  const s = e.settings;
  const m = e.model;
  const storage = Object.entries(m.storage).map(([d, n]) => `${d} ${formatCount(n)}`).join(", ");
  const lines = [
    `${m.source}: ${m.modelType}, ${formatCount(m.parameters)} parameters (${storage})${m.fileBytes !== null ? `, ${formatBytes(m.fileBytes)} on disk` : ""}, context ${m.contextLength}`,
    `${s.method}${s.loraRank !== null ? ` r ${s.loraRank}` : ""}, base ${s.quantization === "none" ? "as stored" : s.quantization}, batch ${s.batch} x seq ${s.seq}, ` +
      `loss chunk ${s.lossChunkTokens} tokens, activation checkpointing ${s.activationCheckpointing ? "on" : "off"}; ${formatCount(e.trainableParameters)} trainable`,
    "",
  ];
  const phases = [["load", e.load], ["train", e.train], ["decode", e.decode]] as const;
  const row = (label: string, cells: string[]) => label.padEnd(13) + cells.map((c) => c.padStart(11)).join("");
  lines.push(row("", phases.map(([p]) => p)));
  for (const t of MEMORY_TERMS) {
    if (phases.every(([, p]) => p.terms[t] === 0)) continue;
    lines.push(row(t, phases.map(([, p]) => (p.terms[t] === 0 ? "-" : formatBytes(p.terms[t])))));
  }
  lines.push(row("total", phases.map(([, p]) => formatBytes(p.total))));
  for (const n of e.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}
