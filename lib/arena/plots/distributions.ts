/**
 * Charts of how ratings and judges behave: rating over battles, the
 * bootstrap distribution of each model's rating, and judges' position bias.
 */
import { base, type ChartOptions, records, type Rows, stepFor, type VegaLiteSpec } from "./common.js";

/** Rating over battles (rows: battles, model, rating from `ratingHistory`), one line per model. */
export function ratingHistoryChart(rows: Rows, options: ChartOptions = {}): VegaLiteSpec {
  const values = records(rows, 2);
  const last = new Map<string, number>();
  for (const r of values) last.set(r.model as string, r.rating as number);
  const order = [...last.keys()].sort((a, b) => last.get(b)! - last.get(a)!);
  return {
    ...base(options.title ?? "Rating over battles"),
    data: { values },
    width: options.width ?? 480,
    height: options.height ?? 260,
    mark: { type: "line", point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: { field: "battles", type: "quantitative", title: "battles rated" },
      y: { field: "rating", type: "quantitative", scale: { zero: false }, title: "rating" },
      color: { field: "model", type: "nominal", sort: order, title: "model", scale: { scheme: order.length > 10 ? "tableau20" : "tableau10" } },
      tooltip: [{ field: "model" }, { field: "battles" }, { field: "rating", format: ".1f" }],
    },
  };
}

/**
 * Bootstrap distribution (rows: round, model, rating from `bootstrapTable`):
 * one tick per round and model, the median as a dot. At most `maxRounds`
 * rounds (default 300) are drawn to keep the spec small.
 */
export function bootstrapChart(rows: Rows, options: ChartOptions & { maxRounds?: number } = {}): VegaLiteSpec {
  const max = options.maxRounds ?? 300;
  const values = records(rows, 2).filter((r) => (r.round as number) < max);
  const byModel = new Map<string, number[]>();
  for (const r of values) byModel.set(r.model as string, [...(byModel.get(r.model as string) ?? []), r.rating as number]);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const medians = [...byModel].map(([model, xs]) => ({ model, median: median(xs) }));
  const order = [...medians].sort((a, b) => b.median - a.median).map((m) => m.model);
  const y = { field: "model", type: "nominal", sort: order, title: null };
  return {
    ...base(options.title ?? "Bootstrap distribution of ratings"),
    width: options.width ?? 420,
    height: options.height ?? { step: stepFor(order.length, 18, 30) },
    layer: [
      {
        data: { values },
        mark: { type: "tick", opacity: 0.12, color: "#4c78a8", thickness: 1 },
        encoding: { y, x: { field: "rating", type: "quantitative", scale: { zero: false }, title: "rating (one tick per bootstrap round)" } },
      },
      {
        data: { values: medians },
        mark: { type: "point", filled: true, color: "#d62728", size: 40 },
        encoding: { y, x: { field: "median", type: "quantitative" }, tooltip: [{ field: "model" }, { field: "median", format: ".1f" }] },
      },
    ],
  };
}

/**
 * Position bias per judge (rows from `positionBias`): share of decided
 * verdicts that went to the answer shown first, with a 95% interval; the
 * rule at 50% is an unbiased judge.
 */
export function positionBiasChart(rows: Rows, options: ChartOptions = {}): VegaLiteSpec {
  const values = records(rows, 4).filter((r) => r.first_rate !== null && r.first_rate !== undefined);
  const y = { field: "judge", type: "nominal", title: null };
  return {
    ...base(options.title ?? "Position bias: verdicts won by the answer shown first"),
    width: options.width ?? 360,
    height: options.height ?? { step: 34 },
    layer: [
      {
        data: { values },
        mark: { type: "bar", color: "#f58518", opacity: 0.85 },
        encoding: {
          y,
          x: { field: "first_rate", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: ".0%" }, title: "first-position win rate (ties excluded)" },
          tooltip: [
            { field: "judge" },
            { field: "first_rate", format: ".1%", title: "first wins" },
            { field: "first", title: "first" },
            { field: "second", title: "second" },
            { field: "ties", title: "ties" },
            { field: "errors", title: "errors" },
          ],
        },
      },
      {
        data: { values },
        mark: { type: "rule", color: "black", strokeWidth: 1.5 },
        encoding: { y, x: { field: "first_low", type: "quantitative" }, x2: { field: "first_high" } },
      },
      {
        data: { values: [{ half: 0.5 }] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
        encoding: { x: { field: "half", type: "quantitative" } },
      },
    ],
  };
}
