import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./fixtures/fused-child.ts", import.meta.url));

describe("train: fused kernels used by fine-tuning (native backend)", function () {
  this.timeout(120_000);

  it("fused AdamW/Adam and 4-bit/int8 dequantization agree with the TF.js-ops paths", function () {
    const r = spawnSync(process.execPath, ["--import", "tsx", CHILD], { cwd: ROOT, encoding: "utf8", env: { ...process.env, TSLM_PROGRESS: "off" } });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
    if (!j.available) this.skip(); // the native addon is not built here: the TF.js paths are what runs
    for (const name of ["adamw", "adam"]) {
      assert.equal(j[name].usedFused, true, `${name} used the fused kernel`);
      assert.ok(j[name].maxDiff < 1e-6, `${name}: fused and ops differ by ${j[name].maxDiff}`);
    }
    for (const kind of ["int8", "int4", "nf4"]) {
      assert.equal(j[kind].dequantizeExact, true, `${kind} dequantize is bit-exact`);
      assert.ok(j[kind].matmulDiff < 1e-4, `${kind} dequant-matmul differs by ${j[kind].matmulDiff}`);
    }
  });
});
