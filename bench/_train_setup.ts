/**
 * Shared by the training benchmarks: the model configs A-D, the FLOP formula,
 * backend setup and one training step (forward, backward, AdamW) on the real
 * lib/model and lib/train code.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel, defineConfig, ensureGradients, type CausalLM } from "../lib/model/index.js";
import { LoraModel } from "../lib/model/lora-model.js";
import type { LlamaConfig } from "../lib/formats/hf-config.js";
import { Optimizer } from "../lib/train/optimizer.js";
import { Random } from "../lib/util/random.js";

export type BenchBackend = "cpu" | "wasm" | "native" | "native-bf16";
export type Mode = "full" | "lora";

export interface BenchConfig {
  name: string;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  vocabSize: number;
}

/**
 * LLaMA-style configs: head width 64 (32 for A), SwiGLU width 8/3 x hidden
 * rounded up to 32 (defineConfig's default), untied head, no GQA.
 */
export const CONFIGS: Record<string, BenchConfig> = {
  A: { name: "A", hiddenSize: 128, numHiddenLayers: 4, numAttentionHeads: 4, vocabSize: 4096 },
  B: { name: "B", hiddenSize: 256, numHiddenLayers: 6, numAttentionHeads: 4, vocabSize: 4096 },
  C: { name: "C", hiddenSize: 512, numHiddenLayers: 8, numAttentionHeads: 8, vocabSize: 4096 },
  D: { name: "D", hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, vocabSize: 8192 },
};

export function llamaConfig(c: BenchConfig): LlamaConfig {
  return defineConfig({ vocabSize: c.vocabSize, hiddenSize: c.hiddenSize, numHiddenLayers: c.numHiddenLayers, numAttentionHeads: c.numAttentionHeads });
}

/**
 * Model FLOPs per trained token, the same for every backend and mode:
 * 6 x (parameters of every matmul, LM head included) + 12 x layers x dim x seq
 * (attention scores and values, forward + backward).
 */
export function flopsPerToken(cfg: LlamaConfig, seq: number): number {
  const d = cfg.hiddenSize, kv = cfg.numKeyValueHeads * cfg.headDim, q = cfg.numAttentionHeads * cfg.headDim;
  const perLayer = d * q + 2 * d * kv + q * d + 3 * d * cfg.intermediateSize;
  const matmulParams = cfg.numHiddenLayers * perLayer + d * cfg.vocabSize;
  return 6 * matmulParams + 12 * cfg.numHiddenLayers * d * seq;
}

/**
 * Activates a backend through tslm's own `init` (as users get it), so code
 * that adapts to the chosen backend sees the same report; `native-bf16` is
 * native with bfloat16 matmuls.
 */
export async function useBackend(b: BenchBackend): Promise<string> {
  const { init } = await import("../lib/tensor/init.js");
  const report = await init({ backend: b === "native-bf16" ? "native" : b });
  if (report.chosen !== (b === "native-bf16" ? "native" : b)) throw new Error(`backend ${b} unavailable: ${report.attempts.map((a) => `${a.backend}: ${a.reason}`).join("; ")}`);
  if (b === "native-bf16") {
    const { enableNative } = await import("../lib/tensor/native/index.js");
    await enableNative({ bf16: true });
  }
  if (b === "cpu") (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  await ensureGradients();
  return tf.getBackend();
}

export interface Trainer {
  model: CausalLM;
  /** One optimizer step on a fixed random batch; returns the loss. */
  step(): number;
  /** The same step, reading the loss asynchronously (backends that cannot read synchronously, such as webgpu in Node). */
  stepAsync(): Promise<number>;
  trainableParams: number;
  dispose(): void;
}

/** A model on config `c` with AdamW (lr 1e-4, wd 0.01), full or LoRA r=8 on q and v. */
export function makeTrainer(c: BenchConfig, mode: Mode, seq: number, batch: number, seed = 0): Trainer {
  const cfg = llamaConfig(c);
  const model = createModel(cfg, { seed });
  if (mode === "lora") new LoraModel(model, { r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "v_proj"] }, { seed });
  const vars = model.trainableVariables();
  const params = vars.map((v, i) => ({ name: `${i}:${v.name}`, variable: v }));
  const opt = new Optimizer(params, { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, momentum: 0, nesterov: false });
  const rng = new Random(seed + 1);
  const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(c.vocabSize)));
  const idsT = tf.tensor2d(ids, [batch, seq], "int32");
  /** Forward, backward and the AdamW update; returns the loss tensor, not yet read. */
  const update = (): tf.Scalar => {
    const { value, grads } = tf.variableGrads(() => model.loss(idsT, idsT), vars);
    const byName = new Map<string, tf.Tensor>();
    params.forEach((p) => byName.set(p.name, grads[p.variable.name]));
    opt.apply(byName, 1e-4);
    tf.dispose(Object.values(grads));
    return value;
  };
  const read = (value: tf.Scalar, data: ArrayLike<number>): number => {
    value.dispose();
    return data[0];
  };
  return {
    model,
    step: () => {
      const v = update();
      return read(v, v.dataSync());
    },
    stepAsync: async () => {
      const v = update();
      return read(v, await v.data());
    },
    trainableParams: vars.reduce((a, v) => a + v.size, 0),
    dispose: () => {
      idsT.dispose();
      model.dispose();
    },
  };
}
