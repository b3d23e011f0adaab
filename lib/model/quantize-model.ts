/**
 * Quantizing a whole model's frozen base (QLoRA's setting: every linear
 * layer but the LM head, which stays float32 like the embedding and the
 * norms), and reporting how much memory the base weights take.
 */
import { TslmError } from "../util/errors.js";
import type { CausalLM } from "./causal-lm.js";
import { DenseLinear, releaseDense, type Linear } from "./linear.js";
import { LoraLinear } from "./lora.js";
import { isSixteenBit, packedBytes, QuantizedLinear, QUANT_BLOCK, type QuantKind } from "./quant.js";

export type Quantization = "none" | QuantKind;

export interface QuantizeOptions {
  /** Modules to quantize (default: every linear layer except `lm_head`). */
  modules?: (name: string) => boolean;
  blockSize?: number;
}

/** The innermost base layer (under LoRA wrappers). */
function baseOf(l: Linear): Linear {
  return l instanceof LoraLinear ? baseOf(l.base) : l;
}

export interface QuantizeReport {
  /** Layers now stored packed. */
  quantized: number;
  /** Layers left in float32 because their input width is not a multiple of the 4-bit block. */
  skipped: string[];
}

/**
 * Replaces the model's dense linear layers with packed quantized ones and
 * frees their float32 weights. Call before attaching LoRA. 4-bit kinds need
 * the input width to be a multiple of the block size (64); other layers stay
 * float32 and are listed in the report.
 * @example quantizeModel(model, "nf4").quantized
 */
export function quantizeModel(model: CausalLM, kind: Quantization, options: QuantizeOptions = {}): QuantizeReport {
  if (kind === "none") return { quantized: 0, skipped: [] };
  const pick = options.modules ?? ((n: string) => n !== "lm_head");
  const block = options.blockSize ?? QUANT_BLOCK;
  const skipped: string[] = [];
  let count = 0;
  for (const name of model.linearNames()) {
    if (!pick(name)) continue;
    const l = model.getLinear(name);
    if (l instanceof LoraLinear) throw new TslmError(`quantize the base before attaching LoRA ('${name}' already has adapters)`, { key: name });
    if (l instanceof QuantizedLinear) {
      if (l.weight.kind === kind) count++; // quantized while loading
      if (l.weight.kind === kind || !isSixteenBit(l.weight.kind) || l.shared) continue;
      // A 16-bit frozen layer: quantize it from its dense form, as a float32 one.
    } else if (!(l instanceof DenseLinear) || l.shared) continue; // tied head or foreign layer: leave it
    if (kind !== "int8" && !isSixteenBit(kind) && l.inFeatures % block !== 0) {
      skipped.push(name);
      continue;
    }
    const d = l.dense();
    const q = QuantizedLinear.fromDense(name, d.weight, d.bias, kind, block);
    releaseDense(d);
    model.setLinear(name, q);
    l.dispose();
    count++;
  }
  return { quantized: count, skipped };
}

/** Memory of the base model's weights (LoRA adapters excluded). */
export interface BaseMemoryReport {
  /** Bytes the base weights take now (packed codes + scales for quantized layers). */
  bytes: number;
  /** Bytes the same weights take in float32. */
  float32Bytes: number;
  /** bytes / float32Bytes. */
  ratio: number;
  /** The same three figures for the quantized linear layers alone. */
  quantized: { layers: number; bytes: number; float32Bytes: number; ratio: number };
}

/** Measures base-weight memory: embeddings, norms and linear layers (dense or packed). */
export function baseMemory(model: CausalLM): BaseMemoryReport {
  let bytes = 0;
  let float32Bytes = 0;
  const q = { layers: 0, bytes: 0, float32Bytes: 0, ratio: 1 };
  for (const v of model.namedParameters().values()) {
    bytes += v.size * 4;
    float32Bytes += v.size * 4;
  }
  const embed = model.packedEmbedding();
  if (embed) {
    bytes += packedBytes(embed);
    float32Bytes += embed.rows * embed.cols * 4;
  }
  for (const name of model.linearNames()) {
    const l = baseOf(model.getLinear(name));
    const f32 = l.inFeatures * l.outFeatures * 4;
    if (l instanceof QuantizedLinear) {
      if (l.shared) continue; // the tied head: counted with the embedding
      const b = l.bytes() + (l.bias ? l.bias.size * 4 : 0);
      bytes += b;
      float32Bytes += f32 + (l.bias ? l.bias.size * 4 : 0);
      q.layers++;
      q.bytes += l.bytes();
      q.float32Bytes += f32;
    } else if (l instanceof DenseLinear) {
      if (l.shared) continue; // counted with the embedding
      const b = f32 + (l.bias ? l.bias.size * 4 : 0);
      bytes += b;
      float32Bytes += b;
    } else {
      bytes += f32;
      float32Bytes += f32;
    }
  }
  q.ratio = q.float32Bytes > 0 ? q.bytes / q.float32Bytes : 1;
  return { bytes, float32Bytes, ratio: bytes / float32Bytes, quantized: q };
}
