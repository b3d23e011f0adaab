/**
 * Bootstrap confidence intervals (seeded).
 *
 * - BT: each round draws new counts for the unique outcome rows from
 *   Multinomial(total, observed counts / total), as FastChat's
 *   `compute_bootstrap_bt` does, then refits starting from the full-data fit
 *   (warm start) with the full-data Hessian factor, so a round costs a few
 *   gradient passes over the model pairs. A round whose resample leaves a
 *   model without a finite rating (it won or lost all its resampled
 *   battles) records it as +/-Infinity (or NaN when it cannot be placed).
 * - Elo: each round replays `total` battles drawn with replacement, in the
 *   order drawn (FastChat's `compute_bootstrap_elo`).
 *
 * Intervals are the (1 - c)/2 and (1 + c)/2 quantiles of the rounds, centre
 * the median; Rank (UB) = 1 + number of models whose lower bound exceeds
 * this model's upper bound.
 */
import type { Random } from "../../util/random.js";
import { type BTSolverOptions, btWorkspace, DEFAULT_BT_SOLVER, fitIdentified, pairStats, type PairStats, useDense } from "./bt.js";
import { chordBT, hessianFactor } from "./chord.js";
import type { BattleArrays, OutcomeCounts, PairLayout } from "./compact.js";
import { type EloOptions, onlineElo } from "./elo.js";
import { MultinomialSampler } from "./sampling.js";

export interface BootstrapSamples {
  /** [R, M] row-major: one row of values per round. */
  samples: Float64Array;
  rounds: number;
  /** Rounds whose fit did not reach the tolerance (separable data). */
  unconverged: number;
}

/** Called after each bootstrap round (round = rounds done so far). */
export type RoundCallback = (round: number, rounds: number) => void;

/**
 * BT bootstrap on natural-scale strengths.
 *
 * The BT likelihood does not depend on which model was shown as model_a, so
 * the unique rows (a, b, y) and (b, a, 1 - y) are merged into one category
 * per (pair, outcome of the lower-index model) before resampling. By the
 * aggregation property of the multinomial this draws exactly the same
 * distribution of pair statistics as resampling the unmerged rows, with
 * half as many categories.
 * @param t0 the full-data fit, used as the starting point of every round.
 * @param onRound called after each round (progress).
 */
export function bootstrapBT(
  counts: OutcomeCounts,
  layout: PairLayout,
  t0: Float64Array,
  rounds: number,
  rng: Random,
  solver: BTSolverOptions = {},
  onRound?: RoundCallback,
): BootstrapSamples {
  const m = counts.models.length;
  const p = layout.i.length;
  // [P, 3] counts of (lower-index model wins, tie, loses) per pair.
  const merged = new Float64Array(p * 3);
  for (let k = 0; k < counts.count.length; k++) merged[layout.pairOf[k] * 3 + layout.lowScore[k] * 2] += counts.count[k];
  const sampler = new MultinomialSampler(counts.total, merged);
  const draw = new Float64Array(p * 3);
  const stats: PairStats = { S: new Float64Array(p), N: new Float64Array(p) };
  const ws = btWorkspace(m);
  // The chord refit needs a dense factor of the full-data Hessian; many models refit by sparse Newton.
  const full = pairStats(counts, layout);
  const factor = useDense(m, solver.solver ?? DEFAULT_BT_SOLVER.solver) && t0.every(Number.isFinite) ? hessianFactor(m, layout, full, t0, solver) : null;
  const samples = new Float64Array(rounds * m);
  let unconverged = 0;
  for (let r = 0; r < rounds; r++) {
    sampler.sample(rng, draw);
    for (let q = 0; q < p; q++) {
      const loss = draw[q * 3];
      const tie = draw[q * 3 + 1];
      const win = draw[q * 3 + 2];
      stats.S[q] = win + 0.5 * tie;
      stats.N[q] = win + tie + loss;
    }
    const fit = factor ? chordBT(m, layout, stats, factor, t0, solver, ws) : fitIdentified(m, layout, stats, solver, t0, ws);
    if (!fit.coreConverged || fit.t.some((v, k) => !Number.isFinite(v) && Number.isFinite(t0[k]))) unconverged++;
    samples.set(fit.t, r * m);
    onRound?.(r + 1, rounds);
  }
  return { samples, rounds, unconverged };
}

/** Elo bootstrap in rating units. */
export function bootstrapElo(arrays: BattleArrays, rounds: number, rng: Random, options: EloOptions = {}, onRound?: RoundCallback): BootstrapSamples {
  const m = arrays.models.length;
  const n = arrays.a.length;
  const order = new Int32Array(n);
  const row = new Float64Array(m);
  const samples = new Float64Array(rounds * m);
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < n; s++) order[s] = rng.int(n);
    onlineElo(arrays, options, order, row);
    samples.set(row, r * m);
    onRound?.(r + 1, rounds);
  }
  return { samples, rounds, unconverged: 0 };
}

/**
 * Quantile with linear interpolation between order statistics (numpy's and
 * pandas' default), on a sorted array. Between a finite value and an
 * infinite one the infinity wins once past the finite order statistic.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  if (frac === 0 || sorted[lo] === sorted[hi]) return sorted[lo];
  if (!Number.isFinite(sorted[lo]) || !Number.isFinite(sorted[hi])) return frac < 1 && sorted[lo] === -Infinity ? -Infinity : sorted[hi];
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

export interface Interval {
  median: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * Median and central `confidence` interval of each column of [R, M] samples.
 * Rounds where a model could not be placed (NaN) are left out of its column;
 * a column with no placed round is NaN throughout.
 * @example summarizeSamples(samples, 1000, 50, 0.95).lower
 */
export function summarizeSamples(samples: Float64Array, rounds: number, m: number, confidence = 0.95): Interval {
  const median = new Float64Array(m);
  const lower = new Float64Array(m);
  const upper = new Float64Array(m);
  const col = new Float64Array(rounds);
  const lo = (1 - confidence) / 2;
  for (let j = 0; j < m; j++) {
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      const v = samples[r * m + j];
      if (!Number.isNaN(v)) col[n++] = v;
    }
    const placed = col.subarray(0, n).sort();
    median[j] = quantileSorted(placed, 0.5);
    lower[j] = quantileSorted(placed, lo);
    upper[j] = quantileSorted(placed, 1 - lo);
  }
  return { median, lower, upper };
}

/**
 * Rank (UB): 1 + the number of models that are better with confidence
 * (their lower bound above this model's upper bound), as Chatbot Arena ranks.
 * An unknown bound (NaN) is no evidence: it never makes a model better with confidence.
 */
export function rankUpperBound(lower: Float64Array, upper: Float64Array): Int32Array {
  const m = lower.length;
  const rank = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let better = 0;
    for (let j = 0; j < m; j++) if (j !== i && lower[j] > upper[i]) better++;
    rank[i] = 1 + better;
  }
  return rank;
}
