/**
 * The native backend under the real decoder (lib/model) and optimizer
 * (lib/train): loss and every gradient of a small grouped-query model equal
 * the plain wasm backend's; LoRA on a 4-bit (nf4) base trains through the
 * fused dequantize-matmul; several AdamW steps follow the same loss curve;
 * nothing leaks; and the opt-in bfloat16 matmuls track the float32 loss
 * curve within a stated tolerance.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel, type CausalLM } from "../../lib/model/index.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { quantizeModel } from "../../lib/model/quantize-model.js";
import { enableNative } from "../../lib/tensor/native/index.js";
import { Optimizer } from "../../lib/train/optimizer.js";
import { Random } from "../../lib/util/random.js";
import { assertClose, runOn, useNativeSuite } from "./support.js";

const CFG = { vocabSize: 96, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2 };
const B = 2, T = 24;

function batch(seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(CFG.vocabSize)));
}

/** Loss and gradients (sorted by variable name) of a fresh model with `setup` applied. */
function lossAndGrads(setup: (m: CausalLM) => void) {
  return () => {
    const model = createModel(CFG, { seed: 3 });
    setup(model);
    const ids = tf.tensor2d(batch(4), [B, T], "int32");
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => model.loss(ids, ids), vars);
    const out = [value, ...vars.map((v) => grads[v.name])]; // variable order is deterministic, names carry counters
    const kept = out.map((t) => tf.keep(t.clone()));
    tf.dispose([value, ...Object.values(grads), ids]);
    model.dispose();
    return kept;
  };
}

describe("native backend with the real model", () => {
  useNativeSuite();

  it("gives the same loss and gradients as plain wasm (full model, GQA)", async () => {
    const f = lossAndGrads(() => {});
    const got = await runOn("native", f), want = await runOn("wasm", f);
    if (got.length !== want.length || got.length < 10) throw new Error(`expected the same ${want.length} gradients, got ${got.length}`);
    got.forEach((g, i) => assertClose(g.values, want[i].values, 2e-5, 2e-3, `output ${i} (0 = loss)`));
  });

  it("gives the same LoRA gradients on an nf4-quantized base (fused dequantize-matmul)", async () => {
    const f = lossAndGrads((m) => {
      quantizeModel(m, "nf4");
      new LoraModel(m, { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"] }, { seed: 1 });
    });
    const got = await runOn("native", f), want = await runOn("wasm", f);
    if (got.length !== want.length || got.length < 2) throw new Error(`expected ${want.length} outputs, got ${got.length}`);
    // The native run really went through the fused kernel.
    const model = createModel(CFG, { seed: 3 });
    quantizeModel(model, "nf4");
    const prof = await tf.profile(() => model.loss(batch(4), batch(4)));
    model.dispose();
    tf.dispose(prof.result as tf.Tensor);
    if (!prof.kernelNames.includes("TslmDequantMatMul")) throw new Error(`no TslmDequantMatMul among ${prof.kernelNames.join(", ")}`);
    got.forEach((g, i) => assertClose(g.values, want[i].values, 2e-5, 2e-3, `output ${i} (0 = loss)`));
  });

  /** Losses of `steps` AdamW steps on one fixed batch (the model overfits it). */
  function curve(steps: number) {
    return () => {
      const model = createModel(CFG, { seed: 5 });
      const vars = model.trainableVariables();
      const params = vars.map((v, i) => ({ name: `${i}`, variable: v }));
      const opt = new Optimizer(params, { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, momentum: 0, nesterov: false });
      const ids = tf.tensor2d(batch(6), [B, T], "int32");
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) {
        const { value, grads } = tf.variableGrads(() => model.loss(ids, ids), vars);
        opt.apply(new Map(params.map((p) => [p.name, grads[p.variable.name]])), 3e-3);
        losses.push(value.dataSync()[0]);
        tf.dispose([value, ...Object.values(grads)]);
      }
      opt.dispose();
      ids.dispose();
      model.dispose();
      return tf.tensor1d(losses);
    };
  }

  it("follows the wasm loss curve over 8 AdamW steps without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    const [got] = await runOn("native", curve(8));
    if (tf.memory().numTensors !== before) throw new Error(`tensor leak: ${tf.memory().numTensors - before}`);
    const [want] = await runOn("wasm", curve(8));
    assertClose(got.values, want.values, 1e-4, 1e-4, "loss curve");
    if (!(got.values[7] < got.values[0] - 0.5)) throw new Error(`loss did not fall: ${Array.from(got.values).join(", ")}`);
  });

  it("bf16 matmuls track the float32 loss curve within 2% over 30 steps (fixed seed)", async () => {
    const [f32] = await runOn("native", curve(30));
    let bf16: Awaited<ReturnType<typeof runOn>>[number];
    try {
      await enableNative({ bf16: true });
      [bf16] = await runOn("native", curve(30));
    } finally {
      await enableNative({ bf16: false });
    }
    const a = Array.from(f32.values), b = Array.from(bf16.values);
    const worst = Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(x)));
    if (!(worst <= 0.02)) throw new Error(`bf16 loss curve differs from float32 by ${(100 * worst).toFixed(2)}% (f32 ${a.map((x) => x.toFixed(3))}, bf16 ${b.map((x) => x.toFixed(3))})`);
    if (a.every((x, i) => x === b[i])) throw new Error("bf16 curve equals float32 exactly: bf16 is not in effect");
    if (!(a[29] < a[0] - 1)) throw new Error(`float32 loss did not fall enough to compare curves: ${a[0]} -> ${a[29]}`);
  });
});
