/**
 * The one table renderer: a grid of formatted cells to HTML, aligned plain
 * text and Markdown, and records (arquero tables, arrays of objects) to such
 * a grid. Notebook tables (table.ts), leaderboards, reports and the demo
 * summary all lay their tables out here, so escaping and alignment are done
 * once. It imports nothing from the display protocol (bundle.ts imports it
 * to show arquero tables).
 */
import { escapeHtml, escapeMarkdown } from "./escape.js";

export type Align = "left" | "right" | "center";

export interface GridColumn {
  label: string;
  /** Default "left". */
  align?: Align;
}

/** A table of text cells: `rows[r][c]` under `columns[c]`. */
export interface Grid {
  columns: GridColumn[];
  rows: string[][];
  /** Caption above the table. */
  caption?: string;
  /** A line under the table (row counts, notes). */
  footer?: string;
}

export interface GridHtmlOptions {
  /** `class` of the table element. */
  className?: string;
  /** `style` of the caption element. */
  captionStyle?: string;
  /** `style` of the footer element. */
  footerStyle?: string;
}

/** An HTML table; every cell, label, caption and footer is escaped. */
export function gridHtml(grid: Grid, options: GridHtmlOptions = {}): string {
  const align = (c: number) => ` style="text-align:${grid.columns[c].align ?? "left"}"`;
  const th = grid.columns.map((c, i) => `<th${align(i)}>${escapeHtml(c.label)}</th>`).join("");
  const body = grid.rows.map((r) => "<tr>" + r.map((v, i) => `<td${align(i)}>${escapeHtml(v)}</td>`).join("") + "</tr>").join("\n");
  const caption = grid.caption === undefined ? "" : `<caption${options.captionStyle ? ` style="${options.captionStyle}"` : ""}>${escapeHtml(grid.caption)}</caption>`;
  const cls = options.className ? ` class="${escapeHtml(options.className)}"` : "";
  const footer = grid.footer === undefined ? "" : `<div${options.footerStyle ? ` style="${options.footerStyle}"` : ""}>${escapeHtml(grid.footer)}</div>`;
  return `<table${cls}>${caption}<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>${footer}`;
}

export interface GridTextOptions {
  /** Widest column in characters; longer cells end in "…". Default: no limit. */
  maxWidth?: number;
  /** A line of dashes under the header. Default false. */
  rule?: boolean;
}

/** Aligned plain text, two spaces between columns, one line per row (caption first, footer last). */
export function gridText(grid: Grid, options: GridTextOptions = {}): string {
  const max = options.maxWidth ?? Infinity;
  const cells = grid.rows.map((r) => r.map((v) => v.replace(/\s+/g, " ")));
  const widths = grid.columns.map((c, i) => Math.min(max, Math.max(c.label.length, ...cells.map((row) => row[i].length))));
  const clip = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + "…" : s);
  const pad = (s: string, i: number) => {
    const v = clip(s, widths[i]);
    const a = grid.columns[i].align ?? "left";
    if (a === "right") return v.padStart(widths[i]);
    if (a === "center") return v.padStart(Math.floor((widths[i] + v.length) / 2)).padEnd(widths[i]);
    return v.padEnd(widths[i]);
  };
  const line = (r: string[]) => r.map(pad).join("  ").trimEnd();
  const lines = [line(grid.columns.map((c) => c.label))];
  if (options.rule) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) lines.push(line(r));
  if (grid.caption !== undefined) lines.unshift(grid.caption);
  if (grid.footer !== undefined) lines.push(grid.footer);
  return lines.join("\n");
}

/** A GitHub-flavoured Markdown table; every cell and label is escaped (caption and footer are left to the caller). */
export function gridMarkdown(grid: Grid): string {
  const rule = { left: ":--", right: "--:", center: ":-:" };
  const line = (r: string[]) => `| ${r.map((v) => escapeMarkdown(v)).join(" | ")} |`;
  return [line(grid.columns.map((c) => c.label)), `| ${grid.columns.map((c) => rule[c.align ?? "left"]).join(" | ")} |`, ...grid.rows.map(line)].join("\n");
}

/** The part of arquero's Table that display uses. */
export interface ArqueroLike {
  columnNames(): string[];
  numRows(): number;
  objects(options?: { limit?: number }): object[];
}

/** True for arquero tables (duck-typed, so arquero is never imported here). */
export function isArqueroTable(x: unknown): x is ArqueroLike {
  const t = x as ArqueroLike | null;
  return typeof t === "object" && t !== null && typeof t.columnNames === "function" && typeof t.numRows === "function" && typeof t.objects === "function";
}

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

/** Records -> a grid: the first `limit` rows formatted, numeric columns right-aligned, a footer counting rows. */
export function recordGrid(t: ArqueroLike | readonly Row[], options: TableOptions = {}): Grid {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`table: limit must be a non-negative integer, got ${limit}`);
  let columns: string[];
  let rows: Row[];
  let total: number;
  if (isArqueroTable(t)) {
    columns = options.columns ?? t.columnNames();
    rows = t.objects({ limit }) as Row[];
    total = t.numRows();
  } else {
    if (!Array.isArray(t)) throw new TypeError(`table: expected an arquero table or an array of records, got ${typeof t}`);
    rows = t.slice(0, limit);
    total = t.length;
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r ?? {})) seen.add(k);
    columns = options.columns ?? [...seen];
  }
  const numeric = (c: string) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number");
  const hidden = total - rows.length;
  return {
    columns: columns.map((c) => ({ label: c, align: numeric(c) ? "right" : "left" })),
    rows: rows.map((r) => columns.map((c) => formatCell(r[c], options.digits ?? 4))),
    caption: options.title,
    footer: hidden > 0 ? `... ${hidden} more row${hidden === 1 ? "" : "s"} (${total} in all)` : `${total} row${total === 1 ? "" : "s"}`,
  };
}

/** The bundle of a table (`text/html` + `text/plain`). */
export function tableBundle(t: ArqueroLike | readonly Row[], options: TableOptions = {}): { "text/html": string; "text/plain": string } {
  const grid = recordGrid(t, options);
  return {
    "text/html": gridHtml(grid, { className: "tslm-table", captionStyle: "caption-side:top;text-align:left;font-weight:bold", footerStyle: "font-size:smaller;opacity:0.7" }),
    "text/plain": gridText(grid, { maxWidth: 40, rule: true }),
  };
}
