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
 * Packed frozen weight of a linear layer or embedding, HF layout
 * `[rows = out, cols = in]`, in the precision it is stored in.
 *
 * - `bf16` / `f16`: 16-bit floats as the checkpoint stores them, two per
 *   int32 word, element j in bits 16*(j%2) (little-endian). No scales.
 * - `int8`: block-wise absmax over `blockSize` consecutive elements of a row
 *   (`blockSize` = cols: one scale per row; 32: GGUF's Q8_0).
 *   `q = round(w / absmax * 127)` in [-127, 127], four signed bytes per int32
 *   word, element j in bits 8*(j%4). `scales` (absmax / 127) has
 *   rows * cols / blockSize entries, row-major.
 * - `int4` / `nf4`: block-wise absmax over `blockSize` consecutive elements of a
 *   row (cols must be a multiple of blockSize). Codes are 4-bit, eight per
 *   int32 word, element j in bits 4*(j%8). `int4`: value = (code - 8) * scale,
 *   scale = absmax / 7, codes 1..15. `nf4`: value = NF4_TABLE[code] * absmax
 *   (Dettmers et al. 2023, QLoRA, Appendix E), scale = absmax. `scales` has
 *   rows * cols / blockSize entries, row-major.
 */
export interface PackedWeight {
  kind: "int8" | "int4" | "nf4" | "bf16" | "f16";
  rows: number;
  cols: number;
  /** Elements per scale: cols (or 32) for int8, the block size (64 by default) for 4-bit kinds, cols for 16-bit kinds. */
  blockSize: number;
  /** int32 words of packed values, row-major. */
  packed: tf.Tensor1D;
  /** float32 scales, row-major (empty for the 16-bit kinds). */
  scales: tf.Tensor1D;
}

export interface FusedKernels {
  /**
   * In-place AdamW update of float32 `param`, `m`, `v` from `grad`, with
   * PyTorch's rule: `p *= 1 - lr * wd; m = b1 m + (1 - b1) g;
   * v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
   * Returns false when it cannot handle these tensors (other backend, dtype),
   * in which case the caller runs its TF.js-ops path.
   */
  adamw?(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, step: AdamWStep): boolean;
  /** Dequantizes to a new float32 tensor `[rows, cols]`, or undefined to decline. */
  dequantize?(w: PackedWeight): tf.Tensor2D | undefined;
  /** `x @ dequantize(w)^T` for x `[..., cols]` -> `[..., rows]`, or undefined to decline. Differentiable in x. */
  dequantMatMul?(x: tf.Tensor, w: PackedWeight): tf.Tensor | undefined;
  /** Rows `ids` (int32, any shape) of `dequantize(w)`: `[...ids.shape, cols]` float32 (an embedding lookup), or undefined to decline. */
  dequantizeRows?(w: PackedWeight, ids: tf.Tensor): tf.Tensor | undefined;

  // Decoder blocks. Each is differentiable (gradients for every tensor input
  // unless noted), equals the TF.js composition in its comment within float32
  // rounding, and returns undefined to decline (other backend, dtype, shape).

  /** RMSNorm over the last axis: `weight * x / sqrt(mean(x^2, -1) + eps)`; x `[..., D]`, weight `[D]`. */
  rmsNorm?(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor | undefined;
  /** SwiGLU's gate: `gate * sigmoid(gate) * up` (same shapes). */
  swiglu?(gate: tf.Tensor, up: tf.Tensor): tf.Tensor | undefined;
  /**
   * Rotary embedding in Hugging Face's rotate_half convention:
   * `x * cos + concat([-x2, x1], -1) * sin` for x `[B, H, T, hd]`, cos/sin `[T, hd]`.
   * Differentiable in x only (the tables are constants).
   */
  rotary?(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D | undefined;
  /**
   * Scaled dot-product attention `softmax(q @ k^T * scale + mask) @ v` for
   * q `[..., M, hd]`, k `[..., N, hd]`, v `[..., N, hv]` with equal leading
   * dims and an additive mask `[M, N]` (or null). Differentiable in q, k, v.
   */
  attention?(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor2D | null, scale: number): tf.Tensor | undefined;
  /**
   * Per-row negative log-likelihood `logsumexp(logits[r]) - logits[r, labels[r]]`
   * for logits `[N, V]`, labels `[N]` int32 in [0, V). Differentiable in logits.
   */
  nllRows?(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D | undefined;
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
