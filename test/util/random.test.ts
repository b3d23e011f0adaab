import { strict as assert } from "node:assert";
import { Random } from "../../lib/util/random.js";

describe("util/random", () => {
  it("gives the same stream for the same seed and different streams otherwise", () => {
    const a = new Random(42), b = new Random(42), c = new Random(43);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    const ys = Array.from({ length: 8 }, () => b.nextUint32());
    const zs = Array.from({ length: 8 }, () => c.nextUint32());
    assert.deepEqual(xs, ys);
    assert.notDeepEqual(xs, zs);
  });

  it("restores exactly from a saved state", () => {
    const a = new Random(7);
    for (let i = 0; i < 100; i++) a.float();
    const saved = a.state();
    const next = Array.from({ length: 5 }, () => a.float());
    const b = Random.fromState(saved);
    assert.deepEqual(Array.from({ length: 5 }, () => b.float()), next);
  });

  it("draws uniform floats and unbiased ints", () => {
    const r = new Random(1);
    const counts = new Array(6).fill(0);
    let sum = 0;
    const n = 60000;
    for (let i = 0; i < n; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1, `float out of range: ${f}`);
      sum += f;
      counts[r.int(6)]++;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
    for (const c of counts) assert.ok(Math.abs(c / n - 1 / 6) < 0.01, `bucket share ${c / n}`);
  });

  it("forks independent labelled streams without advancing the parent", () => {
    const r = new Random(5);
    const before = r.state();
    const f1 = r.fork("data"), f2 = r.fork("dropout");
    assert.deepEqual(r.state(), before);
    assert.notEqual(f1.nextUint32(), f2.nextUint32());
    assert.equal(new Random(5).fork("data").nextUint32(), new Random(5).fork("data").nextUint32());
  });

  it("rejects bad arguments with the value in the message", () => {
    assert.throws(() => new Random(NaN), /NaN/);
    assert.throws(() => new Random(1).int(0), /got 0/);
    assert.throws(() => Random.fromState([1, 2, 3] as never), /four uint32/);
  });
});
