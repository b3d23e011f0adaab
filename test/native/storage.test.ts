/**
 * Weights in their storage precision on the native backend: a BF16 / F16
 * checkpoint loaded as a frozen base stays 16-bit in memory (embedding and
 * tied head included) and computes the logits of the same weights widened to
 * float32; a base quantized while loading equals quantizing after loading;
 * LoRA trains on a 16-bit base; tensors past 4 GiB in total live and compute;
 * a failed allocation is a clear error.
 */
import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../../lib/model/create.js";
import { loadModel, saveModel } from "../../lib/model/io.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { baseMemory, quantizeModel } from "../../lib/model/quantize-model.js";
import { QuantizedLinear, quantizePortable } from "../../lib/model/quant.js";
import { adoptTensor, OutOfMemoryError, quantizeWithAddon } from "../../lib/tensor/native/index.js";
import { tempDir } from "../support/tmp.js";
import { maxAbsDiff } from "../support/backend.js";
import { useNativeSuite } from "./support.js";

const CFG = { vocabSize: 96, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 128, maxPositionEmbeddings: 64 };
const IDS = [[1, 5, 9, 2, 7, 3], [4, 4, 8, 1, 0, 2]];

describe("native backend: weights in their storage precision", function () {
  this.timeout(120_000);
  useNativeSuite();

  for (const dtype of ["BF16", "F16"] as const) {
    it(`keeps a ${dtype} checkpoint 16-bit as a frozen base, with the logits of the same weights in float32`, async () => {
      for (const tied of [true, false]) {
        const dir = tempDir();
        const made = createModel({ ...CFG, modelType: "qwen2", tieWordEmbeddings: tied }, { seed: 4, initStd: 0.1 });
        await saveModel(made, dir, { dtype });
        made.dispose();
        const wide = await loadModel(dir); // float32 variables of the 16-bit values (exact)
        const before = tf.memory().numBytes;
        const narrow = await loadModel(dir, { base: "stored" });
        const held = tf.memory().numBytes - before;
        const params = [...wide.namedParameters().values()].reduce((n, v) => n + v.size, 0) + wide.linearNames().reduce((n, name) => {
          const l = wide.getLinear(name);
          return name === "lm_head" && tied ? n : n + l.inFeatures * l.outFeatures + l.outFeatures * (name.includes("_proj") && /q_proj|k_proj|v_proj/.test(name) ? 1 : 0);
        }, 0);
        // 2 bytes per matrix element; norms and biases stay float32 (a few KB here).
        const matrices = params - CFG.numHiddenLayers * 2 * CFG.hiddenSize - CFG.hiddenSize;
        assert.ok(held < matrices * 2 + 64 * 1024, `${dtype} tied=${tied}: ${held} bytes held for ${matrices} matrix elements`);
        assert.ok(narrow.packedEmbedding()?.kind === dtype.toLowerCase(), "the embedding stays packed");
        assert.ok(narrow.getLinear("model.layers.0.mlp.up_proj") instanceof QuantizedLinear);
        assert.equal(narrow.trainableVariables().length, 0, "a stored base is frozen");
        const mem = baseMemory(narrow);
        assert.ok(mem.ratio < 0.52 && mem.ratio > 0.45, `base memory ratio ${mem.ratio}`);
        const a = wide.forward(IDS), b = narrow.forward(IDS);
        const d = maxAbsDiff(a.dataSync(), b.dataSync());
        assert.ok(d < 2e-5, `${dtype} tied=${tied}: logits differ by ${d}`);
        // Decoding (one row through the streaming kernel) agrees too.
        const la = wide.forward([[3]]), lb = narrow.forward([[3]]);
        assert.ok(maxAbsDiff(la.dataSync(), lb.dataSync()) < 2e-5);
        tf.dispose([a, b, la, lb]);
        wide.dispose();
        narrow.dispose();
      }
    });
  }

  it("quantizes while loading exactly as quantizing after loading (nf4, int8), the embedding too unless kept wide", async () => {
    const dir = tempDir();
    const made = createModel({ ...CFG, tieWordEmbeddings: true }, { seed: 9, initStd: 0.1 });
    await saveModel(made, dir);
    made.dispose();
    for (const kind of ["nf4", "int8"] as const) {
      const after = await loadModel(dir);
      quantizeModel(after, kind);
      const during = await loadModel(dir, { base: kind, wideEmbeddings: true });
      const a = after.forward(IDS), b = during.forward(IDS);
      assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) < 1e-5, `${kind}: quantizing while loading differs`);
      const packedAll = await loadModel(dir, { base: kind });
      assert.equal(packedAll.packedEmbedding()?.kind, kind, "the embedding is quantized by default");
      assert.ok(baseMemory(packedAll).bytes < baseMemory(during).bytes);
      tf.dispose([a, b]);
      [after, during, packedAll].forEach((m) => m.dispose());
    }
  });

  it("quantizes with the addon to the same bits as the JavaScript reference (ties, zero blocks, extremes)", () => {
    const rows = 24, cols = 256;
    const w = new Float32Array(rows * cols);
    let x = 12345;
    for (let i = 0; i < w.length; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      w[i] = ((x / 2 ** 31) - 0.5) * 0.2;
    }
    w.fill(0, 64, 128); // an all-zero block
    for (let i = 0; i < 64; i++) w[256 + i] = (i - 32) / 32; // values on the int4/int8 rounding ties
    w[600] = 3e38;
    for (const kind of ["int8", "int4", "nf4"] as const) {
      const a = quantizeWithAddon(w, rows, cols, kind, kind === "int8" ? cols : 64)!;
      const b = quantizePortable(w, rows, cols, kind, 64);
      assert.deepEqual(Array.from(a.packed), Array.from(b.packed), `${kind} codes`);
      assert.deepEqual(Array.from(a.scales), Array.from(b.scales), `${kind} scales`);
    }
  });

  it("trains LoRA on a 16-bit base (gradients reach the adapters, the base stays frozen)", async () => {
    const dir = tempDir();
    const made = createModel(CFG, { seed: 2, initStd: 0.1 });
    await saveModel(made, dir, { dtype: "BF16" });
    made.dispose();
    const model = await loadModel(dir, { base: "stored" });
    const lora = new LoraModel(model, { r: 4, alpha: 8, targetModules: ["q_proj", "v_proj", "up_proj", "down_proj"] }, { seed: 1 });
    const vars = lora.trainableVariables().map((v) => v.variable);
    const opt = tf.train.adam(0.02);
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const loss = opt.minimize(() => model.loss(IDS, IDS), true, vars)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    assert.ok(losses[11] < losses[0] - 0.1, `loss ${losses[0]} -> ${losses[11]}`);
    opt.dispose();
    model.dispose();
  });

  it("holds and computes on tensors larger than 4 GiB in total", () => {
    // Five 1 GiB tensors. Only the pages written are touched (first-touch memory is slow on some VMs),
    // so each gets its values near the end, where the native kernels read them.
    const n = 2 ** 28;
    const parts: tf.Tensor[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const values = new Float32Array(n);
        values.fill(i + 1, n - 1024);
        parts.push(adoptTensor(values, [n], "float32"));
      }
      assert.ok(tf.memory().numBytes >= 5 * 2 ** 30, `${tf.memory().numBytes} bytes live`);
      const sums = parts.map((p) => tf.tidy(() => tf.sum(tf.slice(p, [n - 4], [4])).dataSync()[0]));
      assert.deepEqual(sums, [4, 8, 12, 16, 20]);
      const tail = tf.tidy(() => tf.add(tf.slice(parts[4], [n - 1024], [1024]), tf.slice(parts[0], [n - 1024], [1024])).dataSync());
      assert.ok(tail.every((v) => v === 6));
    } finally {
      tf.dispose(parts);
    }
  });

  it("says what it was allocating when memory cannot be had", () => {
    const a = tf.ones([70_000, 1]), b = tf.ones([1, 70_000]);
    try {
      assert.throws(() => tf.matMul(a, b), (e: Error) => e instanceof OutOfMemoryError && /out of memory allocating a float32 tensor of shape \[70000, 70000\] \(18\.25 GiB\)/.test(e.message));
    } finally {
      tf.dispose([a, b]);
    }
  });
});
