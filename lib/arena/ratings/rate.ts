/**
 * The rating pipeline: preprocess -> fit -> scale/anchor -> bootstrap ->
 * summarise. Every method returns the same `RatingResult` shape.
 */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import type { BattleRecord } from "../types.js";
import { bootstrapBT, bootstrapElo, rankUpperBound, type RoundCallback, summarizeSamples } from "./bootstrap.js";
import { fitBradleyTerry, pairStats } from "./bt.js";
import { type BattleArrays, compareNames, countOutcomes, modelsOf, toBattleArrays } from "./compact.js";
import { onlineElo } from "./elo.js";
import { components, Placement } from "./graph.js";
import { type RatingOptions, type RatingOptionsInput, resolveRatingOptions } from "./options.js";
import { fitStyleBT, styleFeatures } from "./style.js";

/**
 * Where a model's rating stands: a finite estimate ("rated"); no finite
 * maximum-likelihood rating because it never lost ("above", +Infinity) or
 * never won ("below", -Infinity) against the rated models, or cannot be
 * placed against them ("unplaced", NaN); or no battles at all ("unrated", NaN).
 */
export type RatingStatus = "rated" | "above" | "below" | "unplaced" | "unrated";

export interface RatingResult {
  /** "bt", "elo", or "bt-style" (BT with style control). */
  method: "bt" | "elo" | "bt-style";
  /** [M] model names, in name order; every array below is aligned with it. */
  models: string[];
  /** [M] point estimate: the method applied once to the whole log (+/-Infinity or NaN where `status` is not "rated"). */
  rating: Float64Array;
  /** [M] bootstrap median and interval bounds (equal to `rating` when bootstrap = 0; NaN where unknown). */
  median: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  /** [M] Rank (UB): 1 + the models better with confidence (an unknown bound never counts); models without battles come last. */
  rank: Int32Array;
  /** [M] battles each model played (after tie and vote-floor filtering). */
  battles: Int32Array;
  /** [M] where each model's rating stands. */
  status: RatingStatus[];
  /** Bootstrap rounds and their ratings [rounds, M] (null when rounds = 0). */
  rounds: number;
  samples: Float64Array | null;
  /** Whether the full-data fit reached the tolerance with a finite rating for every model that played. */
  converged: boolean;
  /** Bootstrap rounds whose fit did not converge. */
  unconverged: number;
  /** Style coefficients (logit per z-scored feature), only for "bt-style". */
  style: { features: string[]; coefficients: number[] } | null;
  options: RatingOptions;
  /** Things a reader should know (disconnected comparisons, non-finite MLE, anchor, models without battles). */
  warnings: string[];
}

/** Progress of a rating call: bootstrap rounds done out of the total. */
export interface RatingProgress {
  stage: "bootstrap";
  done: number;
  total: number;
}

/** What a rating call takes besides its options: data and callbacks, not config. */
export interface RatingExtras {
  /** Models to list even without battles (for example every contestant of a run); they are reported "unrated". */
  models?: readonly string[];
  /** Called after each bootstrap round. */
  onProgress?: (p: RatingProgress) => void;
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

/** What a method's fit hands to the common tail of the pipeline (rating units). */
interface MethodFit {
  method: RatingResult["method"];
  rating: Float64Array;
  samples: Float64Array | null;
  placement: Uint8Array;
  converged: boolean;
  unconverged: number;
  style: RatingResult["style"];
  warnings: string[];
}

/**
 * Rates battles in Chatbot Arena's format.
 * @example rateBattles(battles, { method: "bt", bootstrap: 1000, seed: 1 }).rating
 */
export function rateBattles(battles: readonly BattleRecord[], input: RatingOptionsInput = {}, extras: RatingExtras = {}): RatingResult {
  const options = resolveRatingOptions(input);
  const kept = applyVoteFloor(battles, options.minBattles);
  const models = [...new Set([...modelsOf(kept), ...(extras.models ?? [])])].sort(compareNames);
  if (options.anchor && !modelsOf(kept).includes(options.anchor.model)) {
    throw new ConfigError(`anchor model ${JSON.stringify(options.anchor.model)} has no battles; models: ${modelsOf(kept).join(", ") || "(none)"}`, { key: "anchor.model" });
  }
  const arrays = toBattleArrays(kept, { ties: options.ties, models });
  const onRound: RoundCallback | undefined = extras.onProgress && ((done, total) => extras.onProgress!({ stage: "bootstrap", done, total }));
  const fit = fitMethod(kept, arrays, options, onRound);
  const warnings = [...fit.warnings];
  if (options.anchor) anchor(fit, models, options.anchor, options.bootstrap, warnings);
  const rounds = fit.samples ? options.bootstrap : 0;
  const ci = fit.samples
    ? summarizeSamples(fit.samples, rounds, models.length, options.confidence)
    : { median: Float64Array.from(fit.rating), lower: Float64Array.from(fit.rating), upper: Float64Array.from(fit.rating) };
  const status = statuses(fit.placement);
  pointToInterval(fit.rating, ci, status);
  warnings.push(...statusWarnings(models, status, fit.converged, options));
  if (fit.unconverged > 0) warnings.push(`${fit.unconverged} of ${options.bootstrap} bootstrap rounds did not converge (a resample where a model won or lost all its battles has no finite rating); intervals are wide there`);
  return {
    method: fit.method,
    models,
    rating: fit.rating,
    median: ci.median,
    lower: ci.lower,
    upper: ci.upper,
    rank: ranks(ci, status),
    battles: battlesPer(arrays),
    status,
    rounds,
    samples: fit.samples,
    converged: fit.converged,
    unconverged: fit.unconverged,
    style: fit.style,
    options,
    warnings,
  };
}

function battlesPer(arrays: BattleArrays): Int32Array {
  const out = new Int32Array(arrays.models.length);
  for (let i = 0; i < arrays.a.length; i++) {
    out[arrays.a[i]]++;
    out[arrays.b[i]]++;
  }
  return out;
}

/** Runs the configured method on the battle arrays (no battles: every model unrated). */
function fitMethod(kept: readonly BattleRecord[], arrays: BattleArrays, options: RatingOptions, onRound?: RoundCallback): MethodFit {
  const m = arrays.models.length;
  if (options.method === "elo" && options.style) throw new ConfigError("style control needs method 'bt'", { key: "style" });
  if (arrays.a.length === 0) {
    const none = new Uint8Array(m).fill(Placement.Unplayed);
    return { method: options.method, rating: new Float64Array(m).fill(NaN), samples: null, placement: none, converged: true, unconverged: 0, style: null, warnings: ["there are no battles to rate"] };
  }
  if (options.method === "elo") return fitElo(arrays, options, onRound);
  if (options.style) return fitStyle(kept, arrays, options, onRound);
  return fitBT(arrays, options, onRound);
}

/** Played models are "rated"; others are unplayed, with NaN ratings. */
function playedPlacement(arrays: BattleArrays, values: Float64Array[]): Uint8Array {
  const placement = new Uint8Array(arrays.models.length).fill(Placement.Unplayed);
  for (let i = 0; i < arrays.a.length; i++) placement[arrays.a[i]] = placement[arrays.b[i]] = Placement.Rated;
  const m = arrays.models.length;
  for (const v of values) for (let k = 0; k < v.length; k++) if (placement[k % m] === Placement.Unplayed) v[k] = NaN;
  return placement;
}

function fitElo(arrays: BattleArrays, options: RatingOptions, onRound?: RoundCallback): MethodFit {
  const elo = { k: options.k, scale: options.scale, base: options.base, init: options.init };
  const rating = onlineElo(arrays, elo);
  const samples = options.bootstrap > 0 ? bootstrapElo(arrays, options.bootstrap, new Random(options.seed), elo, onRound).samples : null;
  const placement = playedPlacement(arrays, samples ? [rating, samples] : [rating]);
  return { method: "elo", rating, samples, placement, converged: true, unconverged: 0, style: null, warnings: [] };
}

/** Natural-scale strengths -> ratings, in place (rows of M). */
function toRatings(t: Float64Array, options: RatingOptions): Float64Array {
  for (let k = 0; k < t.length; k++) t[k] = options.scale * t[k] + options.init;
  return t;
}

function fitBT(arrays: BattleArrays, options: RatingOptions, onRound?: RoundCallback): MethodFit {
  const m = arrays.models.length;
  const solver = { alpha: Math.log(options.base), l2: options.l2, tol: options.tol, maxIter: options.maxIter };
  const counts = countOutcomes(arrays);
  const fit = fitBradleyTerry(counts, solver);
  const warnings: string[] = [];
  if (fit.components > 1) warnings.push(groupsWarning(arrays.models, components(m, fit.layout, pairStats(counts, fit.layout).N), fit.placement, fit.components));
  let samples: Float64Array | null = null;
  let unconverged = 0;
  if (options.bootstrap > 0) {
    const rng = new Random(options.seed);
    const boot = bootstrapBT(counts, fit.layout, fit.t, options.bootstrap, rng, { ...solver, tol: options.bootstrapTol }, onRound);
    unconverged = boot.unconverged;
    samples = toRatings(boot.samples, options);
  }
  return { method: "bt", rating: toRatings(fit.t, options), samples, placement: fit.placement, converged: fit.converged, unconverged, style: null, warnings };
}

function fitStyle(kept: readonly BattleRecord[], arrays: BattleArrays, options: RatingOptions, onRound?: RoundCallback): MethodFit {
  const style = options.style!;
  const m = arrays.models.length;
  const feats = styleFeatures(kept, arrays, style);
  const fitOpts = { alpha: Math.log(options.base), l2: style.l2, tol: options.tol, maxIter: options.maxIter };
  const fit = fitStyleBT(arrays, feats, fitOpts);
  let samples: Float64Array | null = null;
  let unconverged = 0;
  if (options.bootstrap > 0) {
    // Resample battles (features differ per battle): multinomial weights over battles.
    const rng = new Random(options.seed);
    const n = arrays.a.length;
    const weights = new Float64Array(n);
    const start = new Float64Array(m + feats.names.length);
    start.set(fit.t);
    start.set(fit.beta, m);
    samples = new Float64Array(options.bootstrap * m);
    for (let r = 0; r < options.bootstrap; r++) {
      weights.fill(0);
      for (let s = 0; s < n; s++) weights[rng.int(n)]++;
      const f = fitStyleBT(arrays, feats, { ...fitOpts, tol: options.bootstrapTol }, weights, start);
      if (!f.converged) unconverged++;
      samples.set(f.t, r * m);
      onRound?.(r + 1, options.bootstrap);
    }
    toRatings(samples, options);
  }
  const rating = toRatings(fit.t, options);
  const placement = playedPlacement(arrays, samples ? [rating, samples] : [rating]);
  const coefficients = { features: feats.names, coefficients: [...fit.beta] };
  return { method: "bt-style", rating, samples, placement, converged: fit.converged, unconverged, style: coefficients, warnings: [] };
}

/** Shifts the point estimate and every bootstrap round so the anchor model has its rating (a round where it has none becomes unknown). */
function anchor(fit: MethodFit, models: string[], a: { model: string; rating: number }, rounds: number, warnings: string[]): void {
  const m = models.length;
  const ai = models.indexOf(a.model);
  if (!Number.isFinite(fit.rating[ai])) {
    warnings.push(`anchor model ${a.model} has no finite rating, so the ratings are not anchored`);
    return;
  }
  const shift = (row: Float64Array, off: number): void => {
    const d = a.rating - row[off + ai];
    for (let k = 0; k < m; k++) row[off + k] = Number.isFinite(d) ? row[off + k] + d : NaN;
  };
  shift(fit.rating, 0);
  if (fit.samples) for (let r = 0; r < rounds; r++) shift(fit.samples, r * m);
}

/** Rank (UB); a model without battles ranks after every model that has some. */
function ranks(ci: { lower: Float64Array; upper: Float64Array }, status: RatingStatus[]): Int32Array {
  const rank = rankUpperBound(ci.lower, ci.upper);
  const played = status.filter((s) => s !== "unrated").length;
  status.forEach((s, k) => {
    if (s === "unrated") rank[k] = played + 1;
  });
  return rank;
}

function statuses(placement: Uint8Array): RatingStatus[] {
  const names: RatingStatus[] = ["rated", "above", "below", "unplaced", "unrated"];
  return Array.from(placement, (p) => names[p]);
}

/** A model without a finite rating has one known interval end at most: the direction it runs off in. */
function pointToInterval(rating: Float64Array, ci: { median: Float64Array; lower: Float64Array; upper: Float64Array }, status: RatingStatus[]): void {
  status.forEach((s, k) => {
    if (s === "rated") return;
    ci.median[k] = rating[k];
    ci.lower[k] = s === "below" ? -Infinity : NaN;
    ci.upper[k] = s === "above" ? Infinity : NaN;
  });
}

/** Lists at most `max` names, then how many more. */
export function nameList(names: readonly string[], max = 8): string {
  return names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

function groupsWarning(models: string[], comp: Int32Array, placement: Uint8Array, count: number): string {
  const groups = new Map<number, string[]>();
  models.forEach((name, k) => {
    if (placement[k] !== Placement.Unplayed) groups.set(comp[k], [...(groups.get(comp[k]) ?? []), name]);
  });
  const listed = [...groups.values()].sort((x, y) => y.length - x.length).map((g) => `{${nameList(g, 5)}}`);
  return `the battles form ${count} disconnected groups of models: ratings are only comparable within a group (${nameList(listed, 4)})`;
}

function statusWarnings(models: string[], status: RatingStatus[], converged: boolean, options: RatingOptions): string[] {
  const of = (s: RatingStatus) => models.filter((_, k) => status[k] === s);
  const [above, below, unplaced, unrated] = [of("above"), of("below"), of("unplaced"), of("unrated")];
  const out: string[] = [];
  if (above.length + below.length + unplaced.length > 0) {
    const parts = [
      above.length ? `${nameList(above)} never lost (rating +infinite)` : "",
      below.length ? `${nameList(below)} never won (rating -infinite)` : "",
      unplaced.length ? `${nameList(unplaced)} cannot be placed against the rated models` : "",
    ].filter(Boolean);
    out.push(`no finite maximum-likelihood rating: ${parts.join("; ")}. Their ratings are not numbers, only directions; add battles they lose (or win), or set l2 > 0 (e.g. --l2 0.01) for finite regularised ratings`);
  } else if (!converged) {
    out.push(`the fit did not converge in ${options.maxIter} Newton iterations: ratings are not at the maximum of the likelihood`);
  }
  if (unrated.length > 0) out.push(`no rated battles for ${nameList(unrated)}: listed without a rating`);
  return out;
}

/** One leaderboard row, as `tslm arena rate --json` prints it (null for a rating or bound that is not a finite number). */
export interface RatingRow {
  model: string;
  rating: number;
  lower: number;
  upper: number;
  rank: number;
  battles: number;
  /** Where the rating stands (absent: "rated"). */
  status?: RatingStatus;
}

/** Sort key of a rating: +Infinity, finite, unplaced (NaN), -Infinity, then unrated. */
function orderKey(result: RatingResult, i: number): number {
  const s = result.status[i];
  return s === "unrated" ? -3 : s === "below" ? -2 : s === "unplaced" ? -1 : 0;
}

/** Model indices ordered by rating, best first (ties by name). */
export function orderByRating(result: RatingResult): number[] {
  return result.models
    .map((_, i) => i)
    .sort(
      (x, y) =>
        orderKey(result, y) - orderKey(result, x) ||
        (result.status[x] === "rated" || result.status[x] === "above" ? result.rating[y] - result.rating[x] || 0 : 0) ||
        compareNames(result.models[x], result.models[y]),
    );
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
    status: result.status[i],
  }));
}
