/**
 * Online Elo, as EvalGPT and early Chatbot Arena computed it:
 *
 *   p_a = 1 / (1 + base^((R_b - R_a) / scale))
 *   R_a += K (S_a - p_a),   R_b -= K (S_a - p_a)
 *
 * The result depends on battle order (it models drifting skill); the
 * bootstrap reruns it on battles resampled with replacement in random order.
 */
import type { BattleArrays } from "./compact.js";
import { RATING_DEFAULTS } from "./defaults.js";
import { winProbability } from "./logistic.js";

export interface EloOptions {
  /** Update size per battle. Default 4 (EvalGPT, Chatbot Arena): small, since skills are assumed fixed. */
  k?: number;
  /** Rating points per factor `base` in odds. Default 400 (chess convention). */
  scale?: number;
  /** Odds base. Default 10. */
  base?: number;
  /** Starting rating of every model. Default 1000. */
  init?: number;
}

export const DEFAULT_ELO: Required<EloOptions> = { k: RATING_DEFAULTS.k, scale: RATING_DEFAULTS.scale, base: RATING_DEFAULTS.base, init: RATING_DEFAULTS.init };

/** Applies battle `i` of `arrays` to `ratings` (the Elo update). */
function update(ratings: Float64Array, arrays: BattleArrays, i: number, o: Required<EloOptions>): void {
  const ia = arrays.a[i];
  const ib = arrays.b[i];
  const d = o.k * (arrays.score[i] - winProbability(ratings[ia], ratings[ib], o.scale, o.base));
  ratings[ia] += d;
  ratings[ib] -= d;
}

/**
 * Runs online Elo over `arrays` in log order, or over `order` (indices into
 * the arrays, repeats allowed) when given.
 * @returns [M] ratings.
 * @example onlineElo(toBattleArrays(battles)) // Float64Array of ratings in model order
 */
export function onlineElo(arrays: BattleArrays, options: EloOptions = {}, order?: Int32Array, out?: Float64Array): Float64Array {
  const o = { ...DEFAULT_ELO, ...options };
  const ratings = out ?? new Float64Array(arrays.models.length);
  ratings.fill(o.init);
  const n = order ? order.length : arrays.a.length;
  for (let s = 0; s < n; s++) update(ratings, arrays, order ? order[s] : s, o);
  return ratings;
}

/**
 * Online Elo ratings after the first `at[c]` battles, for each checkpoint c.
 * @returns [C, M] row-major.
 */
export function eloHistory(arrays: BattleArrays, at: readonly number[], options: EloOptions = {}): Float64Array {
  const o = { ...DEFAULT_ELO, ...options };
  const m = arrays.models.length;
  const out = new Float64Array(at.length * m);
  const ratings = new Float64Array(m).fill(o.init);
  let done = 0;
  at.forEach((stop, c) => {
    for (; done < Math.min(stop, arrays.a.length); done++) update(ratings, arrays, done, o);
    out.set(ratings, c * m);
  });
  return out;
}
