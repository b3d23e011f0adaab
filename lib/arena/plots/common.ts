/**
 * Shared pieces of the arena's chart builders: every builder is a pure
 * function from an arquero table (or plain records) to a Vega-Lite 5 spec
 * with its data inlined, so the spec alone draws the chart (in JupyterLab,
 * in a report, in `renderSvg`). Only Vega-Lite 5 features are used.
 */
import type { VegaLiteSpec } from "../../display/vega.js";

export type { VegaLiteSpec };

/** An arquero table or plain records. */
export type Rows = { objects(): object[] } | readonly object[];

/** Plain records from a table or an array, numbers rounded to keep specs small and stable. */
export function records(rows: Rows, digits = 4): Record<string, unknown>[] {
  const list = Array.isArray(rows) ? rows : (rows as { objects(): object[] }).objects();
  return list.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) out[k] = typeof v === "number" ? round(v, digits) : v;
    return out;
  });
}

/** Rounds to `digits` decimals; non-finite numbers become null (JSON has no NaN). */
export function round(v: number, digits = 4): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Options every chart accepts. */
export interface ChartOptions {
  /** Chart title. Each builder has its own default. */
  title?: string;
  /** Plot width and height in pixels (Vega-Lite's `width`/`height`); defaults per chart. */
  width?: number;
  height?: number;
}

/** Common top-level spec fields: schema, title, a readable default font size. */
export function base(title: string, extra: Partial<VegaLiteSpec> = {}): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: title, anchor: "start", fontSize: 14 },
    config: { axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 }, view: { stroke: null } },
    ...extra,
  };
}

/** Step size per category for a list of models: charts grow with the number of models. */
export function stepFor(n: number, min = 14, max = 28): number {
  return Math.max(min, Math.min(max, Math.floor(480 / Math.max(1, n))));
}
