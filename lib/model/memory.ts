/** Parameter counts and memory use of a model. */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "./causal-lm.js";
import { configParameterCount } from "./weights.js";

export interface MemoryReport {
  /** Parameters of the architecture (tied head counted once), whatever their storage. */
  parameters: number;
  /** Elements in trainable variables. */
  trainableParameters: number;
  /** Bytes of every variable the model holds (float32 unless a linear packs its weight). */
  variableBytes: number;
  /** KV cache bytes per token per sequence (float32 keys and values of every layer). */
  kvCacheBytesPerToken: number;
  /** TF.js engine totals at the time of the report (all models and tensors). */
  engine: { numTensors: number; numBytes: number };
}

/** Parameter count of the architecture (same as `configParameterCount(model.config)`). */
export function parameterCount(model: CausalLM): number {
  return configParameterCount(model.config);
}

/** Counts and bytes of what a model holds. */
export function memoryReport(model: CausalLM): MemoryReport {
  const vars = model.variables();
  let bytes = 0;
  for (const v of vars) bytes += v.size * (v.dtype === "float32" || v.dtype === "int32" ? 4 : 1);
  const cfg = model.config;
  const mem = tf.memory();
  return {
    parameters: parameterCount(model),
    trainableParameters: model.trainableVariables().reduce((n, v) => n + v.size, 0),
    variableBytes: bytes,
    kvCacheBytesPerToken: 2 * cfg.numHiddenLayers * cfg.numKeyValueHeads * cfg.headDim * 4,
    engine: { numTensors: mem.numTensors, numBytes: mem.numBytes },
  };
}

/** "1.23M", "456K" style. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}
