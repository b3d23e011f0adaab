/**
 * The gradient of one optimizer step over a window of micro-batches
 * (gradient accumulation), with the loss normalized over the whole window:
 *
 * - token-averaged (LLM Studio's default): sum of token NLLs / target tokens
 *   in the window, so accumulating k micro-batches gives exactly the
 *   gradient of one batch k times larger;
 * - sample-averaged: each sample's mean NLL, averaged over the window's samples.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../model/causal-lm.js";
import { targetCount, type Batch } from "../data/batch.js";
import type { Param } from "./optimizer.js";

export type LossKind = "token-averaged" | "sample-averaged";

export interface WindowResult {
  /** The window's loss (as defined by `kind`). */
  loss: number;
  /** Target tokens in the window. */
  tokens: number;
  /** Gradients by parameter name (caller disposes). */
  grads: Map<string, tf.Tensor>;
}

function perSampleCounts(b: Batch): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.size; i++) out.push(targetCount(b.labels.subarray(i * b.length, (i + 1) * b.length)));
  return out;
}

/**
 * Computes the window's loss and accumulated gradients.
 * @param beforeMicro called before each micro-batch's forward pass (sets dropout seeds).
 */
export function windowGradients(model: CausalLM, params: readonly Param[], batches: readonly Batch[], kind: LossKind, beforeMicro: (i: number) => void = () => {}): WindowResult {
  const tokens = batches.reduce((a, b) => a + b.targetTokens, 0);
  const counts = batches.map(perSampleCounts);
  const samples = counts.flat().filter((c) => c > 0).length;
  const vars = params.map((p) => p.variable);
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name]));
  const grads = new Map<string, tf.Tensor>();
  let loss = 0;
  batches.forEach((b, i) => {
    beforeMicro(i);
    const ids = tf.tensor2d(b.inputIds, [b.size, b.length], "int32");
    const labels = tf.tensor2d(b.labels, [b.size, b.length], "int32");
    const weights = kind === "sample-averaged" ? tf.tensor1d(counts[i].map((c) => (c > 0 ? 1 / (c * samples) : 0))) : null;
    const f = () =>
      tf.tidy(() => {
        const lp = model.tokenLogProbs(ids, labels); // [B, T-1], 0 at ignored positions
        if (weights) return tf.neg(tf.sum(tf.mul(tf.sum(lp, 1), weights))) as tf.Scalar;
        return tf.div(tf.neg(tf.sum(lp)), tokens) as tf.Scalar;
      });
    const { value, grads: g } = tf.variableGrads(f, vars);
    loss += value.dataSync()[0];
    value.dispose();
    for (const [vn, t] of Object.entries(g)) {
      const name = nameOf.get(vn)!;
      const prev = grads.get(name);
      if (prev) {
        grads.set(name, tf.add(prev, t));
        prev.dispose();
        t.dispose();
      } else grads.set(name, t);
    }
    tf.dispose([ids, labels]);
    weights?.dispose();
  });
  return { loss, tokens, grads };
}
