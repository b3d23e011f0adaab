/**
 * `npm run bench -- train-memory [--shape medium|qwen2.5-0.5b] [--mode lora|full] [--batch 2] [--seq 256]
 *   [--settings plain,checkpointing,chunks,both] [--rounds 1] [--backend native] [--json]`
 *
 * Activation memory of one training step (forward + backward, no optimizer)
 * with and without activation checkpointing per layer and the chunked
 * vocabulary loss, on a random model: the peak of live tensor data during the
 * step above what was live before it (weights, adapters), in total and per
 * trained token, and the step's wall time (best of `--rounds`, settings
 * alternated; also its CPU time, steadier than wall time on a busy
 * machine). Live tensor data counts each data buffer once, however many
 * tensors view it (TF.js's own `tf.memory().numBytes` counts a reshape or a
 * clone again); it is not process RSS: allocator slack and the runtime come
 * on top.
 *
 * Shapes: `medium` (hidden 512, 8 layers, 8 heads / 2 KV heads, SwiGLU 1408,
 * vocabulary 32,000, tied) and `qwen2.5-0.5b` (hidden 896, 24 layers, 14 / 2
 * heads, 4864, vocabulary 151,936, tied, qkv bias; about 2 GB of float32
 * weights). Mode `lora`: r 8 on every linear layer but the head, dropout 0.05.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel, type CausalLM } from "../lib/model/index.js";
import { LoraModel } from "../lib/model/lora-model.js";
import type { ConfigInput } from "../lib/model/create.js";
import { Random } from "../lib/util/random.js";
import { flag, wholeNumber } from "./_args.js";
import { useBackend, type BenchBackend } from "./_train_setup.js";

/**
 * Live tensor data in bytes, each data buffer counted once: follows the
 * engine's tensor registrations (every tensor, variable and view passes
 * through them), so it must be installed before the tensors it should see.
 */
function liveDataMeter(): { resetPeak(): number; peak(): number } {
  const engine = tf.engine() as unknown as {
    state: { tensorInfo: WeakMap<object, unknown> };
    trackTensor(a: tf.Tensor, backend: unknown): void;
    disposeTensor(a: tf.Tensor): void;
  };
  const refs = new Map<object, number>();
  let live = 0, peak = 0;
  const track = engine.trackTensor.bind(engine), dispose = engine.disposeTensor.bind(engine);
  engine.trackTensor = (a, backend) => {
    track(a, backend);
    const n = refs.get(a.dataId) ?? 0;
    refs.set(a.dataId, n + 1);
    if (n === 0 && a.dtype !== "string") live += a.size * tf.util.bytesPerElement(a.dtype);
    peak = Math.max(peak, live);
  };
  engine.disposeTensor = (a) => {
    const n = engine.state.tensorInfo.has(a.dataId) ? refs.get(a.dataId) ?? 0 : 0;
    dispose(a);
    if (n === 0) return;
    if (n === 1) {
      refs.delete(a.dataId);
      if (a.dtype !== "string") live -= a.size * tf.util.bytesPerElement(a.dtype);
    } else refs.set(a.dataId, n - 1);
  };
  return { resetPeak: () => (peak = live), peak: () => peak };
}

const SHAPES: Record<string, ConfigInput> = {
  medium: { vocabSize: 32000, hiddenSize: 512, numHiddenLayers: 8, numAttentionHeads: 8, numKeyValueHeads: 2, intermediateSize: 1408, tieWordEmbeddings: true, modelType: "qwen2" },
  "qwen2.5-0.5b": { vocabSize: 151936, hiddenSize: 896, numHiddenLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2, intermediateSize: 4864, tieWordEmbeddings: true, modelType: "qwen2", ropeTheta: 1e6 },
};

const SETTINGS = {
  plain: { gradientCheckpointing: false, lossChunkTokens: null },
  checkpointing: { gradientCheckpointing: true, lossChunkTokens: null },
  chunks: { gradientCheckpointing: false, lossChunkTokens: 256 },
  both: { gradientCheckpointing: true, lossChunkTokens: 256 },
} as const;
type SettingName = keyof typeof SETTINGS;

const shapeName = flag("shape") ?? "medium";
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(", ")}, got '${shapeName}'`);
const mode = flag("mode") ?? "lora";
if (mode !== "lora" && mode !== "full") throw new Error(`--mode must be lora or full, got '${mode}'`);
const batch = wholeNumber("batch", flag("batch") ?? "2", 1);
const seq = wholeNumber("seq", flag("seq") ?? "256", 2);
const rounds = wholeNumber("rounds", flag("rounds") ?? "1", 1);
const names = (flag("settings") ?? "plain,checkpointing,chunks,both").split(",") as SettingName[];
for (const n of names) if (!(n in SETTINGS)) throw new Error(`--settings takes ${Object.keys(SETTINGS).join(", ")}; got '${n}'`);
const json = process.argv.includes("--json");

await useBackend((flag("backend") ?? "native") as BenchBackend);
const meter = liveDataMeter();
const model: CausalLM = createModel(shape, { seed: 1 });
if (mode === "lora") new LoraModel(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: null }, { seed: 1 }).context.training = true;
const rng = new Random(2);
const ids = tf.tensor2d(Array.from({ length: batch * seq }, () => rng.int(shape.vocabSize)), [batch, seq], "int32");
const vars = model.trainableVariables();

function step(name: SettingName): void {
  const { value, grads } = tf.variableGrads(() => model.loss(ids, ids, SETTINGS[name]), vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

const results = new Map<SettingName, { peakBytes: number; ms: number; cpuMs: number }>();
for (const n of names) {
  const live = meter.resetPeak();
  step(n); // also the warm-up of the timed rounds
  results.set(n, { peakBytes: meter.peak() - live, ms: Infinity, cpuMs: Infinity });
}
for (let r = 0; r < rounds; r++) {
  for (const n of names) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    step(n);
    const c = process.cpuUsage(c0);
    const res = results.get(n)!;
    res.ms = Math.min(res.ms, performance.now() - t0);
    res.cpuMs = Math.min(res.cpuMs, (c.user + c.system) / 1000);
  }
}
const tokens = batch * seq;
const rows = names.map((n) => ({ setting: n, peakMB: results.get(n)!.peakBytes / 1e6, perTokenMB: results.get(n)!.peakBytes / tokens / 1e6, stepMs: results.get(n)!.ms, cpuMs: results.get(n)!.cpuMs }));
ids.dispose();
model.dispose();
if (json) {
  console.log(JSON.stringify({ shape: shapeName, mode, batch, seq, backend: tf.getBackend(), rows }));
} else {
  console.log(`${shapeName}, ${mode}, batch ${batch} x seq ${seq} (${tokens} tokens), backend ${tf.getBackend()}: activation peak above the weights`);
  for (const r of rows) console.log(`${r.setting.padEnd(14)} ${r.peakMB.toFixed(1).padStart(9)} MB ${r.perTokenMB.toFixed(3).padStart(8)} MB/token ${r.stepMs.toFixed(0).padStart(8)} ms/step ${r.cpuMs.toFixed(0).padStart(8)} CPU ms/step`);
}
