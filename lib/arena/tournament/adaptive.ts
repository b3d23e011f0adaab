/**
 * Adaptive schedule: each batch of battles goes where it shrinks the
 * uncertainty of the predicted win rates most, the aim of Chatbot Arena's
 * active sampling (Chiang et al. 2024, sec. 5: sample pairs by how much one
 * more battle narrows their win-rate confidence interval).
 *
 * Uncertainty is measured with a Bradley-Terry fit: C is the posterior
 * covariance of the ratings, and by the delta method the variance of the
 * predicted win probability of pair (i, j) is w_ij^2 u'Cu with
 * w_ij = p_ij (1 - p_ij) and u = e_i - e_j. The total over all pairs is
 * trace(C L C') summed as u'(C L C)u, where L is the Laplacian with weights
 * w_ij^2. One more battle on pair k adds information w_k along u_k, which
 * (Sherman-Morrison) lowers the total by w_k u_k'(C L C)u_k / (1 + w_k u_k'Cu_k).
 * Lopsided pairs (p near 0 or 1) have tiny w, so battles go to close pairs
 * and to pairs that link otherwise poorly connected models. Picks are
 * greedy, updating C after each so a batch spreads out; equal gains are
 * broken by the seeded generator; each pick takes a random unplayed prompt.
 */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import { sigmoid } from "../ratings/logistic.js";
import { allPairs } from "./schedules.js";
import { addBattle, emptyCounts, fitRatings, inverseSpd, precision } from "./estimate.js";
import { pairKey, type BattleSpec, type PlayedBattle, type Schedule } from "./spec.js";

/** out = a b for [n*n] row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, n: number, out = new Float64Array(n * n)): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/**
 * Picks `count` pairs (indices into `pairs`) that most reduce the summed
 * variance of predicted win probabilities. `available[k]` caps how many more
 * battles pair k can have (its unplayed prompts).
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
  const w = pairs.map(([i, j]) => {
    const p = sigmoid(theta[i] - theta[j]);
    return p * (1 - p);
  });
  // Laplacian of the squared weights over every pair of models.
  const lap = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = sigmoid(theta[i] - theta[j]);
      const v = (p * (1 - p)) ** 2;
      lap[i * n + i] += v;
      lap[j * n + j] += v;
      lap[i * n + j] -= v;
      lap[j * n + i] -= v;
    }
  }
  const tmp = new Float64Array(n * n);
  const d = new Float64Array(n * n);
  const cu = new Float64Array(n);
  const picks: number[] = [];
  for (let t = 0; t < count; t++) {
    matmul(matmul(c, lap, n, tmp), c, n, d); // D = C L C
    let best = -1;
    let bestGain = -Infinity;
    let ties = 0;
    for (let k = 0; k < pairs.length; k++) {
      if (left[k] <= 0) continue;
      const [i, j] = pairs[k];
      const q = c[i * n + i] + c[j * n + j] - 2 * c[i * n + j];
      const g = (w[k] * (d[i * n + i] + d[j * n + j] - 2 * d[i * n + j])) / (1 + w[k] * q);
      if (best < 0 || g > bestGain * (1 + 1e-9)) {
        best = k;
        bestGain = g;
        ties = 1;
      } else if (g >= bestGain * (1 - 1e-9)) {
        // Reservoir choice among equal gains: uniform and seeded.
        ties++;
        if (rng.int(ties) === 0) best = k;
      }
    }
    if (best < 0) break;
    picks.push(best);
    left[best]--;
    const [i, j] = pairs[best];
    for (let r = 0; r < n; r++) cu[r] = c[r * n + i] - c[r * n + j];
    const f = w[best] / (1 + w[best] * (cu[i] - cu[j]));
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
