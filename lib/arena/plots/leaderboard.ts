/**
 * Bar-and-interval charts: the leaderboard with confidence intervals,
 * average win rate, battles per model and battle outcome counts (the
 * figures of Chatbot Arena's and EvalGPT's notebooks).
 */
import { base, type ChartOptions, records, type Rows, stepFor, type VegaLiteSpec } from "./common.js";

/**
 * Leaderboard: each model's rating (point) and confidence interval (rule),
 * best at the top. Input rows: model, rating, lower, upper (e.g. `ratingsTable(result)`).
 * @example leaderboardChart(ratingsTable(rateBattles(battles)))
 */
export function leaderboardChart(rows: Rows, options: ChartOptions & { confidence?: number } = {}): VegaLiteSpec {
  const values = records(rows, 2);
  const order = [...values].sort((a, b) => (b.rating as number) - (a.rating as number)).map((r) => r.model as string);
  const pct = Math.round((options.confidence ?? 0.95) * 100);
  const y = { field: "model", type: "nominal", sort: order, title: null };
  return {
    ...base(options.title ?? `Ratings with ${pct}% bootstrap intervals`),
    data: { values },
    width: options.width ?? 420,
    height: options.height ?? { step: stepFor(order.length, 18, 30) },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2, color: "#4c78a8" },
        encoding: { y, x: { field: "lower", type: "quantitative", scale: { zero: false }, title: "rating" }, x2: { field: "upper" } },
      },
      {
        mark: { type: "point", filled: true, size: 70, color: "#1f3b5a" },
        encoding: {
          y,
          x: { field: "rating", type: "quantitative" },
          tooltip: [
            { field: "model" },
            { field: "rating", format: ".1f" },
            { field: "lower", format: ".1f" },
            { field: "upper", format: ".1f" },
            { field: "rank", title: "rank (UB)" },
            { field: "battles" },
          ],
        },
      },
      {
        mark: { type: "text", align: "left", dx: 8, fontSize: 10, color: "#555" },
        encoding: { y, x: { field: "upper", type: "quantitative" }, text: { field: "rating", format: ".0f" } },
      },
    ],
  };
}

/**
 * Average win rate per model (rows: model, value), best at the top. With the
 * predicted win-rate matrix it assumes uniform opponents and no ties.
 */
export function averageWinRateChart(rows: Rows, options: ChartOptions = {}): VegaLiteSpec {
  const values = records(rows, 4);
  const order = [...values].sort((a, b) => ((b.value as number) ?? -1) - ((a.value as number) ?? -1)).map((r) => r.model as string);
  const y = { field: "model", type: "nominal", sort: order, title: null };
  return {
    ...base(options.title ?? "Average win rate against all other models"),
    data: { values },
    width: options.width ?? 360,
    height: options.height ?? { step: stepFor(order.length, 16, 26) },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8" },
        encoding: { y, x: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: ".0%" }, title: "average win rate" } },
      },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 10 },
        encoding: { y, x: { field: "value", type: "quantitative" }, text: { field: "value", format: ".1%" } },
      },
    ],
  };
}

/** Battles per model (rows: model, battles). */
export function battlesPerModelChart(rows: Rows, options: ChartOptions = {}): VegaLiteSpec {
  const values = records(rows, 0);
  const order = [...values].sort((a, b) => (b.battles as number) - (a.battles as number)).map((r) => r.model as string);
  return {
    ...base(options.title ?? "Battles per model"),
    data: { values },
    width: options.width ?? 360,
    height: options.height ?? { step: stepFor(order.length, 16, 26) },
    mark: { type: "bar", color: "#72b7b2" },
    encoding: {
      y: { field: "model", type: "nominal", sort: order, title: null },
      x: { field: "battles", type: "quantitative", title: "battles" },
      tooltip: [{ field: "model" }, { field: "battles" }],
    },
  };
}

/** Battle outcome counts (rows: winner, count). */
export function outcomeCountsChart(rows: Rows, options: ChartOptions = {}): VegaLiteSpec {
  return {
    ...base(options.title ?? "Battle outcomes"),
    data: { values: records(rows, 0) },
    width: options.width ?? 300,
    height: options.height ?? 180,
    mark: { type: "bar" },
    encoding: {
      x: { field: "winner", type: "nominal", sort: ["model_a", "model_b", "tie", "tie (bothbad)"], title: null, axis: { labelAngle: 0 } },
      y: { field: "count", type: "quantitative", title: "battles" },
      color: { field: "winner", type: "nominal", legend: null, scale: { domain: ["model_a", "model_b", "tie", "tie (bothbad)"], range: ["#4c78a8", "#f58518", "#9d9d9d", "#5f5f5f"] } },
      tooltip: [{ field: "winner" }, { field: "count" }],
    },
  };
}
