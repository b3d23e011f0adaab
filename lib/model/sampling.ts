/**
 * Next-token selection from host logits, in the order transformers applies
 * its processors: repetition penalty, then temperature, top-k, top-p, then a
 * draw from the renormalized distribution (or argmax when greedy). Pure
 * functions over plain arrays; randomness comes from the `Random` passed in.
 */
import type { Random } from "../util/random.js";

export interface SamplingOptions {
  /** 0 = greedy (argmax); > 0 divides the logits before sampling. Default 0. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). Default 0. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). Default 1. */
  topP?: number;
  /**
   * CTRL's repetition penalty (Keskar et al. 2019) on every token already in
   * the context: positive logits divided by it, negative ones multiplied.
   * 1 = off. Default 1.
   */
  repetitionPenalty?: number;
}

/** Applies the repetition penalty in place. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    if (id < 0 || id >= logits.length) continue;
    const x = logits[id];
    logits[id] = x < 0 ? x * penalty : x / penalty;
  }
}

/** Index of the largest value (first one on ties). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The candidate tokens and their probabilities after temperature, top-k and
 * top-p, most likely first (probabilities sum to 1).
 */
export function candidateDistribution(logits: Float32Array, options: SamplingOptions): { ids: number[]; probs: number[] } {
  const t = options.temperature ?? 0;
  const V = logits.length;
  let ids = Array.from({ length: V }, (_, i) => i);
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  const topK = options.topK ?? 0;
  if (topK > 0 && topK < V) {
    const kth = logits[ids[topK - 1]];
    let end = topK;
    while (end < V && logits[ids[end]] === kth) end++; // keep ties with the k-th value
    ids = ids.slice(0, end);
  }
  const max = logits[ids[0]];
  let probs = ids.map((i) => Math.exp((logits[i] - max) / t));
  let sum = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / sum);
  const topP = options.topP ?? 1;
  if (topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length) {
      cum += probs[keep++];
      if (cum >= topP) break;
    }
    ids = ids.slice(0, Math.max(1, keep));
    probs = probs.slice(0, ids.length);
    sum = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / sum);
  }
  return { ids, probs };
}

/**
 * Picks the next token. `logits` is modified (repetition penalty).
 * @param context tokens so far (prompt and generated), for the repetition penalty.
 */
export function selectToken(logits: Float32Array, context: readonly number[], options: SamplingOptions, random: Random): number {
  applyRepetitionPenalty(logits, context, options.repetitionPenalty ?? 1);
  const t = options.temperature ?? 0;
  if (!(t > 0)) return argmax(logits);
  if (!((options.topK ?? 0) > 0) && !((options.topP ?? 1) < 1)) {
    // Plain temperature sampling: no sort needed.
    const max = logits[argmax(logits)];
    let sum = 0;
    const w = new Float64Array(logits.length);
    for (let i = 0; i < logits.length; i++) sum += w[i] = Math.exp((logits[i] - max) / t);
    let u = random.float() * sum;
    for (let i = 0; i < w.length; i++) {
      u -= w[i];
      if (u < 0) return i;
    }
    return argmax(logits);
  }
  const { ids, probs } = candidateDistribution(logits, options);
  let u = random.float();
  for (let i = 0; i < ids.length; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
