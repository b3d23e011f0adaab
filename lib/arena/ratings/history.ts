/**
 * Rating over battles: ratings after the first k battles of the log, at
 * evenly spaced checkpoints. For BT each checkpoint is a full refit on the
 * prefix (warm-started from the previous one); for Elo it is the online
 * rating at that point. Shows how fast a leaderboard settles.
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { BattleRecord } from "../types.js";
import { type BTFit, type BTSolverOptions, fitBradleyTerry, fitIdentified, pairStats } from "./bt.js";
import { type BattleArrays, countOutcomes, modelsOf, pairLayout, toBattleArrays } from "./compact.js";
import { centreComponents, components, playedMask } from "./graph.js";
import { eloHistory } from "./elo.js";
import { type RatingOptionsInput, resolveRatingOptions } from "./options.js";
import { applyVoteFloor } from "./rate.js";

export interface HistoryOptions {
  /** Number of checkpoints. Default 20. */
  points?: number;
}

/** Evenly spaced checkpoints 1..n (rounded up, last = n). */
export function checkpoints(n: number, points: number): number[] {
  const out: number[] = [];
  for (let c = 1; c <= points; c++) {
    const k = Math.ceil((n * c) / points);
    if (k > 0 && k !== out[out.length - 1]) out.push(k);
  }
  return out;
}

/**
 * Ratings after each checkpoint, long form: battles, model, rating. Models
 * appear from the first checkpoint where they have played; BT checkpoints
 * whose prefix has no finite maximum-likelihood fit (someone won or lost
 * everything so far, and l2 = 0) are left out.
 * @example ratingHistory(battles, { method: "bt" }, { points: 10 }).print()
 */
export function ratingHistory(battles: readonly BattleRecord[], input: RatingOptionsInput = {}, history: HistoryOptions = {}): ColumnTable {
  const options = resolveRatingOptions(input);
  const kept = applyVoteFloor(battles, options.minBattles);
  const models = modelsOf(kept);
  const arrays = toBattleArrays(kept, { ties: options.ties, models });
  const at = checkpoints(arrays.a.length, history.points ?? 20);
  const m = models.length;
  const firstSeen = new Int32Array(m).fill(-1);
  for (let i = arrays.a.length - 1; i >= 0; i--) {
    firstSeen[arrays.a[i]] = i;
    firstSeen[arrays.b[i]] = i;
  }
  let values: Float64Array; // [C, M]
  if (options.method === "elo") {
    values = eloHistory(arrays, at, { k: options.k, scale: options.scale, base: options.base, init: options.init });
  } else {
    values = new Float64Array(at.length * m);
    const solver = { alpha: Math.log(options.base), l2: options.l2, tol: options.tol, maxIter: options.maxIter };
    let warm: Float64Array | undefined;
    at.forEach((k, c) => {
      const fit = fitPrefix(arrays, k, solver, warm);
      if (!fit.converged) {
        // A short prefix often has a model that won (or lost) everything: no finite MLE yet.
        values.fill(NaN, c * m, (c + 1) * m);
        return;
      }
      warm = fit.t;
      for (let j = 0; j < m; j++) values[c * m + j] = options.scale * fit.t[j] + options.init;
    });
  }
  const col = { battles: [] as number[], model: [] as string[], rating: [] as number[] };
  const anchor = options.anchor ? models.indexOf(options.anchor.model) : -1;
  at.forEach((k, c) => {
    const shift = anchor >= 0 && firstSeen[anchor] < k ? options.anchor!.rating - values[c * m + anchor] : 0;
    for (let j = 0; j < m; j++) {
      if (firstSeen[j] < 0 || firstSeen[j] >= k || Number.isNaN(values[c * m + j])) continue;
      col.battles.push(k);
      col.model.push(models[j]);
      col.rating.push(values[c * m + j] + shift);
    }
  });
  return aq.table(col);
}

/** BT fit on the first k battles, on the full model list (absent models stay at 0). */
function fitPrefix(arrays: BattleArrays, k: number, solver: BTSolverOptions, warm?: Float64Array): BTFit {
  const prefix: BattleArrays = {
    models: arrays.models,
    a: arrays.a.subarray(0, k),
    b: arrays.b.subarray(0, k),
    score: arrays.score.subarray(0, k),
    source: arrays.source.subarray(0, k),
  };
  const counts = countOutcomes(prefix);
  if (!warm) return fitBradleyTerry(counts, solver);
  const layout = pairLayout(counts);
  const stats = pairStats(counts, layout);
  // Re-centre the warm start on the models that play in this prefix.
  return fitIdentified(arrays.models.length, layout, stats, solver, recentre(warm, stats, layout));
}

/** A warm start shifted to mean zero on each component of this prefix's comparison graph (the gauge a cold fit has). */
function recentre(t: Float64Array, stats: { N: Float64Array }, layout: { i: Int32Array; j: Int32Array }): Float64Array {
  const m = t.length;
  const played = playedMask(m, layout, stats);
  const out = Float64Array.from(t, (v, k) => (played[k] && Number.isFinite(v) ? v : 0));
  centreComponents(out, components(m, layout, stats.N), played);
  return out;
}
