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
 * The k-th largest of `values` (1-based; Hoare's quickselect, O(n) on
 * average). Reorders `values`.
 */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0, hi = values.length - 1;
  const want = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const x = values[i];
        values[i] = values[j];
        values[j] = x;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return values[want];
  }
  return values[want];
}

/**
 * The `m` most likely of `pool` (every id when null) and any tied with the
 * m-th, most likely first, ties by id: always a prefix of `pool` sorted that
 * way, found without sorting all of it.
 */
function topOf(logits: Float32Array, pool: readonly number[] | null, m: number): number[] {
  const order = (a: number, b: number) => logits[b] - logits[a] || a - b;
  const n = pool ? pool.length : logits.length;
  const out: number[] = [];
  if (m >= n) {
    for (let j = 0; j < n; j++) out.push(pool ? pool[j] : j);
    return out.sort(order);
  }
  let values: Float32Array;
  if (pool) {
    values = new Float32Array(n);
    for (let j = 0; j < n; j++) values[j] = logits[pool[j]];
  } else values = logits.slice();
  const threshold = kthLargest(values, m);
  for (let j = 0; j < n; j++) {
    const i = pool ? pool[j] : j;
    if (logits[i] >= threshold) out.push(i);
  }
  return out.sort(order);
}

/**
 * The candidate tokens and their probabilities after temperature, top-k and
 * top-p, most likely first (probabilities sum to 1). Only the candidates
 * that can be kept are sorted, so a large vocabulary costs O(V) per token.
 */
export function candidateDistribution(logits: Float32Array, options: SamplingOptions): { ids: number[]; probs: number[] } {
  const t = options.temperature ?? 0;
  const V = logits.length;
  const topK = options.topK ?? 0;
  // Top-k keeps ties with the k-th value; without it every id is a candidate (pool null).
  const pool = topK > 0 && topK < V ? topOf(logits, null, topK) : null;
  const n = pool ? pool.length : V;
  const at = (j: number) => (pool ? pool[j] : j);
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, logits[at(j)]);
  const weight = (i: number) => Math.exp((logits[i] - max) / t);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += weight(at(j));
  const topP = options.topP ?? 1;
  let ids: number[] = [];
  if (topP < 1) {
    // The nucleus: the most likely tokens until their probability reaches p. Look at the
    // best 64, 256, ... until it is found inside them (a prefix of the full order).
    for (let m = Math.min(64, n); ; m = Math.min(4 * m, n)) {
      const best = pool && m >= n ? pool : topOf(logits, pool, m);
      let cum = 0;
      let keep = 0;
      while (keep < best.length) {
        cum += weight(best[keep++]) / sum;
        if (cum >= topP) break;
      }
      if (cum >= topP || best.length === n) {
        ids = best.slice(0, Math.max(1, keep));
        break;
      }
    }
    sum = 0;
    for (const i of ids) sum += weight(i);
  } else ids = pool ?? topOf(logits, null, V);
  return { ids, probs: ids.map((i) => weight(i) / sum) };
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
