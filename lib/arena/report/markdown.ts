/**
 * The Markdown report: facts, leaderboard, judge tables and the charts as
 * SVG files beside it (`figures/<id>.svg`), for GitHub and plain viewers.
 * Every string that comes from the run (model, judge, suite and run names,
 * notes) is escaped, so a name renders as text, never as markup.
 */
import type { ColumnTable } from "arquero";
import { escapeMarkdown } from "../../display/escape.js";
import { gridMarkdown } from "../../display/grid.js";
import type { ReportRun, RunAnalysis } from "./analyze.js";
import { AGREEMENT_COLUMNS, type Column, CONSISTENCY_COLUMNS, POSITION_COLUMNS, RATING_COLUMNS, reportGrid, runFacts } from "./format.js";

function mdTable(columns: Column[], rows: ColumnTable): string {
  return gridMarkdown(reportGrid(rows, columns));
}

/** @param figureDir relative folder of the SVG figures (default "figures"). */
export function renderMarkdown(run: ReportRun, analysis: RunAnalysis, figureDir = "figures"): string {
  const md = escapeMarkdown;
  const out: string[] = [`# Arena report: ${md(run.meta.id)}`, ""];
  for (const [k, v] of runFacts(run, analysis)) out.push(`- **${md(k)}**: ${md(v)}`);
  out.push("");
  for (const w of analysis.leaderboard.result.warnings) out.push(`> **Note:** ${md(w)}`, "");
  out.push("## Leaderboard", "", mdTable(RATING_COLUMNS, analysis.ratings), "");
  out.push("## Charts", "");
  for (const c of analysis.charts) out.push(`### ${md(c.title)}`, "", `![${md(c.title)}](${encodeURI(`${figureDir}/${c.id}.svg`)})`, "", escapeMarkdown(c.caption, { lineStart: true }), "");
  out.push("## Judges", "", "### Position bias", "", mdTable(POSITION_COLUMNS, analysis.positionBias), "");
  out.push("### Agreement between the two answer orders", "", mdTable(CONSISTENCY_COLUMNS, analysis.orderConsistency), "");
  if (analysis.judgeAgreement.numRows() > 0) out.push("### Agreement between judges", "", mdTable(AGREEMENT_COLUMNS, analysis.judgeAgreement), "");
  if (analysis.humanAgreement.numRows() > 0) out.push("### Agreement with human votes", "", mdTable(AGREEMENT_COLUMNS, analysis.humanAgreement), "");
  out.push("All battles, verdicts, ratings, the config, the seed and tool versions are in `report.json`.", "");
  return out.join("\n");
}
