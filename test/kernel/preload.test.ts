/** The preload's export list (parsed from declaration files) and the kernel's argument parsing. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { exportedNames, preloadSource } from "../../kernel/preload.js";
import { parseArgs } from "../../kernel/main.js";

const req = createRequire(import.meta.url);
const ts = createRequire(join(dirname(req.resolve("tslab/package.json")), "package.json"))("@tslab/typescript-for-tslab");

describe("kernel preload", () => {
  it("lists every export through export * chains, named and namespace re-exports", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-dts-"));
    try {
      mkdirSync(join(dir, "sub"));
      writeFileSync(
        join(dir, "index.d.ts"),
        ['export * from "./sub/index.js";', 'export { a, type B as Bee } from "./other.js";', 'export * as ns from "./other.js";', "export declare const c: number;", "export default 1;", "declare const hidden: 2;"].join("\n"),
      );
      writeFileSync(join(dir, "sub", "index.d.ts"), ["export declare function f(): void;", "export declare class K {}", "export interface I {}", "export type T = 1;", "export declare enum E { X }", 'export * from "./missing.js";'].join("\n"));
      writeFileSync(join(dir, "other.d.ts"), "export declare const a: 1;\nexport type B = 2;\n");
      assert.deepEqual(exportedNames(ts, join(dir, "index.d.ts")), ["Bee", "E", "I", "K", "T", "a", "c", "f", "ns"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes one import statement", () => {
    assert.equal(preloadSource("tslm", ["a", "b"]), 'import { a, b } from "tslm";');
    assert.equal(preloadSource("tslm", []), "");
  });

  it("parses the kernel's arguments (tslab's and Jupyter's spellings)", () => {
    assert.deepEqual(parseArgs(["--connection-file", "c.json"]), { connectionFile: "c.json", preload: true });
    assert.deepEqual(parseArgs(["-f", "c.json", "--no-preload"]), { connectionFile: "c.json", preload: false });
    assert.deepEqual(parseArgs(["--config-path=c.json"]), { connectionFile: "c.json", preload: true });
    assert.throws(() => parseArgs([]), /missing the connection file/);
    assert.throws(() => parseArgs(["c.json", "--bogus"]), /unknown argument "--bogus"/);
  });
});
