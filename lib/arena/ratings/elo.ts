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

export const DEFAULT_ELO: Required<EloOptions> = { k: 4, scale: 400, base: 10, init: 1000 };

/**
 * Runs online Elo over `arrays` in log order, or over `order` (indices into
 * the arrays, repeats allowed) when given.
 * @returns [M] ratings.
 * @example onlineElo(toBattleArrays(battles)) // Float64Array of ratings in model order
 */
export function onlineElo(arrays: BattleArrays, options: EloOptions = {}, order?: Int32Array, out?: Float64Array): Float64Array {
  const { k, scale, base, init } = { ...DEFAULT_ELO, ...options };
  const ratings = out ?? new Float64Array(arrays.models.length);
  ratings.fill(init);
  const f = Math.log(base) / scale;
  const n = order ? order.length : arrays.a.length;
  const { a, b, score } = arrays;
  for (let s = 0; s < n; s++) {
    const i = order ? order[s] : s;
    const ra = ratings[a[i]];
    const rb = ratings[b[i]];
    const p = 1 / (1 + Math.exp(f * (rb - ra)));
    const d = k * (score[i] - p);
    ratings[a[i]] = ra + d;
    ratings[b[i]] = rb - d;
  }
  return ratings;
}

/**
 * Online Elo ratings after the first `at[c]` battles, for each checkpoint c.
 * @returns [C, M] row-major.
 */
export function eloHistory(arrays: BattleArrays, at: readonly number[], options: EloOptions = {}): Float64Array {
  const { k, scale, base, init } = { ...DEFAULT_ELO, ...options };
  const m = arrays.models.length;
  const out = new Float64Array(at.length * m);
  const ratings = new Float64Array(m).fill(init);
  const f = Math.log(base) / scale;
  let done = 0;
  at.forEach((stop, c) => {
    for (; done < Math.min(stop, arrays.a.length); done++) {
      const ia = arrays.a[done];
      const ib = arrays.b[done];
      const p = 1 / (1 + Math.exp(f * (ratings[ib] - ratings[ia])));
      const d = k * (arrays.score[done] - p);
      ratings[ia] += d;
      ratings[ib] -= d;
    }
    out.set(ratings, c * m);
  });
  return out;
}
