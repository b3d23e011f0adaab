/** Chained ops: importing tslm installs `t.op(...)` for every op tfjs-core declares as a Tensor method. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { init, tf } from "../../lib/tensor/index.js";
import { CHAINED_OPS, SPECIAL, installChainedOps } from "../../lib/tensor/chained.js";

/** Method names declared by tfjs-core's chained-op type augmentations (`interface Tensor { name(...) }`). */
function declaredMethods(): string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/package.json")), "dist", "public", "chained_ops");
  const names = new Set<string>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".d.ts") || f.includes("_test") || f.startsWith("register_all")) continue;
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/^ {8}(\w+)[<(]/gm)) names.add(m[1]);
  }
  return [...names].sort();
}

describe("tensor: chained ops", function () {
  this.timeout(60000);
  before(async () => {
    await init(); // whichever backend auto picks (chained ops do not depend on it)
  });

  it("installs a method for every chained op tfjs-core declares", () => {
    const declared = declaredMethods();
    assert.ok(declared.length > 100, `found ${declared.length} declared methods`);
    const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
    const missing = declared.filter((n) => typeof proto[n] !== "function");
    assert.deepEqual(missing, []);
    // Every name this file knows is declared by tfjs-core (no invented methods).
    const known = [...CHAINED_OPS, ...Object.keys(SPECIAL)];
    assert.deepEqual(known.filter((n) => !declared.includes(n)), []);
    assert.deepEqual(installChainedOps(), [], "installing again changes nothing");
  });

  it("computes the same as the ops", async () => {
    const t = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(await t.mul(2).sum().data(), new Float32Array([20]));
    assert.deepEqual(await t.matMul(t, false, true).array(), (await tf.matMul(t, t, false, true).array()) as number[][]);
    assert.deepEqual(await t.as1D().square().array(), [1, 4, 9, 16]);
    assert.deepEqual(await t.concat(t, 0).shape, [4, 2]);
    assert.deepEqual(await tf.scalar(1).stack([tf.scalar(2), tf.scalar(3)]).array(), [1, 2, 3]);
    assert.deepEqual(await tf.tensor1d([5, 6]).where(tf.tensor1d([true, false], "bool"), tf.tensor1d([7, 8])).array(), [5, 8]);
    assert.equal(t.toInt().dtype, "int32");
    assert.deepEqual(tf.tensor1d([1, 2, 3, 4]).reshapeAs(t).shape, [2, 2]);
    assert.throws(() => t.asScalar(), /exactly 1 element, it has 4 \(shape \[2, 2\]\)/);
    const gone = tf.tensor1d([1]);
    gone.dispose();
    assert.throws(() => gone.add(1), /disposed/);
  });
});
