/**
 * The notebooks in notebooks/ are committed executed, so GitHub shows their
 * tables and charts: every code cell holds its outputs from one top-to-bottom
 * run on the tslm kernel (execution counts 1, 2, 3, ...), none of them an
 * error, each chart with its SVG, and no local folder in the outputs.
 * Refresh them with `npx tslm notebook run notebooks/*.ipynb --out notebooks`.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { checkNotebook, type Notebook } from "../../kernel/notebooks.js";
import { readJsonFile } from "../../lib/util/files.js";
import { packageInfo } from "../../lib/util/package.js";

const root = packageInfo().root;
const dir = join(root, "notebooks");
const names = readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort();
const text = (v: unknown) => (Array.isArray(v) ? v.join("") : typeof v === "string" ? v : JSON.stringify(v));

describe("notebooks as committed", () => {
  it("finds the notebooks", () => {
    assert.ok(names.length >= 4, `notebooks/ holds ${names.join(", ")}`);
  });

  for (const name of names) {
    it(`${name} holds the outputs of one run on the tslm kernel`, () => {
      const nb = readJsonFile(join(dir, name), "notebook") as Notebook;
      assert.equal((nb.metadata.kernelspec as { name?: string } | undefined)?.name, "tslm");
      assert.deepEqual(checkNotebook(nb), []);
      const code = nb.cells.filter((c) => c.cell_type === "code" && text(c.source).trim() !== "");
      assert.deepEqual(code.map((c) => c.execution_count), code.map((_, i) => i + 1), "executed top to bottom in one run");
      const silent = code.flatMap((c, i) => (c.outputs?.length ? [] : [`code cell ${i + 1}: ${text(c.source).split("\n")[0]}`]));
      assert.deepEqual(silent, [], "every code cell shows its outcome");
      const outputs = JSON.stringify(code.map((c) => c.outputs));
      assert.ok(!outputs.includes(root), `no output names the folder it ran in (${root})`);
    });
  }
});
