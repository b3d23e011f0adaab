/** MIME bundles, the display protocol, tables, Markdown/HTML and display handles. */
import assert from "node:assert/strict";
import * as aq from "arquero";
import { DISPLAY, display, displayable, html, inNotebook, markdown, table, tableBundle, toBundle, type Displayable } from "../../lib/display/index.js";
import { recordingSink } from "./support/sink.js";

describe("display: bundles and tables", () => {
  it("renders objects through Symbol.for('Jupyter.display'), adding text/plain", async () => {
    class Card implements Displayable {
      [DISPLAY]() {
        return Promise.resolve({ "text/html": "<i>card</i>" });
      }
    }
    assert.equal(DISPLAY, Symbol.for("Jupyter.display"));
    const b = await toBundle(new Card());
    assert.equal(b["text/html"], "<i>card</i>");
    assert.equal(typeof b["text/plain"], "string");
  });

  it("rejects a display method that returns no bundle", async () => {
    const bad = { [DISPLAY]: () => 42 } as unknown as Displayable;
    await assert.rejects(toBundle(bad), /must return a MIME bundle object, got 42/);
  });

  it("turns plain values into text and arquero tables into tables", async () => {
    assert.deepEqual(await toBundle({ a: 1 }), { "text/plain": "{ a: 1 }" });
    const t = aq.table({ model: ["base", "lora"], elo: [1000, 1042.123456] });
    const b = await toBundle(t);
    assert.match(String(b["text/html"]), /<th[^>]*>model<\/th>/);
    assert.match(String(b["text/plain"]), /lora\s+1042/);
    // table() takes arquero's own table type (this line is type-checked with the tree).
    const direct = tableBundle(aq.from([{ a: 1 }, { a: 2 }]), { limit: 1 });
    assert.match(String(direct["text/plain"]), /1 more row/);
  });

  it("tables escape HTML, align numbers, format digits and count hidden rows", () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({ name: i === 0 ? "<b>x</b>" : `m${i}`, score: i + 0.123456 }));
    const b = tableBundle(rows, { limit: 3, title: "scores" });
    const htmlText = String(b["text/html"]);
    assert.ok(htmlText.includes("&lt;b&gt;x&lt;/b&gt;") && !htmlText.includes("<b>x</b>"));
    assert.match(htmlText, /text-align:right">0\.1235</);
    assert.match(htmlText, /22 more rows \(25 in all\)/);
    const lines = String(b["text/plain"]).split("\n");
    assert.equal(lines[0], "scores");
    assert.equal(lines[1], "name       score");
    assert.equal(lines[3], "<b>x</b>  0.1235");
    assert.equal(lines.at(-1), "... 22 more rows (25 in all)");
    assert.throws(() => tableBundle(rows, { limit: -1 }), /limit must be a non-negative integer, got -1/);
    assert.match(String(table([]).toString()), /0 rows/);
  });

  it("markdown and html carry text/plain", async () => {
    assert.deepEqual(await toBundle(markdown("**hi**")), { "text/markdown": "**hi**", "text/plain": "**hi**" });
    const h = await toBundle(html("<p>a <b>b</b></p>"));
    assert.equal(h["text/plain"], "a b");
    assert.equal(String(displayable({ "text/plain": "x" })), "x");
  });

  it("display() prints text outside a notebook", async () => {
    assert.equal(inNotebook(), false);
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await display(markdown("plain text")).ready;
    } finally {
      process.stdout.write = write;
    }
    assert.deepEqual(written, ["plain text\n"]);
  });

  it("display() publishes in a notebook and updates the same display id in order", async () => {
    const rec = recordingSink();
    rec.install();
    try {
      const h = display(markdown("one"));
      const h2 = display(markdown("other"));
      await h.update(markdown("two"));
      await h2.ready;
      assert.equal(rec.tracked.length, 3);
      assert.deepEqual(
        rec.published.map((p) => [p.data["text/markdown"], p.update, p.displayId === h.id]),
        [["one", false, true], ["other", false, false], ["two", true, true]],
      );
    } finally {
      rec.remove();
    }
  });
});
