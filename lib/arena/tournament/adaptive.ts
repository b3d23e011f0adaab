/**
 * Adaptive schedule: each batch of battles goes where it shrinks rating
 * uncertainty most, the aim of Chatbot Arena's active sampling (Chiang et al.
 * 2024, sec. 5). Here the uncertainty is the posterior covariance C of a
 * Bradley-Terry fit; one more battle between i and j adds information
 * w = p(1-p) along u = e_i - e_j, which lowers trace(C) by
 * w |C u|^2 / (1 + w u'Cu) (Sherman-Morrison). Battles are picked greedily,
 * updating C after each pick so a batch spreads over pairs. Ties in gain are
 * broken by the seeded generator; each pick takes a random unplayed prompt.
 */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import { allPairs } from "./schedules.js";
import { addBattle, emptyCounts, fitRatings, inverseSpd, precision } from "./estimate.js";
import { pairKey, type BattleSpec, type PlayedBattle, type Schedule } from "./spec.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Picks `count` pairs (indices into `pairs`) that most reduce trace(C).
 * `available[k]` caps how many more battles pair k can have (unplayed prompts).
 */
export function pickPairs(
  n: number,
  pairs: readonly [number, number][],
  theta: Float64Array,
  cov: Float64Array,
  available: number[],
  count: number,
  rng: Random,
): number[] {
  const c = Float64Array.from(cov);
  const left = [...available];
  const picks: number[] = [];
  const cu = new Float64Array(n);
  for (let t = 0; t < count; t++) {
    let best = -1;
    let bestGain = -Infinity;
    let ties = 0;
    for (let k = 0; k < pairs.length; k++) {
      if (left[k] <= 0) continue;
      const [i, j] = pairs[k];
      const p = sigmoid(theta[i] - theta[j]);
      const w = p * (1 - p);
      let norm2 = 0;
      for (let r = 0; r < n; r++) {
        const v = c[r * n + i] - c[r * n + j];
        norm2 += v * v;
      }
      const q = c[i * n + i] + c[j * n + j] - 2 * c[i * n + j];
      const gain = (w * norm2) / (1 + w * q);
      if (gain > bestGain * (1 + 1e-12) + 1e-300) {
        best = k;
        bestGain = gain;
        ties = 1;
      } else if (Math.abs(gain - bestGain) <= 1e-12 * Math.abs(bestGain)) {
        // Reservoir choice among equal gains: uniform and seeded.
        ties++;
        if (rng.int(ties) === 0) best = k;
      }
    }
    if (best < 0) break;
    picks.push(best);
    left[best]--;
    const [i, j] = pairs[best];
    const p = sigmoid(theta[i] - theta[j]);
    const w = p * (1 - p);
    for (let r = 0; r < n; r++) cu[r] = c[r * n + i] - c[r * n + j];
    const q = cu[i] - cu[j];
    const f = w / (1 + w * q);
    for (let r = 0; r < n; r++) for (let s = 0; s < n; s++) c[r * n + s] -= f * cu[r] * cu[s];
  }
  return picks;
}

export function adaptive(
  models: readonly string[],
  promptIds: readonly string[],
  opts: { battles: number; batch?: number; prior: number },
  seedRng: Random,
): Schedule {
  const pairs = allPairs(models);
  const total = pairs.length * promptIds.length;
  if (opts.battles > total) {
    throw new ConfigError(`schedule.battles ${opts.battles} exceeds the ${total} distinct (pair, prompt) combinations`, { key: "schedule.battles" });
  }
  const batch = opts.batch ?? Math.max(pairs.length, Math.ceil(opts.battles / 20));
  const index = new Map(models.map((m, i) => [m, i]));
  const pairIdx = pairs.map(([a, b]) => [index.get(a)!, index.get(b)!] as [number, number]);
  const pairOf = new Map(pairs.map(([a, b], k) => [pairKey(a, b), k]));
  let given = 0;
  let round = 0;
  return {
    type: "adaptive",
    total: opts.battles,
    static: false,
    nextRound(played: readonly PlayedBattle[]): BattleSpec[] | null {
      if (given >= opts.battles) return null;
      const rng = seedRng.fork(`adaptive:${round++}`);
      const counts = emptyCounts(models.length);
      const usedPrompts = pairs.map(() => new Set<string>());
      for (const pb of played) {
        const k = pairOf.get(pairKey(pb.spec.model_a, pb.spec.model_b))!;
        usedPrompts[k].add(pb.spec.prompt_id);
        const i = index.get(pb.spec.model_a)!;
        const j = index.get(pb.spec.model_b)!;
        for (const s of pb.scores) addBattle(counts, i, j, s);
      }
      const theta = fitRatings(counts, opts.prior);
      const cov = inverseSpd(precision(counts, theta, opts.prior), models.length);
      const available = usedPrompts.map((u) => promptIds.length - u.size);
      const picks = pickPairs(models.length, pairIdx, theta, cov, available, Math.min(batch, opts.battles - given), rng);
      if (picks.length === 0) return null;
      const specs: BattleSpec[] = [];
      for (const k of picks) {
        const free = promptIds.filter((p) => !usedPrompts[k].has(p));
        const prompt = free[rng.int(free.length)];
        usedPrompts[k].add(prompt);
        const [a, b] = rng.int(2) === 0 ? pairs[k] : [pairs[k][1], pairs[k][0]];
        specs.push({ index: given++, prompt_id: prompt, model_a: a, model_b: b });
      }
      return specs;
    },
  };
}
