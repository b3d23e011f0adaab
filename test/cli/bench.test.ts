/** `npm run bench -- NAME --help` prints the benchmark's options instead of running it. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/cli.js";

const bench = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "scripts", "bench.mjs"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });

describe("cli: npm run bench", () => {
  it("prints each benchmark's options with --help (its parser never sees the flag)", () => {
    const names = readdirSync(join(ROOT, "bench")).filter((f) => f.endsWith(".ts") && !f.startsWith("_")).map((f) => f.slice(0, -3));
    assert.ok(names.includes("generate"));
    for (const name of names) {
      const r = bench(name, "--help");
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /--json/, name);
      assert.doesNotMatch(r.stderr, /ERR_PARSE_ARGS|Error/, name);
    }
    assert.match(bench("generate", "-h").stdout, /--prompt-tokens P/);
  });

  it("lists the benchmarks with --help alone and refuses an unknown one (exit 2)", () => {
    assert.match(bench("--help").stdout, /benchmarks: .*generate/);
    const r = bench("nope");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown benchmark 'nope'/);
  });
});
