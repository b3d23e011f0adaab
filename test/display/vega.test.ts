/** Vega-Lite bundles (spec as an object + SVG from Node), PNG through resvg with bundled fonts, live charts. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { bundledFontFiles, liveChart, renderPng, renderSvg, toBundle, vegaLite, VEGALITE_MIME } from "../../lib/display/index.js";
import { recordingSink } from "./support/sink.js";

const spec = {
  title: "loss",
  data: { values: [{ step: 1, loss: 2.5 }, { step: 2, loss: 1.75 }] },
  mark: "line",
  encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" } },
};

describe("display: Vega-Lite", function () {
  this.timeout(60000);

  it("bundles the spec as a JSON object beside an SVG rendering and a text line", async () => {
    const b = await toBundle(vegaLite(spec));
    const vl = b[VEGALITE_MIME] as Record<string, unknown>;
    assert.equal(typeof vl, "object");
    assert.equal(vl.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
    assert.deepEqual(vl.encoding, spec.encoding);
    const svgText = String(b["image/svg+xml"]);
    assert.match(svgText, /^<svg[^>]*width="\d+"/);
    assert.ok(svgText.includes(">loss</text>"), "the title is drawn");
    assert.equal(b["text/plain"], '[Vega-Lite line chart "loss", 2 rows]');
  });

  it("fails with a clear error on an invalid spec", async () => {
    await assert.rejects(renderSvg({ mark: "nonsense" }), /cannot render the Vega-Lite spec \[Vega-Lite nonsense chart\]: /);
  });

  it("renders PNG with the bundled DejaVu fonts", async () => {
    for (const f of bundledFontFiles()) assert.ok(existsSync(f), f);
    const png = await renderPng(spec, { scale: 1 });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const width = Buffer.from(png).readUInt32BE(16);
    assert.ok(width > 100 && width < 1000, `width ${width}`);
  });

  it("live charts redraw in place, throttled, and draw the final rows on done()", async () => {
    const rec = recordingSink();
    rec.install();
    let now = 0;
    try {
      const chart = liveChart<{ step: number; loss: number }>({ mark: "line", encoding: spec.encoding }, { intervalMs: 1000, now: () => now });
      chart.push({ step: 1, loss: 3 }); // first draw
      now = 10;
      chart.push({ step: 2, loss: 2 }); // within the interval: waits
      chart.push({ step: 3, loss: 1.5 });
      await Promise.all(rec.tracked);
      assert.equal(rec.published.length, 1);
      await chart.done();
      assert.equal(rec.published.length, 2);
      const [first, last] = rec.published;
      assert.equal(last.update, true);
      assert.equal(first.displayId, last.displayId);
      assert.equal(((last.data[VEGALITE_MIME] as { data: { values: unknown[] } }).data.values).length, 3);
      assert.match(String(last.data["image/svg+xml"]), /^<svg/);
      assert.equal(chart.rows.length, 3);
    } finally {
      rec.remove();
    }
  });

  it("live charts only collect rows outside a notebook", async () => {
    const chart = liveChart({ mark: "point" });
    chart.push({ a: 1 }, { a: 2 });
    await chart.done();
    assert.deepEqual(chart.spec().data?.values, [{ a: 1 }, { a: 2 }]);
  });
});
