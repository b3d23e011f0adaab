/**
 * Building blocks of the decoder that TF.js lacks or computes badly:
 * RMSNorm, an embedding lookup and a cross-entropy with explicit gradients
 * (also over row chunks, so that vocabulary-wide logits never exist whole).
 *
 * The embedding and cross-entropy carry their own gradients (tf.customGrad)
 * so that training works on every backend: TF.js's gather gradient needs an
 * `UnsortedSegmentSum` kernel that the wasm backend does not have, and a
 * fused `softmax - onehot` gradient is cheaper than differentiating
 * logSoftmax + gather.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels } from "../tensor/fused.js";
import { chunkedRows, type ReplayState } from "./checkpoint.js";

/** tf.customGrad's parameter type (not exported by name from tfjs-core). */
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/**
 * RMSNorm (Zhang & Sennrich 2019) as LLaMA uses it:
 * `weight * x / sqrt(mean(x^2) + eps)`, over the last axis.
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  const fused = fusedKernels().rmsNorm?.(x, weight, eps); // one native pass when the backend has it
  if (fused) return fused;
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true); // [..., 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
  });
}

/**
 * Rows of `table` `[V, D]` at `ids` `[B, T]` -> `[B, T, D]`. The gradient
 * scatters back with scatterND (duplicate ids are summed).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor3D {
  const [B, T] = ids.shape;
  const [V, D] = table.shape;
  // ids are an input (not a closure) so the tape keeps them alive for the backward pass.
  const f = tf.customGrad(((t: tf.Tensor, idx: tf.Tensor, save: tf.GradSaveFunc) => {
    const flat = tf.reshape(idx, [B * T]);
    save([idx]);
    const value = tf.reshape(tf.gather(t, flat), [B, T, D]); // [B, T, D]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const rows = tf.reshape(saved[0], [B * T, 1]); // [N, 1]
      return [tf.scatterND(rows, tf.reshape(dy, [B * T, D]), [V, D]), tf.zerosLike(saved[0])];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn);
  return f(table, ids) as tf.Tensor3D;
}

/**
 * Per-row negative log-likelihood of `labels` under `logits` `[N, V]` -> `[N]`.
 * `labels` `[N]` int32 must be valid ids (mask ignored rows outside).
 * Gradient: `(softmax(logits) - onehot(labels)) * dy`.
 */
export function nllRows(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const fused = fusedKernels().nllRows?.(logits, labels); // one native pass when the backend has it
  if (fused) return fused;
  const [N, V] = logits.shape;
  const f = tf.customGrad(((x: tf.Tensor, lab: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = x as tf.Tensor2D;
    const lse = tf.logSumExp(x2, 1); // [N]
    const rowStart = tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32"));
    const picked = tf.gather(tf.reshape(x2, [N * V]), tf.add(rowStart, lab)); // [N]
    save([x2, lse, lab]);
    const value = tf.sub(lse, picked);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, l, lb] = saved;
      const probs = tf.exp(tf.sub(xs, tf.reshape(l, [N, 1]))); // softmax [N, V]
      // int32 one-hot, then cast: tfjs-backend-wasm 4.22's OneHot writes int bits into
      // float32 outputs (1 reads as 1.4e-45) when asked for dtype "float32".
      const onehot = tf.cast(tf.oneHot(lb as tf.Tensor1D, V), "float32");
      return [tf.mul(tf.sub(probs, onehot), tf.reshape(dy, [N, 1])), tf.zerosLike(lb)];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn);
  return f(logits, labels) as tf.Tensor1D;
}

/**
 * `nllRows(head(h), labels)` for h `[N, D]` computed `rows` rows at a time,
 * so that the vocabulary-wide logits `[N, V]` never exist at once (at a
 * 151,936-token vocabulary, 4 x 256 positions are 622 MB of float32 logits
 * per copy). Under a tape, a head without trainable variables costs nothing
 * more (each chunk's gradient with respect to h is taken in the forward
 * pass); a trainable head (full fine-tuning, LoRA on `lm_head`) recomputes
 * each chunk's logits in the backward pass. See `chunkedRows`.
 * @param variables what `head` reads (its trainable float32 ones get gradients)
 */
export function chunkedNll(
  h: tf.Tensor2D,
  labels: tf.Tensor1D,
  head: (x: tf.Tensor2D) => tf.Tensor2D,
  rows: number,
  options: { variables?: readonly tf.Variable[]; replay?: ReplayState } = {},
): tf.Tensor1D {
  const f = (x: tf.Tensor, [lab]: readonly tf.Tensor[]) => nllRows(head(x as tf.Tensor2D), lab as tf.Tensor1D); // [rows]
  return chunkedRows(f, h, rows, { ...options, rowConstants: [labels] }) as tf.Tensor1D;
}

/** Additive causal mask for the attention scores, as a host array. */
export interface MaskSpec {
  /** Query rows T (positions offset .. offset + T - 1). */
  T: number;
  /** Key columns Tk (positions 0 .. Tk - 1). */
  Tk: number;
  offset: number;
  /** Repeat the T rows this many times (grouped-query layout). */
  repeat: number;
  /** Sliding window in tokens, or null for full causal attention. */
  window: number | null;
}

/** Large negative instead of -Infinity: exp underflows to exactly 0 either way, and gradients stay finite. */
export const MASKED = -1e9;

/** Builds `[repeat * T, Tk]` with 0 where query i may see key j, MASKED elsewhere. */
export function causalMask(spec: MaskSpec): tf.Tensor2D {
  const { T, Tk, offset, repeat, window } = spec;
  const m = new Float32Array(repeat * T * Tk);
  for (let i = 0; i < T; i++) {
    const q = offset + i;
    for (let j = 0; j < Tk; j++) {
      const visible = j <= q && (window === null || q - j < window);
      if (!visible) for (let r = 0; r < repeat; r++) m[(r * T + i) * Tk + j] = MASKED;
    }
  }
  return tf.tensor2d(m, [repeat * T, Tk]);
}

/**
 * Per-row mask `[B, 1, repeat * T, Tk]` for a left-padded batch: as
 * `causalMask`, and row b also never sees its first `padding[b]` key columns.
 * Query rows that are themselves padding see nothing (a uniform softmax over
 * masked scores, finite and never used).
 */
export function paddedCausalMask(spec: MaskSpec & { padding: readonly number[] }): tf.Tensor4D {
  const { T, Tk, offset, repeat, window, padding } = spec;
  const B = padding.length;
  const rows = repeat * T;
  const m = new Float32Array(B * rows * Tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const q = offset + i;
      for (let j = 0; j < Tk; j++) {
        const visible = j >= padding[b] && j <= q && (window === null || q - j < window);
        if (!visible) for (let r = 0; r < repeat; r++) m[(b * rows + r * T + i) * Tk + j] = MASKED;
      }
    }
  }
  return tf.tensor4d(m, [B, 1, rows, Tk]);
}

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

/**
 * Batched `a @ b` (or `a @ b^T` with `transposeB`) whose forward and
 * backward passes use only untransposed matmuls plus explicit transposes:
 * on plain wasm, transposed matmuls are ~10x slower (see linear.ts), and
 * TF.js's own matmul gradient always uses them.
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    const value = tf.matMul(x, transposeB ? swapLast(y) : y); // [..., m, n]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sy] = saved;
      // a @ b:   da = dy @ b^T, db = a^T @ dy.   a @ b^T: da = dy @ b, db = dy^T @ a.
      const da = tf.matMul(dy, transposeB ? sy : swapLast(sy));
      const db = transposeB ? tf.matMul(swapLast(dy), sx) : tf.matMul(swapLast(sx), dy);
      return [da, db];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn);
  return f(a, b);
}
