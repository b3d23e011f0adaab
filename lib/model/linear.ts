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
    const y = bias
      ? tf.fused.matMul({ a: x2, b: weight, transposeB: true, bias })
      : tf.matMul(x2, weight, false, true); // [N, out]
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
  });
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
