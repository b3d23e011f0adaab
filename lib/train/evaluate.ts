/**
 * Evaluation of a causal LM on tokenized samples: validation loss,
 * perplexity, and, from greedy generations, exact match and BLEU against
 * each sample's reference answer.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../model/causal-lm.js";
import { generateBatch } from "../model/generate-batch.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { collate, targetCount } from "../data/batch.js";
import type { Sample } from "../data/encode.js";
import { collapseWhitespace, exactMatchCollapsed, meanSacreBleu } from "../data/text-metrics.js";
import { meanPerplexity } from "./metrics.js";

export interface EvaluateOptions {
  /** Micro-batch size of the loss pass (default 8). */
  batchSize?: number;
  /** Use only the first N samples. */
  maxSamples?: number | null;
  /** Generate answers for exact match and BLEU (default true). */
  generate?: boolean;
  /** Longest generated answer (default 256). */
  maxNewTokens?: number;
  /** Pad id for batching (default 0; padded positions carry no loss). */
  padId?: number;
  /** Called after each sample's generation (progress). */
  onSample?: (done: number, total: number) => void;
}

/** One generated answer (a type alias, so it passes where records with index signatures are expected, like table()). */
export type EvalPrediction = {
  reference: string;
  prediction: string;
  exact: number;
};

export interface EvalResult {
  samples: number;
  /** Token-averaged cross-entropy over answer tokens. */
  loss: number;
  /** LLM Studio's perplexity: mean over samples of exp(sample loss). */
  perplexity: number;
  /** exp(loss). */
  tokenPerplexity: number;
  /** Fraction of generations equal to the reference after `collapseWhitespace` (null without generation). */
  exactMatch: number | null;
  /** Mean sacrebleu sentence BLEU, 0-100 (`meanSacreBleu`; null without generation). */
  bleu: number | null;
  predictions: EvalPrediction[];
  seconds: number;
}

/** Answers generated together (rows of one KV cache); each equals its generation alone. */
const GENERATE_BATCH = 16;

/** Per-sample summed NLL and target counts (no gradients). */
export function sampleLosses(model: CausalLM, samples: readonly Sample[], batchSize = 8, padId = 0): { sums: number[]; counts: number[] } {
  const sums: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const b = collate(chunk, padId);
    const lp = tf.tidy(() => {
      const ids = tf.tensor2d(b.inputIds, [b.size, b.length], "int32");
      const labels = tf.tensor2d(b.labels, [b.size, b.length], "int32");
      return tf.sum(model.tokenLogProbs(ids, labels), 1); // [B]
    });
    const per = lp.dataSync();
    lp.dispose();
    chunk.forEach((s, k) => {
      sums.push(-per[k]);
      counts.push(targetCount(s.labels));
    });
  }
  return { sums, counts };
}

/**
 * Evaluates `model` on `samples`.
 * @example const r = await evaluate(model, tokenizer, ds.validation, { maxNewTokens: 16 }); r.exactMatch
 */
export async function evaluate(model: CausalLM, tokenizer: Tokenizer | null, samples: readonly Sample[], options: EvaluateOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const use = options.maxSamples ? samples.slice(0, options.maxSamples) : samples.slice();
  const { sums, counts } = sampleLosses(model, use, options.batchSize ?? 8, options.padId ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  const loss = total > 0 ? sums.reduce((a, b) => a + b, 0) / total : NaN;
  const perSample = sums.map((s, i) => (counts[i] > 0 ? s / counts[i] : NaN)).filter((x) => Number.isFinite(x));
  const predictions: EvalPrediction[] = [];
  let em: number | null = null;
  let bleu: number | null = null;
  const withRef = use.filter((s) => s.reference !== "" && s.promptIds.length > 0);
  if ((options.generate ?? true) && withRef.length > 0) {
    let done = 0;
    const answers = await generateBatch(model, tokenizer, withRef.map((s) => ({ ids: s.promptIds })), {
      maxNewTokens: options.maxNewTokens ?? 256,
      truncate: "answer", // a cap: answers end where the model's context does
      temperature: 0,
      batchSize: GENERATE_BATCH,
      onResult: () => options.onSample?.(++done, withRef.length),
    });
    for (const [k, s] of withRef.entries()) {
      const prediction = collapseWhitespace(answers[k].text);
      predictions.push({ reference: s.reference, prediction, exact: exactMatchCollapsed(prediction, s.reference) });
    }
    em = predictions.reduce((a, p) => a + p.exact, 0) / predictions.length;
    bleu = meanSacreBleu(predictions.map((p) => p.prediction), predictions.map((p) => p.reference));
  }
  return {
    samples: use.length,
    loss,
    perplexity: meanPerplexity(perSample),
    tokenPerplexity: Math.exp(loss),
    exactMatch: em,
    bleu,
    predictions,
    seconds: (performance.now() - t0) / 1000,
  };
}
