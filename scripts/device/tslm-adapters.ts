/**
 * Writes the tslm-made LoRA adapters of test/fixtures/peft/ (run here, with
 * `node --import tsx scripts/device/tslm-adapters.ts`); then
 * scripts/device/peft-fixtures.py, where PEFT is installed, records what PEFT
 * computes with them. Each adapter sits on a base model from
 * test/fixtures/hf/ (written by transformers), with random non-zero B
 * matrices so that it changes the logits.
 */
import * as tf from "@tensorflow/tfjs-core";
import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadModel } from "../../lib/model/io.js";
import { LoraModel, type LoraConfig } from "../../lib/model/lora-model.js";
import { saveAdapter } from "../../lib/model/peft.js";
import { init } from "../../lib/tensor/init.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/", import.meta.url));

/** name -> base fixture and LoRA settings. */
export const TSLM_ADAPTERS: Record<string, { base: string; lora: Partial<LoraConfig>; seed: number }> = {
  // Every linear layer, plain alpha / r scaling, on the tied-embedding Qwen2 base.
  "tslm-lora-all-qwen2": { base: "qwen2-gqa-tied-f16", lora: { r: 4, alpha: 16, dropout: 0.05, targetModules: null }, seed: 11 },
  // q and v only, rank-stabilised scaling alpha / sqrt(r), on the Llama base.
  "tslm-rslora-qv-llama": { base: "llama-gqa-llama3rope", lora: { r: 8, alpha: 8, dropout: 0, useRslora: true, targetModules: ["q_proj", "v_proj"] }, seed: 12 },
};

await init({ backend: "cpu" });
for (const [name, spec] of Object.entries(TSLM_ADAPTERS)) {
  const model = await loadModel(`${FIXTURES}hf/${spec.base}`);
  const lora = new LoraModel(model, spec.lora, { seed: spec.seed });
  let k = 0;
  for (const layer of lora.layers.values()) {
    const w = layer.adapters.get("default")!;
    w.B.assign(tf.randomNormal(w.B.shape, 0, 0.2, "float32", spec.seed * 100 + k++) as tf.Tensor2D);
  }
  const dir = `${FIXTURES}peft/${name}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  saveAdapter(dir, lora, { baseModelNameOrPath: `../../hf/${spec.base}` });
  console.log(`${name}: ${lora.layers.size} adapted layers -> ${dir}`);
  model.dispose();
}
