/**
 * Everything a report shows, computed from a loaded run: the leaderboard,
 * the matrices, judge diagnostics and the chart specs. Pure: the same run
 * and options give the same analysis (the bootstrap is seeded with the
 * run's seed unless told otherwise).
 */
import type { ColumnTable } from "arquero";
import * as A from "../analysis/index.js";
import * as P from "../plots/index.js";
import type { VegaLiteSpec } from "../plots/common.js";
import { bootstrapTable, Leaderboard, ratingsTable } from "../leaderboard.js";
import type { RatingResult } from "../ratings/rate.js";
import { ratingHistory } from "../ratings/history.js";
import { type RatingOptionsInput, resolveRatingOptions } from "../ratings/options.js";
import type { LoadedRun } from "../store/load.js";

/** The parts of a loaded run a report reads (`loadRun(dir)` returns them all). */
export type ReportRun = Pick<LoadedRun, "config" | "suite" | "contestants" | "answers" | "judgments" | "battles" | "errors" | "meta">;

/** One figure of the report. */
export interface ChartEntry {
  /** File-safe id (figure file name, HTML anchor). */
  id: string;
  title: string;
  /** One or two sentences saying how to read it. */
  caption: string;
  spec: VegaLiteSpec;
}

export interface RunAnalysis {
  leaderboard: Leaderboard;
  ratings: ColumnTable;
  /** Model order used by every matrix: best first. */
  order: string[];
  winFraction: ColumnTable;
  battleCounts: ColumnTable;
  predicted: ColumnTable;
  averageWinRate: ColumnTable;
  outcomes: ColumnTable;
  history: ColumnTable;
  positionBias: ColumnTable;
  orderConsistency: ColumnTable;
  judgeAgreement: ColumnTable;
  humanAgreement: ColumnTable;
  charts: ChartEntry[];
}

/**
 * Rating options for a run: defaults, then the run config's optional
 * `rating:` section, then `overrides` (CLI flags); the bootstrap seed
 * defaults to the run's seed.
 */
export function runRatingOptions(run: Pick<ReportRun, "config" | "meta">, overrides: RatingOptionsInput = {}): RatingOptionsInput {
  const merged = { seed: run.meta.seed, ...stripUndefined(run.config.rating ?? {}), ...stripUndefined(overrides) };
  resolveRatingOptions(merged); // validate early, naming the bad key
  return merged;
}

/** Why contestants without rated battles have none, from the run's failed answers (they stay on the leaderboard, unrated). */
export function silentContestants(run: Pick<ReportRun, "answers" | "errors">, result: RatingResult): string[] {
  return result.models
    .filter((_, k) => result.status[k] === "unrated")
    .flatMap((model) => {
      const answers = run.answers.filter((a) => a.model === model).length;
      const failed = run.errors.answers.filter((a) => a.model === model);
      if (answers === 0 || failed.length < answers) return [];
      return [`all ${answers} answers of ${model} failed, so it has no rated battle (first error: ${failed[0].error})`];
    });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Rates a run and builds its tables and charts.
 * @example analyzeRun(loadRun("runs/demo")).leaderboard.toString()
 */
export function analyzeRun(run: ReportRun, overrides: RatingOptionsInput = {}): RunAnalysis {
  const options = runRatingOptions(run, overrides);
  const leaderboard = Leaderboard.fromBattles(run.battles, options, { models: run.contestants.map((c) => c.name) });
  const result = leaderboard.result;
  result.warnings.push(...silentContestants(run, result));
  const ratings = ratingsTable(result);
  const order = ratings.array("model") as string[];
  const winFraction = A.winFractionMatrix(run.battles, order);
  const battleCounts = A.battleCountMatrix(run.battles, order);
  const predicted = A.predictedWinRateMatrix(result, order);
  const averageWinRate = A.averageWinRate(predicted);
  const outcomes = A.outcomeCounts(run.battles);
  const history = ratingHistory(run.battles, { ...options, bootstrap: 0 });
  const positionBias = A.positionBias(run.judgments);
  const orderConsistency = A.orderConsistency(run.judgments);
  const judgeAgreement = A.judgeAgreement(run.judgments);
  const humanAgreement = A.humanAgreement(run.judgments);
  const charts = runCharts(result, { ratings, order, winFraction, battleCounts, predicted, averageWinRate, outcomes, history, positionBias });
  return {
    leaderboard,
    ratings,
    order,
    winFraction,
    battleCounts,
    predicted,
    averageWinRate,
    outcomes,
    history,
    positionBias,
    orderConsistency,
    judgeAgreement,
    humanAgreement,
    charts,
  };
}

/** The report's figures, in reading order (position bias only when some verdict has an order). */
function runCharts(
  result: RatingResult,
  t: Pick<RunAnalysis, "ratings" | "order" | "winFraction" | "battleCounts" | "predicted" | "averageWinRate" | "outcomes" | "history" | "positionBias">,
): ChartEntry[] {
  const { ratings, order, winFraction, battleCounts, predicted, averageWinRate, outcomes, history, positionBias } = t;
  const pct = Math.round(result.options.confidence * 100);
  const method = result.method === "elo" ? "online Elo" : "Bradley-Terry";

  const charts: ChartEntry[] = [
    {
      id: "leaderboard",
      title: "Leaderboard",
      caption: `${method} ratings (dots) with ${pct}% bootstrap intervals from ${result.rounds} rounds (lines). Overlapping intervals mean the order of those models is not settled.`,
      spec: P.leaderboardChart(ratings, { confidence: result.options.confidence }),
    },
    {
      id: "bootstrap",
      title: "Bootstrap distribution",
      caption: "Each tick is one bootstrap round's rating of the model (resampled battle outcomes); the red dot is the median.",
      spec: P.bootstrapChart(bootstrapTable(result)),
    },
    {
      id: "win-fraction",
      title: "Win fraction",
      caption: "Share of the decided battles between two models that model A won, counting both answer orders; ties are left out. Blank: the pair never had a decided battle.",
      spec: P.winFractionHeatmap(winFraction, { order }),
    },
    {
      id: "battle-count",
      title: "Battle count",
      caption: "Battles rated for each pair of models, in either order. Sparse pairs rest on the other models' results.",
      spec: P.battleCountHeatmap(battleCounts, { order }),
    },
    {
      id: "predicted-win-rate",
      title: "Predicted win rate",
      caption: "P(A beats B) = 1 / (1 + 10^((R_B - R_A) / 400)) from the ratings: what the model expects of each pairing, ties aside.",
      spec: P.predictedWinRateHeatmap(predicted, { order }),
    },
    {
      id: "average-win-rate",
      title: "Average win rate",
      caption: "Mean predicted win rate against every other model, as if opponents were drawn uniformly and nobody tied.",
      spec: P.averageWinRateChart(averageWinRate),
    },
    {
      id: "rating-history",
      title: "Rating over battles",
      caption: "Ratings refitted on the first N battles of the run: lines that have flattened mean more battles would change little.",
      spec: P.ratingHistoryChart(history),
    },
    {
      id: "position-bias",
      title: "Position bias",
      caption: "Share of decided verdicts that went to the answer shown first, with a 95% Wilson interval. An unbiased judge sits on the dashed 50% line.",
      spec: P.positionBiasChart(positionBias),
    },
    {
      id: "outcomes",
      title: "Battle outcomes",
      caption: "How the rated battles ended, from model_a's side.",
      spec: P.outcomeCountsChart(outcomes),
    },
    {
      id: "battles-per-model",
      title: "Battles per model",
      caption: "Rated battles each model played; failed answers and judge errors are not battles.",
      spec: P.battlesPerModelChart(ratings),
    },
  ];
  if ((positionBias.array("first_rate") as (number | null)[]).every((v) => v === null)) {
    // No per-order verdicts (e.g. a battle log without judgments): nothing to draw.
    charts.splice(
      charts.findIndex((c) => c.id === "position-bias"),
      1,
    );
  }
  return charts;
}
