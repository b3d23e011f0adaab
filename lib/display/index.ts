/**
 * Public API of lib/display (re-exported from the package root): one MIME
 * bundle primitive and helpers on it. Other subsystems make their objects
 * render in notebooks by implementing `[DISPLAY]()` (see bundle.ts).
 */
export { DISPLAY, displayable, isDisplayable, toBundle, plainText, isArqueroTable, type Displayable, type MimeBundle, type ArqueroLike } from "./bundle.js";
export { display, inNotebook, displaySink, setDisplaySink, newDisplayId, type DisplayHandle, type DisplaySink } from "./sink.js";
export { markdown, html, svg, png, escapeHtml } from "./html.js";
export { table, tableBundle, formatCell, type TableOptions } from "./table.js";
export { vegaLite, vegaLiteBundle, renderSvg, renderPng, bundledFontFiles, describeChart, withSchema, VEGALITE_MIME, type VegaLiteSpec, type ChartOptions } from "./vega.js";
export { progress, progressMode, formatDuration, type Progress, type ProgressOptions, type ProgressInfo, type ProgressMode } from "./progress.js";
export { liveChart, type LiveChart, type LiveChartOptions } from "./live-chart.js";
