/**
 * Tables: arquero tables and arrays of records as an HTML table (notebooks)
 * and aligned text (terminals), with a row limit.
 */
import { displayable, isArqueroTable, type ArqueroLike, type Displayable, type MimeBundle } from "./bundle.js";
import { escapeHtml } from "./html.js";

export interface TableOptions {
  /** Rows shown; the rest are counted in a footer. Default 20: a screenful. */
  limit?: number;
  /** Columns shown, in order. Default: all, in the table's order. */
  columns?: string[];
  /** Significant digits of non-integer numbers. Default 4: enough to compare losses and ratings. */
  digits?: number;
  /** Caption above the table. */
  title?: string;
}

type Row = Record<string, unknown>;

interface TableData {
  columns: string[];
  rows: Row[];
  total: number;
}

function tableData(t: ArqueroLike | readonly Row[], options: TableOptions): TableData {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`table: limit must be a non-negative integer, got ${limit}`);
  if (isArqueroTable(t)) {
    return { columns: options.columns ?? t.columnNames(), rows: t.objects({ limit }) as Row[], total: t.numRows() };
  }
  if (!Array.isArray(t)) throw new TypeError(`table: expected an arquero table or an array of records, got ${typeof t}`);
  const rows = t.slice(0, limit);
  let columns = options.columns;
  if (!columns) {
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r ?? {})) seen.add(k);
    columns = [...seen];
  }
  return { columns, rows, total: t.length };
}

/** A cell's text: numbers to `digits` significant digits, objects as JSON. */
export function formatCell(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(digits)));
  }
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function footer(d: TableData): string {
  const hidden = d.total - d.rows.length;
  return hidden > 0 ? `... ${hidden} more row${hidden === 1 ? "" : "s"} (${d.total} in all)` : `${d.total} row${d.total === 1 ? "" : "s"}`;
}

function toHtml(d: TableData, options: TableOptions): string {
  const digits = options.digits ?? 4;
  const numeric = d.columns.map((c) => d.rows.length > 0 && d.rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number"));
  const th = d.columns.map((c, i) => `<th style="text-align:${numeric[i] ? "right" : "left"}">${escapeHtml(c)}</th>`).join("");
  const body = d.rows
    .map((r) => "<tr>" + d.columns.map((c, i) => `<td style="text-align:${numeric[i] ? "right" : "left"}">${escapeHtml(formatCell(r[c], digits))}</td>`).join("") + "</tr>")
    .join("\n");
  const caption = options.title ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(options.title)}</caption>` : "";
  return (
    `<table class="tslm-table">${caption}<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>` +
    `<div style="font-size:smaller;opacity:0.7">${escapeHtml(footer(d))}</div>`
  );
}

function toText(d: TableData, options: TableOptions): string {
  const digits = options.digits ?? 4;
  const cells = d.rows.map((r) => d.columns.map((c) => formatCell(r[c], digits).replace(/\s+/g, " ")));
  const widths = d.columns.map((c, i) => Math.min(40, Math.max(c.length, ...cells.map((row) => row[i].length))));
  const clip = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + "…" : s);
  const numeric = d.columns.map((c) => d.rows.length > 0 && d.rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number"));
  const pad = (s: string, i: number) => (numeric[i] ? clip(s, widths[i]).padStart(widths[i]) : clip(s, widths[i]).padEnd(widths[i]));
  const lines = [d.columns.map((c, i) => pad(c, i)).join("  "), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const row of cells) lines.push(row.map((s, i) => pad(s, i)).join("  ").trimEnd());
  lines.push(footer(d));
  if (options.title) lines.unshift(options.title);
  return lines.join("\n");
}

/** The bundle of a table (`text/html` + `text/plain`). */
export function tableBundle(t: ArqueroLike | readonly Row[], options: TableOptions = {}): MimeBundle {
  const d = tableData(t, options);
  return { "text/html": toHtml(d, options), "text/plain": toText(d, options) };
}

/**
 * A table that displays itself.
 * @example table([{ model: "base", elo: 1000 }, { model: "lora", elo: 1042.5 }])
 */
export function table(t: ArqueroLike | readonly Row[], options: TableOptions = {}): Displayable {
  const bundle = tableBundle(t, options);
  return displayable(bundle, bundle["text/plain"]);
}
