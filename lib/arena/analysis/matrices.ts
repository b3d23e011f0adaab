/**
 * Pairwise matrices as long arquero tables (model_a, model_b, value, ...),
 * the layout Vega-Lite heatmaps read directly:
 *
 * - win fraction: share of a-vs-b battles won by a, both presentation orders
 *   merged, ties excluded (Chatbot Arena's and EvalGPT's heatmap);
 * - battle count: battles between a and b in either order (symmetric);
 * - predicted win rate: P(a beats b) = 1 / (1 + base^((R_b - R_a) / scale));
 * - average win rate: each model's mean over its opponents of one of the above.
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { compareNames, modelsOf } from "../ratings/compact.js";
import { winProbability } from "../ratings/logistic.js";
import { orderByRating, type RatingResult } from "../ratings/rate.js";
import type { BattleRecord } from "../types.js";

/** Counts per ordered pair of model indices: [M, M] row-major. */
function pairCounts(battles: readonly BattleRecord[], models: string[]) {
  const m = models.length;
  const index = new Map(models.map((x, i) => [x, i]));
  const wins = new Float64Array(m * m); // wins[a * m + b]: a beat b (either order)
  const ties = new Float64Array(m * m); // symmetric
  for (const r of battles) {
    const a = index.get(r.model_a);
    const b = index.get(r.model_b);
    if (a === undefined || b === undefined || a === b) continue;
    if (r.winner === "model_a") wins[a * m + b]++;
    else if (r.winner === "model_b") wins[b * m + a]++;
    else {
      ties[a * m + b]++;
      ties[b * m + a]++;
    }
  }
  return { m, wins, ties };
}

/** Model order for matrices: the given order, else name order. */
function resolveOrder(battles: readonly BattleRecord[], order?: readonly string[]): string[] {
  return order ? [...order] : modelsOf(battles);
}

/**
 * Win fraction of model_a over model_b, ties excluded, both orders merged.
 * Rows: model_a, model_b, value (null when they never had a decided battle), wins, decided.
 */
export function winFractionMatrix(battles: readonly BattleRecord[], order?: readonly string[]): ColumnTable {
  const models = resolveOrder(battles, order);
  const { m, wins } = pairCounts(battles, models);
  const col = { model_a: [] as string[], model_b: [] as string[], value: [] as (number | null)[], wins: [] as number[], decided: [] as number[] };
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const w = wins[a * m + b];
      const decided = w + wins[b * m + a];
      col.model_a.push(models[a]);
      col.model_b.push(models[b]);
      col.value.push(decided > 0 ? w / decided : null);
      col.wins.push(w);
      col.decided.push(decided);
    }
  }
  return aq.table(col);
}

/** Battles between model_a and model_b in either order. Rows: model_a, model_b, value. */
export function battleCountMatrix(battles: readonly BattleRecord[], order?: readonly string[]): ColumnTable {
  const models = resolveOrder(battles, order);
  const { m, wins, ties } = pairCounts(battles, models);
  const col = { model_a: [] as string[], model_b: [] as string[], value: [] as number[] };
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      col.model_a.push(models[a]);
      col.model_b.push(models[b]);
      col.value.push(wins[a * m + b] + wins[b * m + a] + ties[a * m + b]);
    }
  }
  return aq.table(col);
}

/**
 * Predicted P(model_a beats model_b) from ratings (no ties), ordered by
 * rating unless `order` is given. Rows: model_a, model_b, value.
 */
export function predictedWinRateMatrix(result: RatingResult, order?: readonly string[]): ColumnTable {
  const { scale, base } = result.options;
  const models = order ? [...order] : orderByRating(result).map((i) => result.models[i]);
  const col = { model_a: [] as string[], model_b: [] as string[], value: [] as number[] };
  for (const a of models) {
    for (const b of models) {
      if (a === b) continue;
      col.model_a.push(a);
      col.model_b.push(b);
      col.value.push(winProbability(ratingOf(result, a), ratingOf(result, b), scale, base));
    }
  }
  return aq.table(col);
}

function ratingOf(result: RatingResult, model: string): number {
  const i = result.models.indexOf(model);
  if (i < 0) throw new RangeError(`model ${JSON.stringify(model)} is not rated`);
  return result.rating[i];
}

/**
 * Average over opponents of a matrix's `value` (nulls skipped), best first.
 * With the predicted win-rate matrix this is Chatbot Arena's "average win
 * rate against all other models (uniform sampling, no ties)"; with the win
 * fraction matrix, EvalGPT's. Rows: model, value, opponents.
 */
export function averageWinRate(matrix: ColumnTable): ColumnTable {
  const a = matrix.array("model_a") as string[];
  const v = matrix.array("value") as (number | null)[];
  const sum = new Map<string, number>();
  const n = new Map<string, number>();
  for (let i = 0; i < a.length; i++) {
    if (!sum.has(a[i])) (sum.set(a[i], 0), n.set(a[i], 0));
    if (v[i] === null || v[i] === undefined || Number.isNaN(v[i])) continue;
    sum.set(a[i], sum.get(a[i])! + (v[i] as number));
    n.set(a[i], n.get(a[i])! + 1);
  }
  const rows = [...sum.keys()].map((model) => ({ model, value: n.get(model)! > 0 ? sum.get(model)! / n.get(model)! : null, opponents: n.get(model)! }));
  rows.sort((x, y) => (y.value ?? -1) - (x.value ?? -1) || compareNames(x.model, y.model));
  return aq.from(rows);
}

/** Battle outcome counts (model_a wins, model_b wins, tie, both bad): rows winner, count. */
export function outcomeCounts(battles: readonly BattleRecord[]): ColumnTable {
  const names = ["model_a", "model_b", "tie", "tie (bothbad)"] as const;
  const counts = new Map<string, number>(names.map((w) => [w, 0]));
  for (const b of battles) counts.set(b.winner, (counts.get(b.winner) ?? 0) + 1);
  return aq.table({ winner: [...counts.keys()], count: [...counts.values()] });
}
