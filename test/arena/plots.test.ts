import { strict as assert } from "node:assert";
import * as A from "../../lib/arena/analysis/index.js";
import * as P from "../../lib/arena/plots/index.js";
import { bootstrapTable, ratingsTable } from "../../lib/arena/leaderboard.js";
import { ratingHistory } from "../../lib/arena/ratings/history.js";
import { rateBattles } from "../../lib/arena/ratings/rate.js";
import { ladder, simulateBattles } from "../../lib/arena/ratings/simulate.js";
import type { JudgmentRecord } from "../../lib/arena/types.js";
import { renderSvg, vegaLite, VEGALITE_MIME } from "../../lib/display/index.js";

/** Counts the data marks (not axes or legends) of a type in vega's SVG output. */
function marks(svg: string, type: string): number {
  // vega writes each mark group as <g class="mark-TYPE role-mark ..."> holding one element per datum.
  let count = 0;
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, "gs");
  for (const m of svg.matchAll(re)) count += (m[1].match(/<(path|line|text)\b/g) ?? []).length;
  return count;
}

describe("arena/plots: Vega-Lite specs drawn through lib/display", function () {
  this.timeout(60_000);
  const battles = simulateBattles({ battles: 1200, ratings: ladder(5), rng: 3 });
  const result = rateBattles(battles, { bootstrap: 60, seed: 1 });
  const ratings = ratingsTable(result);
  const order = ratings.array("model") as string[];
  const judgments: JudgmentRecord[] = battles.slice(0, 80).map((b, i) => ({
    id: `j${i}`,
    prompt_id: `p${i % 10}`,
    judge: i % 2 ? "judge-a" : "judge-b",
    first: b.model_a,
    second: b.model_b,
    verdict: i % 3 === 0 ? "second" : "first",
  }));

  it("leaderboard: one interval rule and one point per model, best first", async () => {
    const spec = P.leaderboardChart(ratings);
    assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
    const layer = spec.layer as { encoding: { y: { sort: string[] } } }[];
    assert.deepEqual(layer[0].encoding.y.sort, order);
    const svg = await renderSvg(spec);
    assert.equal(marks(svg, "rule"), 5);
    assert.equal(marks(svg, "symbol"), 5);
  });

  it("heatmaps: one cell per ordered pair (win fraction, battle count, predicted win rate)", async () => {
    for (const spec of [
      P.winFractionHeatmap(A.winFractionMatrix(battles, order), { order }),
      P.battleCountHeatmap(A.battleCountMatrix(battles, order), { order }),
      P.predictedWinRateHeatmap(A.predictedWinRateMatrix(result)),
    ]) {
      const svg = await renderSvg(spec);
      assert.equal(marks(svg, "rect"), 20, String((spec.title as { text: string }).text));
      assert.equal(marks(svg, "text"), 20);
    }
  });

  it("average win rate, battles per model, outcomes", async () => {
    assert.equal(marks(await renderSvg(P.averageWinRateChart(A.averageWinRate(A.predictedWinRateMatrix(result)))), "rect"), 5);
    assert.equal(marks(await renderSvg(P.battlesPerModelChart(ratings)), "rect"), 5);
    assert.equal(marks(await renderSvg(P.outcomeCountsChart(A.outcomeCounts(battles))), "rect"), 4);
  });

  it("rating over battles: one line per model", async () => {
    const svg = await renderSvg(P.ratingHistoryChart(ratingHistory(battles, {}, { points: 6 })));
    assert.equal(marks(svg, "line"), 5);
  });

  it("bootstrap distribution: a tick per round and model, a dot per median", async () => {
    const spec = P.bootstrapChart(bootstrapTable(result), { maxRounds: 40 });
    const svg = await renderSvg(spec);
    assert.equal(marks(svg, "rect"), 40 * 5, "vega draws ticks as thin rects");
    assert.equal(marks(svg, "symbol"), 5);
  });

  it("position bias: a bar and interval per judge and the 50% line", async () => {
    const svg = await renderSvg(P.positionBiasChart(A.positionBias(judgments)));
    assert.equal(marks(svg, "rect"), 2);
    assert.equal(marks(svg, "rule"), 3);
  });

  it("specs are pure data: the same input gives the same JSON, and vegaLite() makes a notebook bundle", async () => {
    assert.equal(JSON.stringify(P.leaderboardChart(ratings)), JSON.stringify(P.leaderboardChart(ratingsTable(rateBattles(battles, { bootstrap: 60, seed: 1 })))));
    const shown = vegaLite(P.leaderboardChart(ratings));
    const bundle = await (shown as unknown as Record<symbol, () => Promise<Record<string, unknown>>>)[Symbol.for("Jupyter.display")]();
    assert.ok(bundle[VEGALITE_MIME]);
    assert.match(String(bundle["image/svg+xml"]), /^<svg/);
  });
});
