/**
 * Preprocessing: battle records -> compact arrays that every rating method
 * reads. Two layouts, as in FastChat's rating_systems.py:
 *
 * - `BattleArrays`: one row per battle, in battle order (online Elo, style
 *   control, rating over battles).
 * - `OutcomeCounts`: the unique (model_a, model_b, outcome) rows with how
 *   often each occurred (Bradley-Terry and its bootstrap). 100,000 battles
 *   among 50 models fold into at most 50 * 49 * 3 = 7,350 rows.
 *
 * Models are numbered in name order (not first appearance), so a fit does
 * not depend on the order of the log.
 */
import { DataError } from "../../util/errors.js";
import type { BattleRecord, Winner } from "../types.js";

/** Score of model_a in a battle: win 1, tie 0.5, loss 0. */
export function winnerScore(winner: Winner): number {
  switch (winner) {
    case "model_a":
      return 1;
    case "model_b":
      return 0;
    case "tie":
    case "tie (bothbad)":
      return 0.5;
    default:
      throw new DataError(`unknown winner ${JSON.stringify(winner)}; expected model_a, model_b, tie or "tie (bothbad)"`);
  }
}

/** How ties enter the ratings. */
export type TieRule =
  /** Half a win and half a loss for each side (Chatbot Arena, default). */
  | "half"
  /** Ties are left out. */
  | "drop";

export interface BattleArrays {
  /** Model names; index i in `a`/`b` refers to `models[i]`. */
  models: string[];
  /** [N] index of model_a / model_b of each kept battle, in log order. */
  a: Int32Array;
  b: Int32Array;
  /** [N] score of model_a: 1, 0.5 or 0. */
  score: Float64Array;
  /** [N] index of each kept battle in the input array. */
  source: Int32Array;
}

/** Options shared by every preprocessing step. */
export interface PreprocessOptions {
  /** Tie handling. Default "half" (Chatbot Arena). */
  ties?: TieRule;
  /**
   * Fixed model list (for example to keep a model with no battles left after
   * filtering). Default: every model named in the battles, sorted by name.
   */
  models?: readonly string[];
}

/** Sorted unique model names of a battle list. */
export function modelsOf(battles: readonly BattleRecord[]): string[] {
  const set = new Set<string>();
  for (const r of battles) {
    set.add(r.model_a);
    set.add(r.model_b);
  }
  return [...set].sort(compareNames);
}

/** Plain code-point order, so results do not depend on the locale. */
export function compareNames(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Battles -> per-battle arrays. Checks every record and names the bad one.
 * @example toBattleArrays([{ model_a: "x", model_b: "y", winner: "model_a" }]).score[0] === 1
 */
export function toBattleArrays(battles: readonly BattleRecord[], options: PreprocessOptions = {}): BattleArrays {
  const ties = options.ties ?? "half";
  const models = options.models ? [...options.models] : modelsOf(battles);
  const index = new Map(models.map((m, i) => [m, i]));
  const a = new Int32Array(battles.length);
  const b = new Int32Array(battles.length);
  const score = new Float64Array(battles.length);
  const source = new Int32Array(battles.length);
  let n = 0;
  for (let i = 0; i < battles.length; i++) {
    const r = battles[i];
    const ia = index.get(r.model_a);
    const ib = index.get(r.model_b);
    if (typeof r.model_a !== "string" || typeof r.model_b !== "string") {
      throw new DataError(`battle ${i}: model_a and model_b must be strings`, { key: `battles[${i}]` });
    }
    if (ia === undefined || ib === undefined) {
      throw new DataError(`battle ${i}: model ${JSON.stringify(ia === undefined ? r.model_a : r.model_b)} is not in the model list`, { key: `battles[${i}]` });
    }
    if (ia === ib) throw new DataError(`battle ${i}: a model cannot battle itself (${r.model_a})`, { key: `battles[${i}]` });
    let s: number;
    try {
      s = winnerScore(r.winner);
    } catch (e) {
      throw new DataError(`battle ${i}: ${(e as Error).message}`, { key: `battles[${i}].winner` });
    }
    if (s === 0.5 && ties === "drop") continue;
    a[n] = ia;
    b[n] = ib;
    score[n] = s;
    source[n] = i;
    n++;
  }
  return { models, a: a.slice(0, n), b: b.slice(0, n), score: score.slice(0, n), source: source.slice(0, n) };
}

export interface OutcomeCounts {
  models: string[];
  /** [U] unique rows: model_a index, model_b index, score of model_a, count. */
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;
  count: Float64Array;
  /** Total battles (sum of counts). */
  total: number;
  /** [M] battles each model played. */
  battles: Float64Array;
}

/**
 * Folds per-battle arrays into unique (a, b, outcome) rows with counts,
 * ordered by (a, b, outcome) so the layout is deterministic.
 */
export function countOutcomes(arrays: BattleArrays): OutcomeCounts {
  const m = arrays.models.length;
  const counts = new Map<number, number>();
  const battles = new Float64Array(m);
  for (let i = 0; i < arrays.a.length; i++) {
    // key = (a * m + b) * 3 + outcome code (0 loss, 1 tie, 2 win)
    const key = (arrays.a[i] * m + arrays.b[i]) * 3 + arrays.score[i] * 2;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    battles[arrays.a[i]]++;
    battles[arrays.b[i]]++;
  }
  const keys = [...counts.keys()].sort((x, y) => x - y);
  const u = keys.length;
  const out: OutcomeCounts = {
    models: arrays.models,
    a: new Int32Array(u),
    b: new Int32Array(u),
    score: new Float64Array(u),
    count: new Float64Array(u),
    total: arrays.a.length,
    battles,
  };
  keys.forEach((key, k) => {
    const code = key % 3;
    const pair = (key - code) / 3;
    out.a[k] = Math.floor(pair / m);
    out.b[k] = pair % m;
    out.score[k] = code / 2;
    out.count[k] = counts.get(key)!;
  });
  return out;
}

/** Battles -> unique outcome rows in one call. */
export function preprocessBattles(battles: readonly BattleRecord[], options: PreprocessOptions = {}): OutcomeCounts {
  return countOutcomes(toBattleArrays(battles, options));
}

/**
 * Pair layout used by the Newton solver: unique rows folded onto unordered
 * pairs (i < j). `pairOf[k]` is the pair of unique row k and `sign[k]` is +1
 * when row k has model_a = i, -1 when model_a = j.
 */
export interface PairLayout {
  /** [P] lower and higher model index of each pair. */
  i: Int32Array;
  j: Int32Array;
  /** [U] pair of each unique row, and its orientation. */
  pairOf: Int32Array;
  sign: Int8Array;
  /** [U] score of the pair's lower-index model in row k (score, or 1 - score when reversed). */
  lowScore: Float64Array;
}

/** The model pairs alone ([P] lower and higher index), all the solvers need. */
export type PairIndex = Pick<PairLayout, "i" | "j">;

export function pairLayout(counts: OutcomeCounts): PairLayout {
  const m = counts.models.length;
  const ids = new Map<number, number>();
  const pi: number[] = [];
  const pj: number[] = [];
  const u = counts.a.length;
  const pairOf = new Int32Array(u);
  const sign = new Int8Array(u);
  for (let k = 0; k < u; k++) {
    const x = counts.a[k];
    const y = counts.b[k];
    const lo = Math.min(x, y);
    const hi = Math.max(x, y);
    const key = lo * m + hi;
    let id = ids.get(key);
    if (id === undefined) {
      id = pi.length;
      ids.set(key, id);
      pi.push(lo);
      pj.push(hi);
    }
    pairOf[k] = id;
    sign[k] = x === lo ? 1 : -1;
  }
  const lowScore = Float64Array.from(counts.score, (y, k) => (sign[k] > 0 ? y : 1 - y));
  return { i: Int32Array.from(pi), j: Int32Array.from(pj), pairOf, sign, lowScore };
}
