/** Backend selection: auto picks the first that works and says why the others were passed over. */
import assert from "node:assert/strict";
import { backendReport, BACKEND_ORDER, fusedKernels, init, nativeEnabled, tf } from "../../lib/tensor/index.js";

describe("tensor: init", function () {
  this.timeout(60000);

  // Other specs may have chosen a backend already: force a fresh selection, and restore theirs after.
  let previous: string | undefined;
  before(async () => {
    previous = backendReport()?.chosen;
  });
  after(async () => {
    if (previous) await init({ backend: previous as never });
  });

  it("auto chooses a working backend and explains every other one", async () => {
    const r = await init({ backend: "auto", force: true });
    assert.equal(r.requested, "auto");
    assert.ok(BACKEND_ORDER.includes(r.chosen));
    assert.deepEqual(r.attempts.map((a) => a.backend).sort(), [...BACKEND_ORDER].sort());
    for (const a of r.attempts) assert.ok(a.reason.length > 0, `${a.backend} has a reason`);
    const chosenAt = BACKEND_ORDER.indexOf(r.chosen);
    for (const a of r.attempts) {
      const at = BACKEND_ORDER.indexOf(a.backend);
      assert.equal(a.outcome, at < chosenAt ? "failed" : at === chosenAt ? "chosen" : "skipped");
    }
    // tfjs-node is not a dependency: unless the user installed it, tensorflow is passed over with that reason.
    const tfa = r.attempts.find((a) => a.backend === "tensorflow")!;
    if (tfa.outcome === "failed") assert.match(tfa.reason, /not installed|another copy|failed to load/);
    assert.equal(tf.getBackend(), r.tfBackend);
    assert.deepEqual(Array.from(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1)).dataSync()), [2, 3]);
  });

  it("is idempotent and shares one selection between concurrent callers", async () => {
    const [a, b] = await Promise.all([init(), init()]);
    assert.equal(a, b);
    assert.equal(backendReport(), a);
  });

  it("switches on an explicit request and rejects unknown names", async () => {
    const before = await init();
    try {
      const cpu = await init({ backend: "cpu" });
      assert.equal(cpu.chosen, "cpu");
      assert.equal(tf.getBackend(), "cpu");
      assert.ok(cpu.attempts.filter((a) => a.backend !== "cpu").every((a) => a.outcome === "skipped" && /not requested/.test(a.reason)));
      assert.equal(await init(), cpu, "auto keeps the current backend");
    } finally {
      await init({ backend: before.chosen });
    }
    await assert.rejects(init({ backend: "gpu" as never }), /unknown backend "gpu"; expected "auto", "tensorflow", "native", "wasm", "cpu"/);
  });

  it("plain wasm after native really is plain: the native kernels and fused ops are removed", async function () {
    const native = await init({ backend: "native" }).catch(() => undefined);
    if (!native) this.skip(); // the addon is not built here: nothing to remove (nativeStatus says why)
    const before = backendReport()!;
    try {
      assert.ok(nativeEnabled());
      assert.ok(fusedKernels().adamw, "native fills the fused registry");
      const wasm = await init({ backend: "wasm" });
      assert.equal(wasm.chosen, "wasm");
      assert.equal(nativeEnabled(), false);
      assert.equal(fusedKernels().adamw, undefined);
      assert.deepEqual(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]))).dataSync()), [11]);
    } finally {
      await init({ backend: before.chosen });
    }
  });
});
