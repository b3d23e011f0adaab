/**
 * Writes test/fixtures/tslm-to-hf/: tiny random models saved by tslm's
 * `saveModel` (one per architecture, F32 / BF16 / F16, one sharded), with
 * non-trivial norms and biases. scripts/device/hf-reads-tslm.py then loads
 * each with transformers and records transformers' logits; the test checks
 * that tslm's logits equal them and that tslm still writes the same
 * config.json. Run here: `node --import tsx scripts/device/tslm-models.ts`.
 */
import * as tf from "@tensorflow/tfjs-core";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createModel, defineConfig, type ConfigInput } from "../../lib/model/create.js";
import { saveModel, type SaveModelOptions } from "../../lib/model/io.js";
import { init } from "../../lib/tensor/init.js";

const OUT = fileURLToPath(new URL("../../test/fixtures/tslm-to-hf/", import.meta.url));
const SMALL = { vocabSize: 128, hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2 };

export const TSLM_MODELS: Record<string, { config: ConfigInput; save: SaveModelOptions; seed: number }> = {
  "llama-llama3rope-f32": {
    config: { ...SMALL, ropeTheta: 500000, ropeScaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 }, maxPositionEmbeddings: 131072 },
    save: {},
    seed: 21,
  },
  "mistral-window-bf16-sharded": {
    config: { ...SMALL, modelType: "mistral", headDim: 32, slidingWindow: 5, maxPositionEmbeddings: 512 },
    save: { dtype: "BF16", maxShardBytes: 64 * 1024 },
    seed: 22,
  },
  "qwen2-tied-f16": {
    config: { ...SMALL, modelType: "qwen2", tieWordEmbeddings: true, ropeTheta: 1000000, rmsNormEps: 1e-6, maxPositionEmbeddings: 512 },
    save: { dtype: "F16" },
    seed: 23,
  },
};

await init({ backend: "cpu" });
for (const [name, spec] of Object.entries(TSLM_MODELS)) {
  const model = createModel(defineConfig(spec.config), { seed: spec.seed, initStd: 0.1 });
  // Norm weights start at 1 and biases at 0: move them so a reader that skips them is caught.
  let k = 0;
  for (const [pname, v] of model.namedParameters()) {
    if (pname.includes("norm") || pname.endsWith("bias")) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, "float32", spec.seed * 1000 + k++)));
  }
  for (const l of model.linearNames()) {
    const lin = model.getLinear(l) as unknown as { bias?: tf.Variable };
    if (lin.bias) lin.bias.assign(tf.randomNormal(lin.bias.shape, 0, 0.1, "float32", spec.seed * 1000 + k++));
  }
  const dir = `${OUT}${name}`;
  rmSync(dir, { recursive: true, force: true });
  const files = await saveModel(model, dir, spec.save);
  console.log(`${name}: ${files.map((f) => f.split("/").pop()).join(", ")}`);
  model.dispose();
}
