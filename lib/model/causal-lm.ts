/**
 * The LLaMA-family decoder on TF.js: token embedding, N x (RMSNorm ->
 * grouped-query attention with rotary positions -> residual, RMSNorm ->
 * SwiGLU MLP -> residual), final RMSNorm, LM head (tied or not). Covers
 * `llama`, `mistral` (sliding window) and `qwen2` (q/k/v bias).
 *
 * Weights are `tf.Variable`s keyed by Hugging Face names, or, for a frozen
 * base (`WeightStorage`), packed in the precision they are stored in (BF16 /
 * F16 halves) or quantized while loading (int8 / int4 / nf4), the embedding
 * included. Every projection is a pluggable `Linear` (see linear.ts) keyed by
 * its PEFT module name.
 * All computation runs inside `tf.tidy`; `forward`/`loss` are
 * differentiable with `tf.variableGrads`.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels } from "../tensor/fused.js";
import type { LlamaConfig } from "../formats/hf-config.js";
import type { HostTensor } from "../formats/safetensors.js";
import { FormatError, TslmError } from "../util/errors.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { adoptTensor } from "../tensor/native/backend.js";
import type { PackedWeight } from "../tensor/fused.js";
import { DenseLinear, releaseDense, transposedMatMulIsSlow, type Linear } from "./linear.js";
import { dequantize, packedRows, QUANT_BLOCK, quantizeHost, QuantizedLinear, type QuantKind } from "./quant.js";
import { hostSource, type WeightSource } from "./weight-source.js";
import { KVCache } from "./kv-cache.js";
import { captureLinearState, checkpointSequential, drawsDropout, recordingGradients, type Segment } from "./checkpoint.js";
import { batchMatMul, causalMask, chunkedNll, embeddingLookup, nllRows, paddedCausalMask, rmsNorm } from "./ops.js";
import { RotaryTables, applyRotary } from "./rope.js";
import { expectedWeights, isIgnorableTensor, linearSpecs, normAndEmbeddingShapes } from "./weights.js";

export interface ForwardOptions {
  /** Reuse and extend this cache: inputs are the positions after `cache.length`. */
  cache?: KVCache;
  /** Reserved for dropout; LLaMA-family configs use none, so it changes nothing today. */
  training?: boolean;
  /** Compute logits for the last position only (`[B, 1, V]`), as generation needs. */
  lastOnly?: boolean;
  /**
   * Left padding per row of a batch of different lengths: row b's first
   * `padding[b]` columns are filler that attention never sees, and its
   * positions start at its first real token, so each row computes what it
   * would alone. With a cache, give it on the first call; the cache keeps it.
   */
  padding?: readonly number[];
  /**
   * Activation checkpointing per decoder layer for this call (default: the
   * model's setting, see `setGradientCheckpointing`). Only a differentiated
   * pass without a cache is affected.
   */
  gradientCheckpointing?: boolean;
}

/**
 * How a model holds its base weights. Frozen kinds never expand a weight to
 * float32 as a whole: matmuls and embedding lookups read the packed form.
 */
export interface WeightStorage {
  /**
   * - "float32" (default): every weight a trainable float32 variable (full
   *   fine-tuning, exact reference comparisons).
   * - "stored": frozen weights kept as the checkpoint stores them: BF16 and
   *   F16 stay 16-bit (2 bytes a parameter), F32 stays float32. For LoRA and
   *   decoding.
   * - "int8" | "int4" | "nf4": frozen, linear layers and the embedding
   *   quantized while loading, one tensor at a time (QLoRA).
   */
  base?: "float32" | "stored" | Exclude<QuantKind, "bf16" | "f16">;
  /** With a quantized base: keep the embedding and LM head as stored (16-bit) instead of quantizing them. Default false. */
  wideEmbeddings?: boolean;
  /** Elements per scale of the 4-bit kinds (default 64, QLoRA's). */
  blockSize?: number;
}

export interface LossOptions {
  /**
   * false (default, Hugging Face's convention): `labels` are aligned with
   * `inputIds` and the model predicts `labels[:, t + 1]` from position t.
   * true: `labels[:, t]` is already the target of position t.
   */
  shifted?: boolean;
  /** Activation checkpointing per decoder layer for this call (default: the model's setting). */
  gradientCheckpointing?: boolean;
  /** Positions per chunk of the vocabulary-wide loss for this call; null: all at once (default: the model's setting). */
  lossChunkTokens?: number | null;
}

/**
 * Positions per chunk of the vocabulary-wide loss: a 151,936-wide float32
 * chunk is 156 MB, and a chunk of 256 rows keeps the head's matmul efficient.
 */
export const DEFAULT_LOSS_CHUNK_TOKENS = 256;

/** Label value that excludes a position from the loss (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

let modelCounter = 0;

/** Validates a loss chunk size (a positive integer, or null for none). */
function checkChunk(tokens: number | null): number | null {
  if (tokens !== null && !(Number.isInteger(tokens) && tokens >= 1)) {
    throw new TslmError(`lossChunkTokens must be a positive integer or null, got ${tokens}`, { key: "lossChunkTokens" });
  }
  return tokens;
}

type Ids = tf.Tensor2D | number[][];

function toIds(ids: Ids): tf.Tensor2D {
  return ids instanceof tf.Tensor ? ids : tf.tensor2d(ids, undefined, "int32");
}

export class CausalLM {
  /** Tokenizer loaded with the model (`loadModel`), if any. */
  tokenizer: Tokenizer | null = null;
  private readonly params = new Map<string, tf.Variable>();
  private readonly linears = new Map<string, Linear>();
  private readonly rope: RotaryTables;
  private readonly id = modelCounter++;
  private disposed = false;

  /** The embedding in packed form (frozen base), or null when it is a float32 variable. */
  private readonly embedPacked: PackedWeight | null = null;

  /**
   * Builds a model from tensors keyed by HF names (a checkpoint's, in memory
   * or read one at a time from disk). Every expected tensor must be present
   * with its shape; unknown tensors are refused by name.
   */
  constructor(readonly config: LlamaConfig, weights: ReadonlyMap<string, HostTensor> | WeightSource, source?: string, storage: WeightStorage = {}) {
    const src = weights instanceof Map ? hostSource(weights, source) : (weights as WeightSource);
    source ??= src.origin;
    const expected = expectedWeights(config);
    for (const [name, shapeGot] of src.shapes) {
      if (isIgnorableTensor(name)) continue;
      if (name === "lm_head.weight" && config.tieWordEmbeddings) continue; // some checkpoints store the tied copy
      const shape = expected.get(name);
      if (!shape) throw new FormatError(`unexpected tensor '${name}' for a ${config.modelType} model with this config`, { file: source, key: name });
      if (shape.length !== shapeGot.length || shape.some((d, i) => d !== shapeGot[i])) {
        throw new FormatError(`tensor '${name}' has shape ${JSON.stringify(shapeGot)}, config.json implies ${JSON.stringify(shape)}`, { file: source, key: name });
      }
      if (src.dtype(name) === "I32") throw new FormatError(`tensor '${name}' is integer; float weights expected`, { file: source, key: name });
    }
    for (const name of expected.keys()) {
      if (!src.shapes.has(name)) throw new FormatError(`missing tensor '${name}'`, { file: source, key: name });
    }
    const base = storage.base ?? "float32";
    const frozen = base !== "float32";
    // Each tensor is read, turned into its tensor and dropped before the next: loading peaks near the final size.
    const variable = (name: string): tf.Variable => {
      const data = src.float32(name);
      const shape = [...src.shapes.get(name)!];
      return tf.tidy(() => tf.variable(src.fresh ? adoptTensor(data, shape, "float32") : tf.tensor(data, shape, "float32"), !frozen, `m${this.id}/${name}`));
    };
    const packed = (name: string, embedding: boolean): PackedWeight | null => (frozen ? this.pack(src, name, embedding, storage) : null);
    for (const name of normAndEmbeddingShapes(config).keys()) {
      if (name === "model.embed_tokens.weight") {
        this.embedPacked = packed(name, true);
        if (this.embedPacked) continue;
      }
      this.params.set(name, variable(name));
    }
    for (const s of linearSpecs(config)) {
      if (s.name === "lm_head" && config.tieWordEmbeddings) {
        if (this.embedPacked) {
          this.linears.set(s.name, new QuantizedLinear(s.name, this.embedPacked, null, true));
          continue;
        }
        const embed = this.params.get("model.embed_tokens.weight") as tf.Variable<tf.Rank.R2>;
        this.linears.set(s.name, new DenseLinear(s.name, embed, null, true));
        continue;
      }
      const b = s.bias ? (variable(`${s.name}.bias`) as tf.Variable<tf.Rank.R1>) : null;
      const p = packed(`${s.name}.weight`, s.name === "lm_head");
      if (p) {
        this.linears.set(s.name, new QuantizedLinear(s.name, p, b));
        continue;
      }
      const w = variable(`${s.name}.weight`) as tf.Variable<tf.Rank.R2>;
      this.linears.set(s.name, new DenseLinear(s.name, w, b));
    }
    this.rope = new RotaryTables(config);
  }

  /**
   * A frozen weight `[rows, cols]` in its packed form, or null when it stays
   * float32 (stored as F32, or a width the 4-bit blocks do not divide).
   */
  private pack(src: WeightSource, name: string, embedding: boolean, storage: WeightStorage): PackedWeight | null {
    const [rows, cols] = src.shapes.get(name)!;
    const dtype = src.dtype(name);
    const stored16 = dtype === "BF16" ? "bf16" : dtype === "F16" ? "f16" : null;
    const base = storage.base!;
    const quantize = base !== "stored" && !(embedding && storage.wideEmbeddings);
    const block = storage.blockSize ?? QUANT_BLOCK;
    if (quantize && (base === "int8" || cols % block === 0)) {
      const q = quantizeHost(src.float32(name), rows, cols, base as QuantKind, block);
      return { kind: base as QuantKind, rows, cols, blockSize: q.blockSize, packed: adoptTensor(q.packed, [q.packed.length], "int32") as tf.Tensor1D, scales: adoptTensor(q.scales, [q.scales.length], "float32") as tf.Tensor1D };
    }
    if (!stored16) return null;
    const words = src.words16(name, stored16);
    return { kind: stored16, rows, cols, blockSize: cols, packed: adoptTensor(words, [words.length], "int32") as tf.Tensor1D, scales: tf.tensor1d([], "float32") };
  }

  /** The packed embedding of a frozen base, or null when the embedding is a float32 variable. */
  packedEmbedding(): PackedWeight | null {
    return this.embedPacked;
  }

  // ---- pluggable linear layers -------------------------------------------------

  /** PEFT module names of every linear layer, in forward order (`lm_head` last). */
  linearNames(): string[] {
    return [...this.linears.keys()];
  }

  getLinear(name: string): Linear {
    const l = this.linears.get(name);
    if (!l) throw new TslmError(`no linear layer '${name}'; names look like 'model.layers.0.self_attn.q_proj' or 'lm_head'`, { key: name });
    return l;
  }

  /**
   * Replaces a linear layer (LoRA wrapper, quantized weight) and returns the
   * old one, which the caller keeps or disposes. Shapes must match.
   */
  setLinear(name: string, linear: Linear): Linear {
    const old = this.getLinear(name);
    if (linear.inFeatures !== old.inFeatures || linear.outFeatures !== old.outFeatures) {
      throw new TslmError(`linear '${name}' is ${old.inFeatures}->${old.outFeatures}, replacement is ${linear.inFeatures}->${linear.outFeatures}`, { key: name });
    }
    this.linears.set(name, linear);
    return old;
  }

  // ---- variables ------------------------------------------------------------------

  /** Embedding and norm weights by HF name (the variables the model owns outside its linears). */
  namedParameters(): Map<string, tf.Variable> {
    return new Map(this.params);
  }

  /** Every variable (embedding, norms, and what the linears own), without duplicates. */
  variables(): tf.Variable[] {
    const seen = new Set<tf.Variable>(this.params.values());
    for (const l of this.linears.values()) for (const v of l.variables?.() ?? []) seen.add(v);
    return [...seen];
  }

  /** Variables with `trainable === true` (freeze one by setting `v.trainable = false`). */
  trainableVariables(): tf.Variable[] {
    return this.variables().filter((v) => v.trainable);
  }

  /**
   * Weights as host arrays keyed by HF names, as a checkpoint stores them
   * (linears through their dense form; the tied head omitted).
   */
  weightsToHost(): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const [name, v] of this.params) out.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync()) });
    if (this.embedPacked) {
      const e = tf.tidy(() => dequantize(this.embedPacked!));
      out.set("model.embed_tokens.weight", { shape: e.shape.slice(), data: e.dataSync() as Float32Array });
      e.dispose();
    }
    for (const [name, l] of this.linears) {
      if (name === "lm_head" && this.config.tieWordEmbeddings) continue;
      if (!l.dense) throw new TslmError(`linear '${name}' has no dense form to save; merge or dequantize it first`, { key: name });
      const d = tf.tidy(() => l.dense!());
      out.set(`${name}.weight`, { shape: d.weight.shape.slice(), data: Float32Array.from(d.weight.dataSync()) });
      if (d.bias) out.set(`${name}.bias`, { shape: d.bias.shape.slice(), data: Float32Array.from(d.bias.dataSync()) });
      releaseDense(d);
    }
    return out;
  }

  // ---- forward --------------------------------------------------------------------

  /** Activation checkpointing per decoder layer in differentiated passes (see setGradientCheckpointing). */
  private checkpointLayers = false;
  /** Positions per chunk of the vocabulary-wide loss; null: all at once. */
  private lossChunk: number | null = DEFAULT_LOSS_CHUNK_TOKENS;

  /**
   * Turns activation checkpointing per decoder layer on or off (transformers'
   * `gradient_checkpointing_enable`). On, a differentiated pass (`loss`,
   * `tokenLogProbs` or `hidden` inside `tf.variableGrads`) keeps each layer's
   * input `[B*T, hidden]` only, and the backward pass recomputes one layer at
   * a time: about one more forward pass of compute for a small fraction of the
   * activation memory, with the same loss and gradients. Off by default; the
   * trainer turns it on (its `gradientCheckpointing` setting). Passes without
   * a gradient, and passes with a KV cache, are unaffected.
   */
  setGradientCheckpointing(on = true): void {
    this.checkpointLayers = on;
  }

  get gradientCheckpointing(): boolean {
    return this.checkpointLayers;
  }

  /**
   * Positions per chunk of the loss over the vocabulary (`loss`,
   * `tokenLogProbs`): the LM head and the cross-entropy run on this many rows
   * at a time, so logits `[B*T, V]` never exist whole (default
   * DEFAULT_LOSS_CHUNK_TOKENS; null: all rows at once). `forward` still
   * returns whole logits.
   */
  setLossChunkTokens(tokens: number | null): void {
    this.lossChunk = checkChunk(tokens);
  }

  get lossChunkTokens(): number | null {
    return this.lossChunk;
  }

  /** Variables decoder layer `l` reads: its two norms and what its linears own. */
  private layerVariables(l: number): tf.Variable[] {
    const p = `model.layers.${l}.`;
    const vs = [...this.params].filter(([name]) => name.startsWith(p)).map(([, v]) => v);
    for (const [name, lin] of this.linears) if (name.startsWith(p)) vs.push(...(lin.variables?.() ?? []));
    return vs;
  }

  /** Variables the LM head reads (a tied head reads the embedding, which its `variables()` leaves out as shared). */
  private headVariables(): tf.Variable[] {
    const vs = [...(this.linears.get("lm_head")!.variables?.() ?? [])];
    const embed = this.params.get("model.embed_tokens.weight");
    if (this.config.tieWordEmbeddings && embed) vs.push(embed);
    return vs;
  }

  /** A fresh KV cache sized for this model. */
  createCache(): KVCache {
    return new KVCache(this.config.numHiddenLayers);
  }

  /**
   * Final hidden states `[B, T, D]` (after the last RMSNorm) for `inputIds`
   * `[B, T]` int32. With a cache, positions continue from `cache.length`.
   */
  hidden(inputIds: Ids, options: ForwardOptions = {}): tf.Tensor3D {
    this.checkAlive();
    const cfg = this.config;
    const cache = options.cache;
    const offset = cache?.length ?? 0;
    const pad = this.checkPadding(inputIds, options.padding ?? cache?.padding ?? null, offset);
    if (cache && options.padding) cache.padding = [...options.padding];
    const out = tf.tidy(() => {
      const ids = toIds(inputIds);
      const [B, T] = ids.shape;
      const H = cfg.numAttentionHeads, KV = cfg.numKeyValueHeads, hd = cfg.headDim;
      const rep = H / KV;
      const Tk = offset + T;
      // Rotary tables: shared [T, hd], or per row [B, 1, T, hd] for a padded batch. One decoding
      // step of a padded batch rotates x [B, n, 1, hd] as [1, 1, B*n, hd] with a table row per
      // (row, head), the [T, hd] form that a fused rotary kernel takes: cos, sin for the H query
      // heads, then for the KV heads. Layers read the tables from their argument `c` (see below).
      const starts = pad ? pad.map((p) => offset - p) : null;
      const step = starts !== null && T === 1;
      const pair = (t: { cos: tf.Tensor; sin: tf.Tensor }) => [t.cos, t.sin];
      const tables: tf.Tensor[] = step
        ? [H, KV].flatMap((n) => pair(this.rope.stepTables(starts, n))) // [B*n, hd]
        : pair(starts ? this.rope.rowTables(starts, T) : this.rope.tables(offset, T));
      const rotate = (x: tf.Tensor4D, n: number, c: readonly tf.Tensor[]): tf.Tensor4D => {
        if (!step) return applyRotary(x, c[0] as tf.Tensor2D | tf.Tensor4D, c[1] as tf.Tensor2D | tf.Tensor4D);
        const [cos, sin] = (n === H ? c.slice(0, 2) : c.slice(2, 4)) as tf.Tensor2D[];
        return tf.reshape(applyRotary(tf.reshape(x, [1, 1, B * n, hd]) as tf.Tensor4D, cos, sin), [B, n, 1, hd]) as tf.Tensor4D;
      };
      const needMask = T > 1 || (cfg.slidingWindow !== null && Tk > cfg.slidingWindow) || (pad !== null && pad.some((p) => p > 0));
      const spec = { T, Tk, offset, repeat: rep, window: cfg.slidingWindow };
      const mask = !needMask ? null : pad ? paddedCausalMask({ ...spec, padding: pad }) : causalMask(spec); // [rep*T, Tk]
      const scale = 1 / Math.sqrt(hd);
      const D = cfg.hiddenSize;
      // The residual stream stays 2-D, [B*T, D], so linears need no reshapes.
      const embedded = this.embedPacked ? packedRows(this.embedPacked, ids) : embeddingLookup(this.params.get("model.embed_tokens.weight") as tf.Tensor2D, ids);
      let h: tf.Tensor = tf.reshape(embedded, [B * T, D]); // [N, D]
      // [N, n*hd] -> [B, n, T, hd]; with one position the transpose is a no-op reshape.
      const heads = (x: tf.Tensor, n: number) =>
        (T === 1 ? tf.reshape(x, [B, n, 1, hd]) : tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3])) as tf.Tensor4D;
      // The tensors every layer reads besides its input and weights, passed as `c`: a checkpointed
      // layer is recomputed in the backward pass, after this tidy has released them, from copies.
      const constants = mask ? [...tables, mask] : tables;
      // Decoder layer l: h [N, D] -> [N, D].
      const layer = (l: number, h: tf.Tensor, c: readonly tf.Tensor[]): tf.Tensor => {
        const mask = c.length > tables.length ? c[tables.length] : null;
        const p = `model.layers.${l}`;
        const a = rmsNorm(h, this.params.get(`${p}.input_layernorm.weight`) as tf.Tensor1D, cfg.rmsNormEps);
        let q = rotate(heads(this.linears.get(`${p}.self_attn.q_proj`)!.apply(a), H), H, c);
        let k = rotate(heads(this.linears.get(`${p}.self_attn.k_proj`)!.apply(a), KV), KV, c);
        let v = heads(this.linears.get(`${p}.self_attn.v_proj`)!.apply(a), KV);
        if (cache) ({ k, v } = cache.append(l, k, v)); // [B, KV, Tk, hd]
        // Grouped-query attention without copying K/V: the rep query heads of
        // each KV head are stacked along the row axis.
        q = tf.reshape(tf.mul(q, scale), [B, KV, rep * T, hd]) as tf.Tensor4D; // [B, KV, rep*T, hd]
        // softmax(q k^T + mask) v: one native kernel pair when the backend has it.
        let o: tf.Tensor | undefined = mask === null || mask.rank === 2 ? fusedKernels().attention?.(q, k, v, mask as tf.Tensor2D | null, 1) : undefined; // [B, KV, rep*T, hd]
        if (!o) {
          const slow = T > 1 && transposedMatMulIsSlow();
          let scores: tf.Tensor = slow ? batchMatMul(q, k, true) : tf.matMul(q, k, false, true); // [B, KV, rep*T, Tk]
          if (mask) scores = tf.add(scores, mask);
          const probs = tf.softmax(scores); // [B, KV, rep*T, Tk]
          o = slow ? batchMatMul(probs, v) : tf.matMul(probs, v); // [B, KV, rep*T, hd]
        }
        o = T === 1 ? tf.reshape(o, [B, H * hd]) : tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]); // [N, H*hd]
        h = tf.add(h, this.linears.get(`${p}.self_attn.o_proj`)!.apply(o));
        const m = rmsNorm(h, this.params.get(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D, cfg.rmsNormEps);
        const gate = this.linears.get(`${p}.mlp.gate_proj`)!.apply(m); // [N, I]
        const up = this.linears.get(`${p}.mlp.up_proj`)!.apply(m);
        const act = fusedKernels().swiglu?.(gate, up) ?? tf.mul(tf.mul(gate, tf.sigmoid(gate)), up); // SwiGLU: silu(gate) * up
        return tf.add(h, this.linears.get(`${p}.mlp.down_proj`)!.apply(act));
      };
      if (!cache && (options.gradientCheckpointing ?? this.checkpointLayers) && recordingGradients()) {
        // Keep each layer's input only; the backward pass recomputes one layer at a time.
        const segments = Array.from({ length: cfg.numHiddenLayers }, (_, l): Segment => ({ run: (x, c) => layer(l, x, c), variables: this.layerVariables(l) }));
        h = checkpointSequential(segments, h, { constants, replay: captureLinearState(this.linears.values()) });
      } else {
        for (let l = 0; l < cfg.numHiddenLayers; l++) h = layer(l, h, constants);
      }
      return tf.reshape(rmsNorm(h, this.params.get("model.norm.weight") as tf.Tensor1D, cfg.rmsNormEps), [B, T, D]) as tf.Tensor3D;
    });
    if (cache) cache.length = offset + (out.shape[1] as number);
    return out;
  }

  /** Logits `[B, T, V]` (or `[B, 1, V]` with `lastOnly`) for `inputIds` `[B, T]` int32. */
  forward(inputIds: Ids, options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      let h = this.hidden(inputIds, options);
      if (options.lastOnly && h.shape[1] > 1) {
        const [B, T, D] = h.shape;
        h = tf.slice(h, [0, T - 1, 0], [B, 1, D]);
      }
      return this.linears.get("lm_head")!.apply(h) as tf.Tensor3D;
    });
  }

  /**
   * Per-position log-probability of the target tokens `[B, T']` (0 where the
   * label is IGNORE_INDEX); T' = T - 1 unless `shifted`. Differentiable.
   */
  tokenLogProbs(inputIds: Ids, labels: Ids, options: LossOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { nll, weights, shape } = this.nllAndWeights(inputIds, labels, options);
      return tf.reshape(tf.mul(tf.neg(nll), weights), shape) as tf.Tensor2D;
    });
  }

  /**
   * Token-averaged cross-entropy over labels != IGNORE_INDEX (0 when there are
   * none). Labels follow Hugging Face's convention (aligned with the inputs,
   * shifted inside) unless `options.shifted`.
   */
  loss(inputIds: Ids, labels: Ids, options: LossOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const { nll, weights } = this.nllAndWeights(inputIds, labels, options);
      const total = tf.sum(tf.mul(nll, weights));
      return tf.div(total, tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
    });
  }

  private nllAndWeights(inputIds: Ids, labels: Ids, options: LossOptions): { nll: tf.Tensor1D; weights: tf.Tensor1D; shape: [number, number] } {
    const ids = toIds(inputIds);
    let lab = toIds(labels);
    const [B, T] = ids.shape;
    if (lab.shape[0] !== B || lab.shape[1] !== T) {
      throw new TslmError(`labels shape ${JSON.stringify(lab.shape)} differs from inputIds shape ${JSON.stringify(ids.shape)}`);
    }
    const chunk = options.lossChunkTokens === undefined ? this.lossChunk : checkChunk(options.lossChunkTokens);
    let h = this.hidden(ids, { gradientCheckpointing: options.gradientCheckpointing }); // [B, T, D]
    let Tp = T;
    if (!options.shifted) {
      Tp = T - 1;
      h = tf.slice(h, [0, 0, 0], [B, Tp, h.shape[2]]);
      lab = tf.slice(lab, [0, 1], [B, Tp]);
    }
    const V = this.config.vocabSize;
    const head = this.linears.get("lm_head")!;
    const flat = tf.reshape(lab, [B * Tp]) as tf.Tensor1D;
    const valid = tf.notEqual(flat, IGNORE_INDEX);
    const safe = tf.where(valid, flat, tf.zerosLike(flat)) as tf.Tensor1D;
    const weights = tf.cast(valid, "float32") as tf.Tensor1D;
    if (chunk === null) {
      const logits = tf.reshape(head.apply(h), [B * Tp, V]) as tf.Tensor2D; // [N, V]
      return { nll: nllRows(logits, safe), weights, shape: [B, Tp] };
    }
    // The head and the cross-entropy over `chunk` rows at a time: logits [chunk, V], never [N, V].
    const rows = tf.reshape(h, [B * Tp, h.shape[2]]) as tf.Tensor2D; // [N, D]
    const perChunk = drawsDropout(head) ? Math.max(B * Tp, 1) : chunk; // one mask for all rows, as the plain path draws it
    const taped = recordingGradients();
    const nll = chunkedNll(rows, safe, (x) => head.apply(x) as tf.Tensor2D, perChunk, taped ? { variables: this.headVariables(), replay: captureLinearState(this.linears.values()) } : {});
    return { nll, weights, shape: [B, Tp] };
  }

  /** Validates left padding against the batch: one entry per row, each leaving the row a real token. */
  private checkPadding(inputIds: Ids, padding: readonly number[] | null, offset: number): readonly number[] | null {
    if (!padding) return null;
    const [B, T] = inputIds instanceof tf.Tensor ? inputIds.shape : [inputIds.length, inputIds[0]?.length ?? 0];
    if (padding.length !== B) throw new TslmError(`padding has ${padding.length} entries for a batch of ${B} rows`);
    const bad = padding.findIndex((p) => !Number.isInteger(p) || p < 0 || p >= offset + T);
    if (bad >= 0) throw new TslmError(`padding[${bad}] = ${padding[bad]} must be an integer in [0, ${offset + T}) (each row needs a real token)`);
    return padding;
  }

  // ---- lifetime ---------------------------------------------------------------------

  private checkAlive(): void {
    if (this.disposed) throw new TslmError("this model has been disposed");
  }

  /** Frees every tensor the model owns (its linears included). */
  dispose(): void {
    if (this.disposed) return;
    for (const l of this.linears.values()) l.dispose?.();
    for (const v of this.params.values()) v.dispose();
    if (this.embedPacked) tf.dispose([this.embedPacked.packed, this.embedPacked.scales]);
    this.linears.clear();
    this.params.clear();
    this.disposed = true;
  }
}
