/**
 * Model-by-model heatmaps from long tables (model_a, model_b, value):
 * win fraction, battle counts and predicted win rate. Rows are model_a,
 * columns model_b, both in the given order (default: the order models first
 * appear in model_a, which the matrix builders set to rating or name order).
 */
import { base, type ChartOptions, records, type Rows, stepFor, type VegaLiteSpec } from "./common.js";

export interface HeatmapOptions extends ChartOptions {
  /** Model order for rows and columns. */
  order?: readonly string[];
}

interface HeatmapStyle {
  title: string;
  legend: string;
  format: string;
  scheme: string;
  domain?: [number, number];
  /** Vega expression on `datum.value` that is true on dark cells (white text there). */
  dark: string;
}

function heatmap(rows: Rows, style: HeatmapStyle, options: HeatmapOptions): VegaLiteSpec {
  const values = records(rows, 4);
  const order = options.order ? [...options.order] : [...new Set(values.map((r) => r.model_a as string))];
  const step = stepFor(order.length, 22, 40);
  const x = { field: "model_b", type: "nominal", sort: order, title: "model B", axis: { labelAngle: -40, orient: "top" } };
  const y = { field: "model_a", type: "nominal", sort: order, title: "model A" };
  return {
    ...base(options.title ?? style.title),
    data: { values },
    width: options.width ?? { step },
    height: options.height ?? { step },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          x,
          y,
          color: {
            field: "value",
            type: "quantitative",
            title: style.legend,
            scale: { scheme: style.scheme, ...(style.domain ? { domain: style.domain } : {}) },
            legend: { format: style.format },
          },
          tooltip: [{ field: "model_a", title: "model A" }, { field: "model_b", title: "model B" }, { field: "value", title: style.legend, format: style.format }],
        },
      },
      {
        mark: { type: "text", fontSize: step >= 30 ? 10 : 8 },
        encoding: {
          x,
          y,
          text: { field: "value", type: "quantitative", format: style.format },
          color: { condition: { test: style.dark, value: "white" }, value: "black" },
        },
      },
    ],
  };
}

/** Fraction of decided battles model A won against model B (ties excluded, both orders merged). */
export function winFractionHeatmap(rows: Rows, options: HeatmapOptions = {}): VegaLiteSpec {
  return heatmap(rows, { title: "Fraction of model A wins (ties excluded)", legend: "A wins", format: ".2f", scheme: "redblue", domain: [0, 1], dark: "datum.value > 0.8 || datum.value < 0.2" }, options);
}

/** Battles between model A and model B, in either order. */
export function battleCountHeatmap(rows: Rows, options: HeatmapOptions = {}): VegaLiteSpec {
  const values = records(rows, 0);
  const max = Math.max(1, ...values.map((r) => (r.value as number) ?? 0));
  return heatmap(values, { title: "Battle count of each pair", legend: "battles", format: "d", scheme: "blues", domain: [0, max], dark: `datum.value > ${0.6 * max}` }, options);
}

/** Predicted P(model A beats model B) from the ratings (no ties). */
export function predictedWinRateHeatmap(rows: Rows, options: HeatmapOptions = {}): VegaLiteSpec {
  return heatmap(rows, { title: "Predicted win rate of model A over model B", legend: "P(A wins)", format: ".2f", scheme: "redblue", domain: [0, 1], dark: "datum.value > 0.8 || datum.value < 0.2" }, options);
}
