/**
 * Every notebook in notebooks/ runs headlessly on the tslm kernel with real
 * Jupyter (`jupyter nbconvert --to notebook --execute`) and comes out clean:
 * no error outputs, execution counts everywhere, Vega-Lite stored as a JSON
 * object beside its SVG. A deliberately failing notebook makes nbconvert
 * fail with the error's name and value.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkNotebook, runNotebook, type Notebook } from "../../kernel/notebooks.js";
import { VEGALITE_MIME } from "../../lib/display/vega.js";
import { packageInfo } from "../../lib/util/package.js";

const root = packageInfo().root;
const notebooks = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb"))
  .sort();

describe("notebooks", function () {
  // Generous: notebooks that train small models take minutes on 2 busy cores.
  this.timeout(15 * 60 * 1000);
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), "tslm-notebooks-"));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("finds the notebooks to run", () => {
    assert.ok(notebooks.includes("00-quickstart.ipynb"), `notebooks/ holds ${notebooks.join(", ")}`);
  });

  for (const name of notebooks) {
    it(`runs ${name} with no errors`, async () => {
      const r = await runNotebook(join(root, "notebooks", name), { out: join(out, name), cellTimeoutS: 600 });
      assert.equal(r.exitCode, 0, `nbconvert failed:\n${r.log.split("\n").slice(-40).join("\n")}`);
      assert.deepEqual(r.problems, []);
      const nb = JSON.parse(readFileSync(r.out, "utf8")) as Notebook;
      const code = nb.cells.filter((c) => c.cell_type === "code");
      assert.ok(code.length > 0 && code.every((c) => typeof c.execution_count === "number"), "every code cell has an execution count");
    });
  }

  it("quickstart shows a table, a Vega-Lite chart (object + SVG) and a finished progress display", async () => {
    const nb = JSON.parse(readFileSync(join(out, "00-quickstart.ipynb"), "utf8")) as Notebook;
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v));
    assert.ok(outputs.some((o) => o.data && text(o.data["text/html"]).includes("<table")), "a table");
    const chart = outputs.find((o) => o.data && VEGALITE_MIME in o.data);
    assert.ok(chart, "a Vega-Lite output");
    assert.equal(typeof chart.data![VEGALITE_MIME], "object");
    assert.match(text(chart.data!["image/svg+xml"]), /<svg[\s\S]*<\/svg>/);
    assert.ok(outputs.some((o) => o.data && /tslm-progress/.test(text(o.data["text/html"])) && /40\/40 steps/.test(text(o.data["text/plain"]))), "a finished progress display");
  });

  it("fails on a failing notebook, reporting ename and evalue (tslm notebook run exits 1)", () => {
    const fixture = join(root, "test", "fixtures", "notebooks", "fails.ipynb");
    const cli = spawnSync(process.execPath, [join(root, "bin", "tslm.js"), "notebook", "run", fixture, "--out", join(out, "fails.ipynb"), "--timeout", "120", "--json"], { encoding: "utf8" });
    assert.equal(cli.status, 1, cli.stderr);
    const result = JSON.parse(cli.stdout.trim().split("\n").pop()!) as { ok: boolean; notebooks: { exitCode: number; log: string }[] };
    assert.equal(result.ok, false);
    assert.notEqual(result.notebooks[0].exitCode, 0);
    assert.match(result.notebooks[0].log, /RangeError/);
    assert.match(result.notebooks[0].log, /deliberate failure for the tests/);
  });

  it("flags error outputs, missing counts and Vega-Lite stored as a string", () => {
    const problems = checkNotebook({
      metadata: {},
      cells: [
        { cell_type: "code", source: "x", execution_count: null, outputs: [] },
        { cell_type: "code", source: "y", execution_count: 2, outputs: [{ output_type: "error", ename: "TSError", evalue: "bad" }] },
        { cell_type: "code", source: "z", execution_count: 3, outputs: [{ output_type: "display_data", data: { [VEGALITE_MIME]: "{}" } }] },
      ],
    });
    assert.deepEqual(problems, [
      "cell 1: no execution count",
      "cell 2: TSError: bad",
      `cell 3: ${VEGALITE_MIME} is not stored as a JSON object`,
      "cell 3: Vega-Lite output without its image/svg+xml rendering",
    ]);
  });
});
