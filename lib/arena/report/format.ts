/**
 * Formatting shared by the HTML and Markdown reports: column specs for the
 * report's tables, cell formatting, and the run facts block.
 */
import type { ColumnTable } from "arquero";
import type { Grid } from "../../display/grid.js";
import { dependencyVersion, packageInfo } from "../../util/package.js";
import { formatRating, methodName, statusNote } from "../leaderboard.js";
import type { RatingStatus } from "../ratings/rate.js";
import type { ReportRun, RunAnalysis } from "./analyze.js";

export interface Column {
  key: string;
  label: string;
  /** "int", "rating" (1 decimal, +inf / -inf), "pct" (1 decimal %), "num" (3 decimals), "status" (a rating's note) or text. */
  kind?: "int" | "rating" | "pct" | "num" | "status" | "text";
}

export function formatCell(v: unknown, kind: Column["kind"] = "text"): string {
  if (kind === "status") return statusNote(v as RatingStatus);
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "-";
  if (typeof v !== "number") return String(v);
  switch (kind) {
    case "int":
      return String(Math.round(v));
    case "rating":
      return formatRating(v);
    case "pct":
      return `${(100 * v).toFixed(1)}%`;
    case "num":
      return v.toFixed(3);
    default:
      return String(v);
  }
}

/** A report table as a grid of formatted cells (display/grid.ts lays it out as HTML or Markdown); numbers right-aligned. */
export function reportGrid(table: ColumnTable | readonly Record<string, unknown>[], columns: Column[]): Grid {
  const rows = Array.isArray(table) ? table : (table as ColumnTable).objects();
  return {
    columns: columns.map((c) => ({ label: c.label, align: c.kind && c.kind !== "text" && c.kind !== "status" ? "right" : "left" })),
    rows: (rows as Record<string, unknown>[]).map((r) => columns.map((c) => formatCell(r[c.key], c.kind))),
  };
}

/** Columns from `[key, label, kind]` rows. */
function columns(...rows: [key: string, label: string, kind?: Column["kind"]][]): Column[] {
  return rows.map(([key, label, kind]) => (kind ? { key, label, kind } : { key, label }));
}

export const RATING_COLUMNS = columns(
  ["rank", "rank (UB)", "int"],
  ["model", "model"],
  ["rating", "rating", "rating"],
  ["lower", "lower", "rating"],
  ["upper", "upper", "rating"],
  ["battles", "battles", "int"],
  ["status", "note", "status"],
);

export const POSITION_COLUMNS = columns(
  ["judge", "judge"],
  ["judgments", "verdicts", "int"],
  ["errors", "errors", "int"],
  ["first", "first won", "int"],
  ["second", "second won", "int"],
  ["ties", "ties", "int"],
  ["first_rate", "first-position win rate", "pct"],
  ["first_low", "95% low", "pct"],
  ["first_high", "95% high", "pct"],
);

export const CONSISTENCY_COLUMNS = columns(
  ["judge", "judge"],
  ["pairs", "judged in both orders", "int"],
  ["consistent", "consistent", "int"],
  ["first_biased", "first won twice", "int"],
  ["second_biased", "second won twice", "int"],
  ["other", "tie in one order", "int"],
  ["consistency", "consistency", "pct"],
);

export const AGREEMENT_COLUMNS = columns(
  ["judge_a", "judge"],
  ["judge_b", "other judge"],
  ["shared", "items both judged", "int"],
  ["agreement", "agreement (with ties)", "pct"],
  ["shared_decided", "both decided", "int"],
  ["agreement_without_ties", "agreement (without ties)", "pct"],
);

/** Versions of the tools that wrote the report (read at run time). */
export function reportVersions(): Record<string, string> {
  const out: Record<string, string> = { tslm: packageInfo().version };
  for (const dep of ["vega", "vega-lite", "vega-embed", "arquero"]) out[dep] = dependencyVersion(dep) ?? "unknown";
  return out;
}

/** Label/value lines describing the run (no clock: only the run's own timestamp). */
export function runFacts(run: ReportRun, analysis: RunAnalysis): [string, string][] {
  const result = analysis.leaderboard.result;
  const judge = run.config.judge as { type?: string; model?: string; id?: string } | undefined;
  const facts: [string, string][] = [
    ["run", run.meta.id],
    ["created", run.meta.created],
    ["complete", run.meta.complete ? "yes" : "no (interrupted: resume it with tslm arena run --resume)"],
    ["seed", String(run.meta.seed)],
    ["suite", `${run.suite.name} ${run.suite.version} (${run.suite.prompts.length} prompts), sha256 ${run.meta.suiteHash}`],
    ["contestants", run.contestants.map((c) => `${c.name} (${c.type})`).join(", ")],
    ["judge", judge ? [judge.type, judge.model ?? judge.id].filter(Boolean).join(" ") : "-"],
    ["battles rated", String(run.battles.length)],
    [
      "errors (never rated)",
      `${run.errors.answers.length} answers, ${run.errors.judgments.length} judgments, ${run.errors.battles.length} undecided battles`,
    ],
    [
      "rating",
      `${methodName(result.method)}, ${result.rounds} bootstrap rounds (seed ${result.options.seed}), ${Math.round(result.options.confidence * 100)}% intervals, ties ${result.options.ties === "half" ? "as half wins" : "dropped"}` +
        (result.options.anchor ? `, ${result.options.anchor.model} anchored at ${result.options.anchor.rating}` : ""),
    ],
    ["run made with", Object.entries(run.meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["report made with", Object.entries(reportVersions()).map(([k, v]) => `${k} ${v}`).join(", ")],
  ];
  return facts;
}
