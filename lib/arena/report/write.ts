/**
 * `writeReport(runDir)`: the HTML, Markdown and JSON reports of a run, with
 * the charts as SVG files. The same run folder (and tool versions) always
 * gives byte-identical files: no clock, seeded bootstrap, fixed orders.
 * Files are written atomically (temp file, fsync, rename).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { renderSvg } from "../../display/vega.js";
import { FormatError } from "../../util/errors.js";
import type { RatingOptionsInput } from "../ratings/options.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { loadRun } from "../store/load.js";
import { analyzeRun, type ReportRun, type RunAnalysis } from "./analyze.js";
import { type InlineScripts, renderHtml } from "./html.js";
import { reportJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";

export interface ReportOptions {
  /** Output folder. Default `<run>/report`. */
  out?: string;
  /** Rating options over the run config's (`seed` defaults to the run's seed). */
  rating?: RatingOptionsInput;
}

export interface BuiltReport {
  analysis: RunAnalysis;
  html: string;
  markdown: string;
  json: string;
  /** chart id -> SVG */
  svgs: Map<string, string>;
}

/** Folder of an installed package, found from its resolved entry point. */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  // The outermost folder named like the package whose package.json names it
  // (vega-lite also ships a build/package.json, which is not the package root).
  let dir = dirname(require.resolve(name));
  let found: string | undefined;
  for (let i = 0; i < 8 && dir !== dirname(dir); i++) {
    const file = join(dir, "package.json");
    if (existsSync(file) && JSON.parse(readFileSync(file, "utf8")).name === name) found = dir;
    if (basename(dirname(dir)) === "node_modules") break;
    dir = dirname(dir);
  }
  if (found) return found;
  throw new FormatError(`cannot find the folder of package ${name}`);
}

/** The browser builds of vega, vega-lite and vega-embed (their `jsdelivr` entry: minified UMD). */
export function inlineScripts(): InlineScripts {
  const read = (name: string): string => {
    const dir = packageDir(name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return readFileSync(join(dir, pkg.jsdelivr ?? pkg.unpkg), "utf8");
  };
  return { vega: read("vega"), vegaLite: read("vega-lite"), vegaEmbed: read("vega-embed") };
}

/**
 * Renames the ids inside an SVG (vega numbers gradients with a process-wide
 * counter) to `<prefix>-<n>` in order of appearance: the same chart then
 * gives the same bytes every time, and several SVGs inlined in one HTML page
 * cannot steal each other's gradients.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!ids.has(m[1])) ids.set(m[1], `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg.replace(/(\bid="|url\(#|href="#)([^")]+)/g, (all, lead: string, id: string) => (ids.has(id) ? lead + ids.get(id) : all));
}

/** Builds every report text of a loaded run (charts rendered to SVG in Node). */
export async function buildReport(run: ReportRun, rating: RatingOptionsInput = {}, scripts: InlineScripts = inlineScripts()): Promise<BuiltReport> {
  const analysis = analyzeRun(run, rating);
  const svgs = new Map<string, string>();
  for (const c of analysis.charts) svgs.set(c.id, scopeSvgIds(await renderSvg(c.spec), c.id));
  return {
    analysis,
    svgs,
    html: renderHtml(run, analysis, svgs, scripts),
    markdown: renderMarkdown(run, analysis),
    json: JSON.stringify(reportJson(run, analysis), null, 1) + "\n",
  };
}

/**
 * Writes `report.html`, `report.md`, `report.json` and `figures/*.svg`.
 * @example await writeReport("runs/general-demo") // -> { dir: "runs/general-demo/report", files: [...] }
 */
export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<{ dir: string; files: string[]; analysis: RunAnalysis }> {
  const run = loadRun(runDir);
  const built = await buildReport(run, options.rating);
  const dir = options.out ?? join(runDir, "report");
  const files: string[] = [];
  const put = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileAtomic(file, text);
    files.push(file);
  };
  for (const [id, svg] of built.svgs) put(join("figures", `${id}.svg`), svg);
  put("report.md", built.markdown);
  put("report.json", built.json);
  put("report.html", built.html);
  return { dir, files, analysis: built.analysis };
}
