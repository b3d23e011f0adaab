/**
 * The self-contained HTML report: one file with every chart's Vega-Lite
 * spec, the vega, vega-lite and vega-embed scripts inlined (no network), and
 * each chart's SVG rendered in Node as the fallback that shows before (or
 * without) JavaScript. Pure: the same inputs give the same bytes.
 */
import type { ColumnTable } from "arquero";
import { escapeHtml } from "../../display/escape.js";
import { gridHtml } from "../../display/grid.js";
import type { ReportRun, RunAnalysis } from "./analyze.js";
import { AGREEMENT_COLUMNS, type Column, CONSISTENCY_COLUMNS, POSITION_COLUMNS, RATING_COLUMNS, reportGrid, runFacts } from "./format.js";

/** The browser scripts to inline, by name (text of their UMD builds). */
export interface InlineScripts {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

/** Battles listed in the HTML report at most (all are in report.json). */
export const HTML_BATTLE_LIMIT = 2000;

function table(columns: Column[], rows: ColumnTable | readonly Record<string, unknown>[], className?: string): string {
  return gridHtml(reportGrid(rows, columns), { className });
}

/** Makes text safe inside <script>: no "</script" or "<!--" can end or confuse the element. */
export function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** JSON for a <script type="application/json"> block. */
function jsonBlock(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

const STYLE = `
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
h1 { font-size: 26px; margin: 8px 0 4px; } h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td { font-variant-numeric: tabular-nums; }
table.facts th { background: none; font-weight: 600; color: #444; white-space: nowrap; }
.warning { background: #fff4e0; border-left: 4px solid #f0a030; padding: 6px 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 8px 36px; align-items: start; }
figure { margin: 18px 0 20px; } figcaption { color: #555; font-size: 13px; max-width: 760px; margin-top: 4px; }
.chart svg { max-width: 100%; height: auto; }
nav a { margin-right: 12px; font-size: 13px; }
details summary { cursor: pointer; color: #245; }
`;

/** Renders at page load: each chart's live Vega view replaces its SVG fallback. */
const EMBED = `
(function () {
  var charts = document.querySelectorAll("div.chart[data-spec]");
  var pending = [];
  charts.forEach(function (div) {
    var spec = JSON.parse(document.getElementById(div.getAttribute("data-spec")).textContent);
    if (typeof vegaEmbed !== "function") { div.setAttribute("data-rendered", "fallback"); return; }
    pending.push(vegaEmbed(div, spec, { renderer: "svg", actions: false }).then(function () {
      div.setAttribute("data-rendered", "vega");
    }, function (err) {
      div.setAttribute("data-rendered", "fallback");
      div.setAttribute("data-error", String(err));
    }));
  });
  Promise.all(pending).then(function () { document.body.setAttribute("data-charts", "done"); });
})();
`;

/**
 * The report page.
 * @param svgs chart id -> SVG rendered in Node (the fallback)
 */
export function renderHtml(run: ReportRun, analysis: RunAnalysis, svgs: ReadonlyMap<string, string>, scripts: InlineScripts): string {
  const title = `Arena report: ${run.meta.id}`;
  const facts = runFacts(run, analysis)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("\n");
  const warnings = analysis.leaderboard.result.warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join("\n");
  const figures = analysis.charts
    .map(
      (c) => `<figure id="fig-${c.id}">
<div class="chart" data-spec="spec-${c.id}" role="img" aria-label="${escapeHtml(c.title)}">${svgs.get(c.id) ?? ""}</div>
<figcaption><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.caption)}</figcaption>
</figure>
<script type="application/json" id="spec-${c.id}">${jsonBlock(c.spec)}</script>`,
    )
    .join("\n");
  const judges = [
    `<h3>Position bias</h3>`,
    table(POSITION_COLUMNS, analysis.positionBias),
    `<h3>Agreement between the two answer orders</h3>`,
    table(CONSISTENCY_COLUMNS, analysis.orderConsistency),
    analysis.judgeAgreement.numRows() > 0
      ? `<h3>Agreement between judges</h3>${table(AGREEMENT_COLUMNS, analysis.judgeAgreement)}`
      : `<p>One judge only: no agreement between judges to show.</p>`,
    analysis.humanAgreement.numRows() > 0
      ? `<h3>Agreement with human votes</h3>${table(AGREEMENT_COLUMNS, analysis.humanAgreement)}`
      : `<p>No human votes in this run.</p>`,
  ].join("\n");
  const battleCols: Column[] = [
    { key: "index", label: "#", kind: "int" },
    { key: "prompt_id", label: "prompt" },
    { key: "model_a", label: "model A" },
    { key: "model_b", label: "model B" },
    { key: "winner", label: "winner" },
    { key: "judge", label: "judge" },
    { key: "game", label: "game" },
  ];
  const shown = run.battles.slice(0, HTML_BATTLE_LIMIT) as unknown as Record<string, unknown>[];
  const more = run.battles.length > HTML_BATTLE_LIMIT ? `<p>First ${HTML_BATTLE_LIMIT} of ${run.battles.length} battles; report.json has them all.</p>` : "";
  const nav = [["leaderboard", "Leaderboard"], ["charts", "Charts"], ["judges", "Judges"], ["battles", "Battles"], ["method", "Method"]]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(run.suite.name)} suite, ${run.contestants.length} contestants, ${run.battles.length} rated battles.</p>
<nav>${nav}</nav>
<table class="facts">
${facts}
</table>
${warnings}
<h2 id="leaderboard">Leaderboard</h2>
${table(RATING_COLUMNS, analysis.ratings, "leaderboard")}
<h2 id="charts">Charts</h2>
<div class="charts">
${figures}
</div>
<h2 id="judges">Judges</h2>
${judges}
<h2 id="battles">Battles</h2>
<details><summary>${run.battles.length} rated battles (click to show)</summary>
${table(battleCols, shown)}
${more}
</details>
<h2 id="method">Method</h2>
<p>Bradley-Terry ratings maximise sum of w log s(ln10 (t_a - t_b)) over the unique (model A, model B, outcome) rows with their counts w, a tie counting as half a win and half a loss; rating = 400 t + 1000 with the models' mean at 1000 unless a model is anchored.
Intervals come from resampling the outcome counts (multinomial bootstrap, seeded) and refitting; Rank (UB) is 1 + the number of models whose lower bound is above this model's upper bound.
Online Elo updates R_a += K (S_a - p_a) battle by battle (K = 4 by default) and depends on battle order. Failed answers and judge errors are recorded in the run and never rated.</p>
</main>
<script>${scriptSafe(scripts.vega)}</script>
<script>${scriptSafe(scripts.vegaLite)}</script>
<script>${scriptSafe(scripts.vegaEmbed)}</script>
<script>${EMBED}</script>
</body>
</html>
`;
}
