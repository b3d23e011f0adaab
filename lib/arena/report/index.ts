/** Public API of lib/arena/report: reproducible HTML, Markdown and JSON reports of a run. */
export { analyzeRun, runRatingOptions, type RunAnalysis, type ReportRun, type ChartEntry } from "./analyze.js";
export { renderHtml, scriptSafe, type InlineScripts } from "./html.js";
export { renderMarkdown } from "./markdown.js";
export { reportJson, REPORT_FORMAT, REPORT_FORMAT_VERSION } from "./json.js";
export { writeReport, buildReport, inlineScripts, type ReportOptions, type BuiltReport } from "./write.js";
