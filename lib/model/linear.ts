/**
 * Pluggable linear layers. Every projection of the model (q, k, v, o, gate,
 * up, down and the LM head) is a `Linear` held by the model under its PEFT
 * module name (`model.layers.0.self_attn.q_proj`, ..., `lm_head`), so LoRA
 * wrappers and quantized weights replace them with `model.setLinear` without
 * touching the model code.
 *
 * Weights use Hugging Face's layout `[out, in]`; `y = x @ W^T (+ b)`.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface Linear {
  /** PEFT module name, e.g. `model.layers.0.self_attn.q_proj` or `lm_head`. */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** x `[..., inFeatures]` -> `[..., outFeatures]`; differentiable, no side effects. */
  apply(x: tf.Tensor): tf.Tensor;
  /** Variables this layer owns (trainable or not). Default: none. */
  variables?(): tf.Variable[];
  /**
   * The dense weight `[out, in]` and bias `[out]` this layer computes with
   * (merged adapters, dequantized weights), for saving and export. Returned
   * tensors may be the layer's own variables: call it inside `tf.tidy` and
   * release the results with `releaseDense`, never `dispose` directly.
   * Absent when the layer has no dense form.
   */
  dense?(): { weight: tf.Tensor2D; bias?: tf.Tensor1D };
  /** Frees what the layer owns. Shared variables (a tied head) are not disposed. */
  dispose?(): void;
}

/** Disposes tensors returned by `Linear.dense()` unless they are variables. */
export function releaseDense(d: { weight: tf.Tensor; bias?: tf.Tensor }): void {
  if (!(d.weight instanceof tf.Variable)) d.weight.dispose();
  if (d.bias && !(d.bias instanceof tf.Variable)) d.bias.dispose();
}

/**
 * `x @ W^T + b` for x of any rank: flattens to 2-D for the matmul.
 * Shapes: x `[..., in]`, weight `[out, in]`, bias `[out]` -> `[..., out]`.
 */
export function linearForward(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const inF = weight.shape[1];
    const outF = weight.shape[0];
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]) as tf.Tensor2D; // [N, in]
    // Not tf.fused.matMul: tfjs-backend-wasm 4.22's _FusedMatMul adds the bias to
    // the wrong elements when transposeB is set (rows past the first get bias[last]).
    const xw = x2.shape[0] >= EXPLICIT_TRANSPOSE_MIN_ROWS && weight.size <= EXPLICIT_TRANSPOSE_LIMIT && transposedMatMulIsSlow()
      ? matMulTransposedB(x2, weight)
      : tf.matMul(x2, weight, false, true); // [N, out]
    const y = bias ? tf.add(xw, bias) : xw;
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
  });
}

/**
 * Plain tfjs-backend-wasm runs matmuls with a transposed operand about 10x
 * slower than untransposed ones (measured here: x[128,256] @ W[704,256]^T
 * 48 ms vs 5 ms with W pre-transposed), so on that backend `x @ W^T` for
 * inputs of several rows is
 * computed as `x @ transpose(W)` with gradients that avoid transposed
 * matmuls too. Backends with a native matmul (tslm's native backend, the
 * cpu backend) keep the direct call, which needs no copy.
 */
export function transposedMatMulIsSlow(): boolean {
  return tf.getBackend() === "wasm";
}

/** Below this many rows copying W costs more than the slow matmul saves (one row: 2.4 ms vs 1.1 ms). */
const EXPLICIT_TRANSPOSE_MIN_ROWS = 8;
/** Above this many elements the transposed copy costs more memory than it is worth. */
const EXPLICIT_TRANSPOSE_LIMIT = 16 * 1024 * 1024;

/** `x @ w^T` for x `[N, in]`, w `[out, in]` -> `[N, out]`, using only untransposed matmuls. */
export function matMulTransposedB(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    const value = tf.matMul(a as tf.Tensor2D, tf.transpose(b as tf.Tensor2D)); // [N, out]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [
        tf.matMul(dy as tf.Tensor2D, sb), // dx = dy @ w: [N, in]
        tf.matMul(tf.transpose(dy as tf.Tensor2D), sa), // dw = dy^T @ x: [out, in]
      ];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w) as tf.Tensor2D;
}

/** The plain dense layer: a float32 weight variable and an optional bias. */
export class DenseLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;

  /**
   * @param weight `[out, in]`
   * @param shared true when the weight belongs to someone else (the tied LM
   *   head uses the embedding matrix): `variables()` and `dispose()` skip it.
   */
  constructor(
    readonly name: string,
    readonly weight: tf.Variable<tf.Rank.R2>,
    readonly bias: tf.Variable<tf.Rank.R1> | null = null,
    readonly shared = false,
  ) {
    [this.outFeatures, this.inFeatures] = weight.shape;
    if (bias && bias.shape[0] !== this.outFeatures) {
      throw new Error(`${name}: bias has ${bias.shape[0]} entries, expected ${this.outFeatures}`);
    }
  }

  apply(x: tf.Tensor): tf.Tensor {
    return linearForward(x, this.weight, this.bias ?? undefined);
  }

  variables(): tf.Variable[] {
    const vs: tf.Variable[] = this.shared ? [] : [this.weight];
    if (this.bias) vs.push(this.bias);
    return vs;
  }

  dense(): { weight: tf.Tensor2D; bias?: tf.Tensor1D } {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  dispose(): void {
    if (!this.shared) this.weight.dispose();
    this.bias?.dispose();
  }
}
