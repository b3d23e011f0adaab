/**
 * Registry of fused kernels that are not TF.js ops: whole-step updates that
 * would otherwise take a dozen elementwise ops each (optimizer steps,
 * dequantization). Higher layers (lib/train, lib/model) ask `fusedKernels()`
 * for one and fall back to plain TF.js ops when it is absent or declines
 * (returns false / undefined), so every path works on every backend and the
 * fused one is only a speed-up.
 *
 * The native backend (lib/tensor/native) fills this registry when its addon
 * loads; tests compare each fused kernel with the TF.js-ops fallback.
 */
import type * as tf from "@tensorflow/tfjs-core";

/** Hyper-parameters of one AdamW step (decoupled weight decay, Loshchilov & Hutter 2019). */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay; 0 gives plain Adam. */
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * Packed quantized weight of a linear layer, HF layout `[rows = out, cols = in]`.
 *
 * - `int8`: per-row absmax. `q = round(w / absmax[row] * 127)` in [-127, 127],
 *   four signed bytes per int32 word, little-endian (element j in bits 8*(j%4)).
 *   `scales` has `rows` entries (absmax / 127).
 * - `int4` / `nf4`: block-wise absmax over `blockSize` consecutive elements of a
 *   row (cols must be a multiple of blockSize). Codes are 4-bit, eight per
 *   int32 word, element j in bits 4*(j%8). `int4`: value = (code - 8) * scale,
 *   scale = absmax / 7, codes 1..15. `nf4`: value = NF4_TABLE[code] * absmax
 *   (Dettmers et al. 2023, QLoRA, Appendix E), scale = absmax. `scales` has
 *   rows * cols / blockSize entries, row-major.
 */
export interface PackedWeight {
  kind: "int8" | "int4" | "nf4";
  rows: number;
  cols: number;
  /** Elements per scale: cols for int8, the block size (64 by default) for 4-bit kinds. */
  blockSize: number;
  /** int32 words of packed codes, row-major. */
  packed: tf.Tensor1D;
  /** float32 scales, row-major. */
  scales: tf.Tensor1D;
}

export interface FusedKernels {
  /**
   * In-place AdamW update of float32 `param`, `m`, `v` from `grad`.
   * Returns false when it cannot handle these tensors (other backend, dtype),
   * in which case the caller runs its TF.js-ops path.
   */
  adamw?(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, step: AdamWStep): boolean;
  /** Dequantizes to a new float32 tensor `[rows, cols]`, or undefined to decline. */
  dequantize?(w: PackedWeight): tf.Tensor2D | undefined;
  /** `x @ dequantize(w)^T` for x `[..., cols]` -> `[..., rows]`, or undefined to decline. */
  dequantMatMul?(x: tf.Tensor, w: PackedWeight): tf.Tensor | undefined;
}

let registry: FusedKernels = {};

/** The fused kernels available on the current backend (possibly none). */
export function fusedKernels(): Readonly<FusedKernels> {
  return registry;
}

/** Installs (or, with `{}`, clears) fused kernels. Called by backend setup. */
export function setFusedKernels(kernels: FusedKernels): void {
  registry = { ...kernels };
}
