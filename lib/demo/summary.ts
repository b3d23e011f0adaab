/**
 * What the demo concludes from a run: each variant's exact-match accuracy
 * on the prompts it answered, and whether each fine-tuned variant's rating
 * interval lies wholly above the base model's (Arena-Hard's "separability
 * with confidence" for the pairs the demo is about).
 */
import type { RatingRow } from "../arena/ratings/rate.js";
import type { LoadedRun } from "../arena/store/load.js";
import { metricFor } from "../arena/judges/reference.js";
import { scoreWith } from "../arena/judges/metrics.js";

export interface Separation {
  model: string;
  base: string;
  /** model's lower bound minus the base's upper bound: > 0 means the intervals do not overlap. */
  gap: number;
  above: boolean;
}

/** Each listed model against `base`, from leaderboard rows. */
export function separation(rows: readonly RatingRow[], base: string, models: readonly string[]): Separation[] {
  const b = rows.find((r) => r.model === base);
  if (!b) return [];
  return models.flatMap((m) => {
    const r = rows.find((x) => x.model === m);
    if (!r) return [];
    const gap = r.lower - b.upper;
    return [{ model: m, base, gap, above: gap > 0 }];
  });
}

/**
 * Share of each model's answers that score 1 under the prompt's reference
 * metric (exact match for the skills suite); prompts without a reference
 * and failed answers are left out.
 */
export function variantAccuracy(run: Pick<LoadedRun, "answers" | "suite">): Map<string, number> {
  const prompts = new Map(run.suite.prompts.map((p) => [p.id, p]));
  const tally = new Map<string, { right: number; all: number }>();
  for (const a of run.answers) {
    const p = prompts.get(a.prompt_id);
    if (!p || p.reference === undefined || a.text === undefined) continue;
    const t = tally.get(a.model) ?? { right: 0, all: 0 };
    t.all++;
    if (scoreWith(metricFor({ metric: "auto" }, p), a.text, p.reference) >= 1) t.right++;
    tally.set(a.model, t);
  }
  return new Map([...tally].map(([m, t]) => [m, t.all ? t.right / t.all : 0]));
}
