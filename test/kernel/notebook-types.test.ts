/** The prepared notebook types: built from dist/lib, comment-free copies that declare the same things, freshness checks. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildNotebookTypes, kernelTypeRoots, tslabTypeScript } from "../../kernel/build-notebook-types.js";
import { loadNotebookTypes, notebookTypesPath, relPath, serveTexts, stripComments, type NotebookTypes } from "../../kernel/notebook-types.js";
import { exportedNames } from "../../kernel/preload.js";
import { packageInfo } from "../../lib/util/package.js";

const ts = tslabTypeScript();

/** Top-level statements as "kind name" lines: what a declaration file declares (the printer may change a module name's quotes). */
function outline(text: string): string[] {
  const sf = ts.createSourceFile("x.d.ts", text, ts.ScriptTarget.Latest, false);
  return sf.statements.map((st) => {
    const name = (st as { name?: { text?: string; getText(sf: unknown): string } }).name;
    return `${ts.SyntaxKind[st.kind]} ${name ? (name.text ?? name.getText(sf)) : ""}`;
  });
}

describe("kernel notebook types", function () {
  this.timeout(120000);
  const root = packageInfo().root;
  let built: NotebookTypes;

  before(() => {
    built = buildNotebookTypes(ts, root);
  });

  it("lists the exports TypeScript sees, values apart from types", () => {
    for (const n of ["tf", "z", "table", "vegaLite", "init", "progress", "VegaLiteSpec", "BackendReport"]) assert.ok(built.names.includes(n), n);
    assert.ok(built.values.includes("tf") && built.values.includes("table"));
    assert.ok(!built.values.includes("VegaLiteSpec") && !built.values.includes("BackendReport"));
    // The parsed list (the kernel's fallback) finds the same names.
    const parsed = exportedNames(ts, join(root, "dist", "lib", "index.d.ts"));
    assert.deepEqual(built.names.filter((n) => !parsed.includes(n)), []);
    assert.equal(built.typescript, ts.version);
  });

  it("strips comments from third-party declarations only, keeping what they declare", () => {
    const stripped = built.files.filter((f) => f.text !== undefined);
    assert.ok(stripped.length > 50, `${stripped.length} stripped files`);
    assert.ok(stripped.every((f) => f.path.startsWith("node_modules/") && !f.path.includes("@tensorflow/tfjs-core/")));
    assert.ok(built.files.some((f) => f.own && f.path === "dist/lib/index.d.ts"));
    for (const f of stripped) {
      const original = readFileSync(join(root, f.path), "utf8");
      assert.deepEqual(outline(f.text!), outline(original), f.path);
      assert.ok(!/\/\*\*/.test(f.text!), `${f.path} has no doc comments left`);
    }
  });

  it("prepares the @types packages a notebook's compiler includes on its own, without comments", () => {
    // @types/node is 2 MB, mostly documentation, and every kernel start parsed all of it.
    const roots = kernelTypeRoots(ts, root).filter((r) => existsSync(join(r, "node", "package.json")));
    assert.ok(roots.length > 0, "some type root has @types/node");
    for (const r of roots) {
      const prefix = relPath(root, join(r, "node")) + "/";
      const files = built.files.filter((f) => f.path.startsWith(prefix));
      assert.ok(files.length > 10, `${prefix}: ${files.length} files prepared`);
      assert.deepEqual(files.filter((f) => f.text === undefined).map((f) => f.path), [], "every one without comments");
    }
  });

  it("keeps triple-slash directives and refuses what does not parse", () => {
    const out = stripComments(ts, "a.d.ts", '/// <reference types="node" />\n/** doc */\nexport declare const a: number; // note\n');
    assert.equal(out, '/// <reference types="node" />\nexport declare const a: number;\n');
    assert.equal(stripComments(ts, "b.d.ts", "export declare const = ;"), undefined);
  });

  it("uses entries only while their files are unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-nbtypes-"));
    try {
      mkdirSync(join(dir, "dist", "kernel"), { recursive: true });
      mkdirSync(join(dir, "dist", "lib"), { recursive: true });
      mkdirSync(join(dir, "node_modules", "dep"), { recursive: true });
      writeFileSync(join(dir, "dist", "lib", "index.d.ts"), 'import type { d } from "dep";\nexport declare const a: typeof d;\n');
      writeFileSync(join(dir, "node_modules", "dep", "index.d.ts"), "/** doc */ export declare const d: 2;\n");
      writeFileSync(notebookTypesPath(dir), JSON.stringify(buildNotebookTypes(ts, dir)));
      const fresh = loadNotebookTypes(dir, ts.version);
      assert.deepEqual(fresh.names, ["a"]);
      assert.equal(fresh.texts.get(join(dir, "node_modules", "dep", "index.d.ts")), "export declare const d: 2;\n");
      assert.equal(loadNotebookTypes(dir, "9.9.9").names, undefined, "another TypeScript");
      // A changed dependency file is read from disk again; the names stay valid.
      writeFileSync(join(dir, "node_modules", "dep", "index.d.ts"), "export declare const d: 3;\n");
      const depChanged = loadNotebookTypes(dir, ts.version);
      assert.equal(depChanged.texts.has(join(dir, "node_modules", "dep", "index.d.ts")), false);
      assert.deepEqual(depChanged.names, ["a"]);
      // A new mtime alone (a copy, an npm install) changes nothing; new content of the same size does.
      const own = join(dir, "dist", "lib", "index.d.ts");
      utimesSync(own, new Date(), new Date(Date.now() + 5000));
      assert.deepEqual(loadNotebookTypes(dir, ts.version).names, ["a"]);
      writeFileSync(own, readFileSync(own, "utf8").replace("typeof d", "typeof e"));
      const stale = loadNotebookTypes(dir, ts.version);
      assert.equal(stale.names, undefined);
      assert.match(stale.stale!, /dist\/lib\/index\.d\.ts changed since the notebook types were prepared; run `npm run build`/);
      rmSync(notebookTypesPath(dir));
      assert.match(loadNotebookTypes(dir, ts.version).stale!, /no prepared notebook types/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves the prepared text in place of the file", () => {
    const sys = ts.sys as unknown as { readFile(p: string): string | undefined };
    const original = sys.readFile;
    try {
      serveTexts(ts, new Map([["/nowhere/x.d.ts", "export {};"]]));
      assert.equal(sys.readFile("/nowhere/x.d.ts"), "export {};");
      assert.equal(sys.readFile("/nowhere/y.d.ts"), undefined);
    } finally {
      sys.readFile = original;
    }
  });
});
