/**
 * The rating pipeline: preprocess -> fit -> scale/anchor -> bootstrap ->
 * summarise. Every method returns the same `RatingResult` shape.
 */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import type { BattleRecord } from "../types.js";
import { bootstrapBT, bootstrapElo, rankUpperBound, summarizeSamples } from "./bootstrap.js";
import { fitBradleyTerry } from "./bt.js";
import { countOutcomes, modelsOf, toBattleArrays } from "./compact.js";
import { onlineElo } from "./elo.js";
import { type RatingOptions, type RatingOptionsInput, resolveRatingOptions } from "./options.js";
import { fitStyleBT, styleFeatures } from "./style.js";

export interface RatingResult {
  /** "bt", "elo", or "bt-style" (BT with style control). */
  method: "bt" | "elo" | "bt-style";
  /** [M] model names, in name order; every array below is aligned with it. */
  models: string[];
  /** [M] point estimate: the method applied once to the whole log. */
  rating: Float64Array;
  /** [M] bootstrap median and interval bounds (equal to `rating` when bootstrap = 0). */
  median: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  /** [M] Rank (UB). */
  rank: Int32Array;
  /** [M] battles each model played (after tie and vote-floor filtering). */
  battles: Int32Array;
  /** Bootstrap rounds and their ratings [rounds, M] (null when rounds = 0). */
  rounds: number;
  samples: Float64Array | null;
  /** Whether the full-data fit reached the tolerance (false for separable data under plain MLE). */
  converged: boolean;
  /** Bootstrap rounds whose fit did not converge. */
  unconverged: number;
  /** Style coefficients (logit per z-scored feature), only for "bt-style". */
  style: { features: string[]; coefficients: number[] } | null;
  options: RatingOptions;
  /** Things a reader should know (disconnected comparisons, non-finite MLE, anchor). */
  warnings: string[];
}

/** Applies the vote floor: drops battles of models with fewer than `min` battles. */
export function applyVoteFloor(battles: readonly BattleRecord[], min: number): BattleRecord[] {
  if (min <= 0) return [...battles];
  const counts = new Map<string, number>();
  for (const b of battles) {
    counts.set(b.model_a, (counts.get(b.model_a) ?? 0) + 1);
    counts.set(b.model_b, (counts.get(b.model_b) ?? 0) + 1);
  }
  return battles.filter((b) => counts.get(b.model_a)! >= min && counts.get(b.model_b)! >= min);
}

/**
 * Rates battles in Chatbot Arena's format.
 * @example rateBattles(battles, { method: "bt", bootstrap: 1000, seed: 1 }).rating
 */
export function rateBattles(battles: readonly BattleRecord[], input: RatingOptionsInput = {}): RatingResult {
  const options = resolveRatingOptions(input);
  const kept = applyVoteFloor(battles, options.minBattles);
  const models = modelsOf(kept);
  if (options.anchor && !models.includes(options.anchor.model)) {
    throw new ConfigError(`anchor model ${JSON.stringify(options.anchor.model)} has no battles; models: ${models.join(", ") || "(none)"}`, { key: "anchor.model" });
  }
  const arrays = toBattleArrays(kept, { ties: options.ties, models });
  const m = models.length;
  const rng = new Random(options.seed);
  const warnings: string[] = [];
  const toRating = (t: Float64Array, out: Float64Array, offset = 0): void => {
    for (let k = 0; k < m; k++) out[offset + k] = options.scale * t[k] + options.init;
  };

  let method: RatingResult["method"] = options.method;
  const rating = new Float64Array(m);
  let samples: Float64Array | null = null;
  let converged = true;
  let unconverged = 0;
  let style: RatingResult["style"] = null;
  const solver = { alpha: Math.log(options.base), l2: options.l2, tol: options.tol, maxIter: options.maxIter };

  if (arrays.a.length === 0) {
    warnings.push("there are no battles to rate");
  } else if (options.method === "elo") {
    if (options.style) throw new ConfigError("style control needs method 'bt'", { key: "style" });
    const elo = { k: options.k, scale: options.scale, base: options.base, init: options.init };
    rating.set(onlineElo(arrays, elo));
    if (options.bootstrap > 0) samples = bootstrapElo(arrays, options.bootstrap, rng, elo).samples;
  } else if (options.style) {
    method = "bt-style";
    const feats = styleFeatures(kept, arrays, options.style);
    const fitOpts = { alpha: solver.alpha, l2: options.style.l2, tol: options.tol, maxIter: options.maxIter };
    const bootOpts = { ...fitOpts, tol: options.bootstrapTol };
    const fit = fitStyleBT(arrays, feats, fitOpts);
    converged = fit.converged;
    toRating(fit.t, rating);
    style = { features: feats.names, coefficients: [...fit.beta] };
    if (options.bootstrap > 0) {
      // Resample battles (features differ per battle): multinomial weights over battles.
      const n = arrays.a.length;
      const weights = new Float64Array(n);
      const start = new Float64Array(m + feats.names.length);
      start.set(fit.t);
      start.set(fit.beta, m);
      samples = new Float64Array(options.bootstrap * m);
      for (let r = 0; r < options.bootstrap; r++) {
        weights.fill(0);
        for (let s = 0; s < n; s++) weights[rng.int(n)]++;
        const f = fitStyleBT(arrays, feats, bootOpts, weights, start);
        if (!f.converged) unconverged++;
        toRating(f.t, samples, r * m);
      }
    }
  } else {
    const counts = countOutcomes(arrays);
    const fit = fitBradleyTerry(counts, solver);
    converged = fit.converged;
    if (fit.components > 1) warnings.push(`the battles form ${fit.components} disconnected groups of models: ratings are only comparable within a group`);
    toRating(fit.t, rating);
    if (options.bootstrap > 0) {
      const boot = bootstrapBT(counts, fit.layout, fit.t, options.bootstrap, rng, { ...solver, tol: options.bootstrapTol });
      unconverged = boot.unconverged;
      samples = boot.samples;
      for (let r = 0; r < boot.rounds; r++) toRating(samples.subarray(r * m, (r + 1) * m), samples, r * m);
    }
  }
  if (!converged) {
    warnings.push("the fit did not converge: some model wins (or loses) every comparison, so its maximum-likelihood rating is infinite; set l2 > 0 for finite ratings");
  }
  if (unconverged > 0) warnings.push(`${unconverged} of ${options.bootstrap} bootstrap rounds did not converge (separable resamples); intervals are wide there`);

  // Anchor: shift the point estimate and every bootstrap round.
  if (options.anchor) {
    const ai = models.indexOf(options.anchor.model);
    const shift = (row: Float64Array, off: number): void => {
      const d = options.anchor!.rating - row[off + ai];
      for (let k = 0; k < m; k++) row[off + k] += d;
    };
    shift(rating, 0);
    if (samples) for (let r = 0; r < options.bootstrap; r++) shift(samples, r * m);
  }

  const rounds = samples ? options.bootstrap : 0;
  const ci = samples
    ? summarizeSamples(samples, rounds, m, options.confidence)
    : { median: Float64Array.from(rating), lower: Float64Array.from(rating), upper: Float64Array.from(rating) };
  const battlesPer = new Int32Array(m);
  for (let i = 0; i < arrays.a.length; i++) {
    battlesPer[arrays.a[i]]++;
    battlesPer[arrays.b[i]]++;
  }
  return {
    method,
    models,
    rating,
    median: ci.median,
    lower: ci.lower,
    upper: ci.upper,
    rank: rankUpperBound(ci.lower, ci.upper),
    battles: battlesPer,
    rounds,
    samples,
    converged,
    unconverged,
    style,
    options,
    warnings,
  };
}

/** One leaderboard row, as `tslm arena rate --json` prints it. */
export interface RatingRow {
  model: string;
  rating: number;
  lower: number;
  upper: number;
  rank: number;
  battles: number;
}

/** Model indices ordered by rating, best first (ties by name). */
export function orderByRating(result: RatingResult): number[] {
  return result.models.map((_, i) => i).sort((x, y) => result.rating[y] - result.rating[x] || (result.models[x] < result.models[y] ? -1 : 1));
}

/** Leaderboard rows, best first. */
export function ratingRows(result: RatingResult): RatingRow[] {
  return orderByRating(result).map((i) => ({
    model: result.models[i],
    rating: result.rating[i],
    lower: result.lower[i],
    upper: result.upper[i],
    rank: result.rank[i],
    battles: result.battles[i],
  }));
}
