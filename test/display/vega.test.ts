/** Vega-Lite bundles (spec as an object + SVG from Node), PNG through resvg with bundled fonts, live charts. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundledFontFiles, liveChart, renderPng, renderSvg, toBundle, vegaLite, vegaLiteBundle, VEGALITE_MIME } from "../../lib/display/index.js";
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

  it("adds a PNG rendering when asked, which nbconvert 6's HTML shows when told to prefer PNG", async () => {
    assert.equal((await vegaLiteBundle(spec))["image/png"], undefined, "no PNG by default");
    const b = await toBundle(vegaLite(spec, { png: true }));
    const png = Buffer.from(String(b["image/png"]), "base64");
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.match(String(b["image/svg+xml"]), /^<svg/);
    // Debian's nbconvert 6.5 empties the SVG in HTML; with PNG preferred the chart is an <img>.
    const dir = mkdtempSync(join(tmpdir(), "tslm-nbconvert-"));
    try {
      const output = { output_type: "display_data", data: b, metadata: {} };
      const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", id: "c1", execution_count: 1, source: "chart", metadata: {}, outputs: [output] }] };
      writeFileSync(join(dir, "chart.ipynb"), JSON.stringify(nb));
      const priority = "['text/html','text/markdown','image/png','image/svg+xml','text/plain']";
      const r = spawnSync("jupyter", ["nbconvert", "--to", "html", `--NbConvertBase.display_data_priority=${priority}`, join(dir, "chart.ipynb")], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const htmlText = readFileSync(join(dir, "chart.html"), "utf8");
      assert.ok(htmlText.includes(`<img src="data:image/png;base64,${String(b["image/png"]).slice(0, 40)}`), "the chart is embedded as PNG");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
