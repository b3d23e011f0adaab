/**
 * The Markdown report: facts, leaderboard, judge tables and the charts as
 * SVG files beside it (`figures/<id>.svg`), for GitHub and plain viewers.
 */
import type { ReportRun, RunAnalysis } from "./analyze.js";
import { AGREEMENT_COLUMNS, cells, type Column, CONSISTENCY_COLUMNS, POSITION_COLUMNS, RATING_COLUMNS, runFacts } from "./format.js";

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdTable(columns: Column[], rows: string[][]): string {
  const head = `| ${columns.map((c) => mdEscape(c.label)).join(" | ")} |`;
  const align = `| ${columns.map((c) => (c.kind && c.kind !== "text" ? "--:" : ":--")).join(" | ")} |`;
  return [head, align, ...rows.map((r) => `| ${r.map(mdEscape).join(" | ")} |`)].join("\n");
}

/** @param figureDir relative folder of the SVG figures (default "figures"). */
export function renderMarkdown(run: ReportRun, analysis: RunAnalysis, figureDir = "figures"): string {
  const out: string[] = [`# Arena report: ${run.meta.id}`, ""];
  for (const [k, v] of runFacts(run, analysis)) out.push(`- **${k}**: ${v}`);
  out.push("");
  for (const w of analysis.leaderboard.result.warnings) out.push(`> **Note:** ${w}`, "");
  out.push("## Leaderboard", "", mdTable(RATING_COLUMNS, cells(analysis.ratings, RATING_COLUMNS)), "");
  out.push("## Charts", "");
  for (const c of analysis.charts) out.push(`### ${c.title}`, "", `![${c.title}](${figureDir}/${c.id}.svg)`, "", c.caption, "");
  out.push("## Judges", "", "### Position bias", "", mdTable(POSITION_COLUMNS, cells(analysis.positionBias, POSITION_COLUMNS)), "");
  out.push("### Agreement between the two answer orders", "", mdTable(CONSISTENCY_COLUMNS, cells(analysis.orderConsistency, CONSISTENCY_COLUMNS)), "");
  if (analysis.judgeAgreement.numRows() > 0) out.push("### Agreement between judges", "", mdTable(AGREEMENT_COLUMNS, cells(analysis.judgeAgreement, AGREEMENT_COLUMNS)), "");
  if (analysis.humanAgreement.numRows() > 0) out.push("### Agreement with human votes", "", mdTable(AGREEMENT_COLUMNS, cells(analysis.humanAgreement, AGREEMENT_COLUMNS)), "");
  out.push("All battles, verdicts, ratings, the config, the seed and tool versions are in `report.json`.", "");
  return out.join("\n");
}
