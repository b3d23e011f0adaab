/** Public API of lib/arena/plots: pure Vega-Lite 5 spec builders (render them with lib/display's `vegaLite` / `renderSvg`). */
export { records, type Rows, type ChartOptions, type VegaLiteSpec } from "./common.js";
export { leaderboardChart, averageWinRateChart, battlesPerModelChart, outcomeCountsChart } from "./leaderboard.js";
export { winFractionHeatmap, battleCountHeatmap, predictedWinRateHeatmap, type HeatmapOptions } from "./heatmaps.js";
export { ratingHistoryChart, bootstrapChart, positionBiasChart } from "./distributions.js";
