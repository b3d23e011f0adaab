/**
 * Training-side metric: perplexity as H2O LLM Studio defines it. The text
 * metrics (exact match, BLEU) live in lib/data/text-metrics.ts, shared with
 * the arena.
 */

/** Mean of exp(per-sample mean cross-entropy), LLM Studio's perplexity. */
export function meanPerplexity(sampleLosses: readonly number[]): number {
  if (sampleLosses.length === 0) return NaN;
  return sampleLosses.reduce((a, l) => a + Math.exp(l), 0) / sampleLosses.length;
}
