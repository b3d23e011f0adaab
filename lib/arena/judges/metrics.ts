/**
 * Reference metrics: pure functions scoring an answer against a reference in
 * [0, 1]. Used by the reference judge (winner by score, tie when equal).
 * The functions live in lib/data/text-metrics.ts (shared with fine-tuning).
 */
import { bleuAddOne, containsMatch, exactMatchTrimmed, normalizedMatch, numericMatch, regexMatch, rougeL } from "../../data/text-metrics.js";

export type MetricName = "exact" | "normalized" | "numeric" | "regex" | "contains" | "rouge-l" | "bleu";
export const METRICS: readonly MetricName[] = ["exact", "normalized", "numeric", "regex", "contains", "rouge-l", "bleu"];

export interface MetricOptions {
  tolerance?: number;
  relative?: boolean;
  regexFlags?: string;
}

export function scoreWith(metric: MetricName, answer: string, reference: string, o: MetricOptions = {}): number {
  switch (metric) {
    case "exact":
      return exactMatchTrimmed(answer, reference);
    case "normalized":
      return normalizedMatch(answer, reference);
    case "numeric":
      return numericMatch(answer, reference, o.tolerance, o.relative);
    case "regex":
      return regexMatch(answer, reference, o.regexFlags);
    case "contains":
      return containsMatch(answer, reference);
    case "rouge-l":
      return rougeL(answer, reference);
    case "bleu":
      return bleuAddOne(answer, reference);
  }
}
