/**
 * `npm run bench -- gpu [--configs C,D] [--modes full,lora] [--batches 8] [--steps N]
 *                       [--warmup N] [--matmul-size N] [--no-pytorch] [--json]`
 *
 * Training on a GPU: TF.js's WebGPU backend (@tensorflow/tfjs-backend-webgpu
 * on Dawn through the `webgpu` package) running the same training step as
 * `npm run bench -- train` (lib/model, LoRA r=8 on q and v, AdamW), beside
 * PyTorch on CUDA (bench/_pytorch_train.py, fp32 and bf16 autocast) on the
 * same configs, seq 128. It also times a small op (an add on 1,024 floats)
 * to show TF.js's per-op cost on the GPU. Neither package is a dependency of tslm: install
 * them for this benchmark with
 *
 *   npm i --no-save webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0
 *
 * Dawn needs a Vulkan loader (libvulkan1) and the GPU's Vulkan driver. The
 * PyTorch peer runs `python3` (or $PYTHON) when it has CUDA. Before training
 * it measures each engine's float32 matmul rate on 4096x4096 matrices (--matmul-size), the
 * limit the training figures compare with. Tokens/s from the fastest of
 * `--steps` timed steps after `--warmup`, as in the train benchmark; model
 * FLOPs per token by the same formula. With `--json` the last stdout line is
 * `{"bench":"gpu","adapter":...,"rows":[{config,mode,batch,backend,tokensPerSec,gflops},...],...}`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { ensureGradients } from "../lib/model/gradients.js";
import { CONFIGS, flopsPerToken, llamaConfig, makeTrainer, type Mode } from "./_train_setup.js";
import { flag, fmt, wholeNumber } from "./_args.js";

const SEQ = 128;

interface Row {
  config: string;
  mode: Mode;
  batch: number;
  backend: string;
  tokensPerSec: number;
  gflops: number;
  loss?: number;
  note?: string;
}

/** Dawn's navigator.gpu in Node, then TF.js's WebGPU backend on it; returns the adapter's description. */
async function useWebGpu(): Promise<Record<string, unknown>> {
  let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> };
  try {
    dawn = (await import("webgpu" as string)) as typeof dawn;
  } catch (e) {
    throw new Error(`the 'webgpu' package is not installed (npm i --no-save webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0): ${(e as Error).message}`);
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]) as { requestAdapter(o?: object): Promise<{ info?: Record<string, unknown>; limits: Record<string, number> } | null> };
  Object.defineProperty(globalThis, "navigator", { value: { gpu, userAgent: `node ${process.version}` }, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("Dawn found no GPU adapter (is the Vulkan loader and the GPU's Vulkan driver installed?)");
  const info: Record<string, unknown> = {};
  for (const k of ["vendor", "architecture", "device", "description"]) info[k] = adapter.info?.[k];
  info.maxBufferSize = adapter.limits.maxBufferSize;
  await import("@tensorflow/tfjs-backend-webgpu" as string);
  if (!(await tf.setBackend("webgpu"))) throw new Error("TF.js could not start its webgpu backend");
  await ensureGradients();
  return info;
}

/**
 * Best float32 matmul rate of the active TF.js backend on n x n matrices:
 * `reps` products queued back to back, then one scalar read (reading the
 * whole product back would time the download, not the GPU).
 */
async function tfMatmulGflops(n: number, reps = 10): Promise<number> {
  const a = tf.randomUniform([n, n], -1, 1), b = tf.randomUniform([n, n], -1, 1);
  const batch = async () => {
    const t = performance.now();
    let acc: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < reps; i++) {
      const c = tf.matMul(a, b);
      const s = tf.add(acc, tf.reshape(tf.slice(c, [0, 0], [1, 1]), []));
      tf.dispose([c, acc]);
      acc = s;
    }
    await acc.data();
    acc.dispose();
    return performance.now() - t;
  };
  await batch();
  let best = 0;
  for (let i = 0; i < 3; i++) best = Math.max(best, (2 * n ** 3 * reps) / ((await batch()) / 1000) / 1e9);
  tf.dispose([a, b]);
  return best;
}

/** Microseconds per small op (an add on 1,024 floats) when `count` are queued and one result is read. */
async function tfOpMicros(count = 2000): Promise<number> {
  const x = tf.ones([1024]);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    let y: tf.Tensor = x.clone();
    for (let i = 0; i < count; i++) {
      const z = tf.add(y, x);
      y.dispose();
      y = z;
    }
    await y.data();
    y.dispose();
    best = Math.min(best, ((performance.now() - t) * 1000) / count);
  }
  x.dispose();
  return best;
}

async function trainRow(config: string, mode: Mode, batch: number, steps: number, warmup: number): Promise<Row> {
  const c = CONFIGS[config];
  let trainer: ReturnType<typeof makeTrainer> | undefined;
  try {
    trainer = makeTrainer(c, mode, SEQ, batch);
    let loss = 0;
    for (let i = 0; i < warmup; i++) loss = await trainer.stepAsync();
    let best = Infinity;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      loss = await trainer.stepAsync();
      best = Math.min(best, performance.now() - t0);
    }
    const tokensPerSec = (SEQ * batch * 1000) / best;
    return { config, mode, batch, backend: "tfjs-webgpu", tokensPerSec, gflops: (tokensPerSec * flopsPerToken(llamaConfig(c), SEQ)) / 1e9, loss };
  } catch (e) {
    return { config, mode, batch, backend: "tfjs-webgpu", tokensPerSec: NaN, gflops: NaN, note: `failed: ${(e as Error).message.slice(0, 300)}` };
  } finally {
    // A failed row must not keep its GPU memory for the next ones.
    trainer?.dispose();
  }
}

interface Peer {
  rows: Row[];
  matmulGflops?: number;
  device?: string;
  error?: string;
}

function pytorchCuda(configs: string[], modes: Mode[], batches: number[], steps: number, warmup: number, matmulSize: number): Peer {
  const py = process.env.PYTHON ?? "python3";
  const probe = spawnSync(py, ["-c", "import torch,json; print(json.dumps({'cuda': torch.cuda.is_available(), 'name': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, 'torch': torch.__version__}))"], { encoding: "utf8" });
  if (probe.error) return { rows: [], error: `cannot run ${py} (set PYTHON to a Python with PyTorch): ${probe.error.message}` };
  if (probe.status !== 0) return { rows: [], error: `${py} has no PyTorch: ${(probe.stderr || "").trim().split("\n").pop()}` };
  const p = JSON.parse(probe.stdout.trim().split("\n").pop()!) as { cuda: boolean; name: string; torch: string };
  if (!p.cuda) return { rows: [], error: `PyTorch ${p.torch} sees no CUDA device` };
  const cfgs = configs.map((name) => {
    const l = llamaConfig(CONFIGS[name]);
    return { name, dim: l.hiddenSize, layers: l.numHiddenLayers, heads: l.numAttentionHeads, ffn: l.intermediateSize, vocab: l.vocabSize };
  });
  const rows: Row[] = [];
  let matmulGflops: number | undefined;
  for (const batch of batches) {
    for (const dtype of ["fp32", "bf16"]) {
      const arg = JSON.stringify({ configs: cfgs, modes, seq: SEQ, batch, steps, warmup, dtype, device: "cuda", matmul: matmulGflops === undefined ? matmulSize : 0 });
      const r = spawnSync(py, [fileURLToPath(new URL("./_pytorch_train.py", import.meta.url)), arg], { encoding: "utf8", maxBuffer: 1 << 24 });
      if (r.status !== 0) return { rows, error: `PyTorch CUDA run failed: ${(r.stderr || "").trim().split("\n").pop()}` };
      for (const line of r.stdout.trim().split("\n").filter((l) => l.startsWith("{"))) {
        const o = JSON.parse(line) as { config?: string; mode: Mode; tokensPerSec: number; matmulGflops?: number };
        if (o.matmulGflops !== undefined) {
          matmulGflops = o.matmulGflops;
          continue;
        }
        const gflops = (o.tokensPerSec * flopsPerToken(llamaConfig(CONFIGS[o.config!]), SEQ)) / 1e9;
        rows.push({ config: o.config!, mode: o.mode, batch, backend: dtype === "bf16" ? "pytorch-cuda-bf16" : "pytorch-cuda", tokensPerSec: o.tokensPerSec, gflops });
      }
    }
  }
  return { rows, matmulGflops, device: `${p.name} (PyTorch ${p.torch})` };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + "\n");
  const configs = (flag("configs") ?? "C,D").split(",").map((s) => s.trim().toUpperCase());
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}' (known: ${Object.keys(CONFIGS).join(", ")})`);
  const modes = (flag("modes") ?? "full,lora").split(",") as Mode[];
  for (const m of modes) if (m !== "full" && m !== "lora") throw new Error(`unknown mode '${m}' (full, lora)`);
  const batches = (flag("batches") ?? "8").split(",").map((b) => wholeNumber("batches", b, 1));
  const steps = wholeNumber("steps", flag("steps") ?? "5", 1), warmup = wholeNumber("warmup", flag("warmup") ?? "2", 0);
  const matmulSize = wholeNumber("matmul-size", flag("matmul-size") ?? "4096", 1);

  const rows: Row[] = [];
  const notes: string[] = [];
  const show = (r: Row) => log(`${r.config} ${r.mode.padEnd(4)} b${r.batch} ${r.backend.padEnd(18)} ${fmt(r.tokensPerSec, 9, 0)} tok/s ${fmt(r.gflops, 8, 1)} GFLOP/s${r.note ? "  " + r.note : ""}`);
  // The peer first: it is quick, and its rows survive a webgpu run that has to be stopped.
  let peer: Peer = { rows: [] };
  if (!process.argv.includes("--no-pytorch")) {
    peer = pytorchCuda(configs, modes, batches, steps, warmup, matmulSize);
    if (peer.error) notes.push(peer.error);
    if (peer.matmulGflops) log(`pytorch-cuda matmul ${matmulSize}^3 float32: ${peer.matmulGflops.toFixed(0)} GFLOP/s (${peer.device})`);
    peer.rows.forEach(show);
  }
  let adapter: Record<string, unknown> | undefined;
  let webgpuMatmul: number | undefined, webgpuOpMicros: number | undefined;
  try {
    adapter = await useWebGpu();
    log(`webgpu adapter: ${JSON.stringify(adapter)}`);
    webgpuMatmul = await tfMatmulGflops(matmulSize);
    log(`tfjs-webgpu matmul ${matmulSize}^3 float32: ${webgpuMatmul.toFixed(0)} GFLOP/s`);
    webgpuOpMicros = await tfOpMicros();
    log(`tfjs-webgpu small op (add, 1,024 floats): ${webgpuOpMicros.toFixed(1)} us each`);
    for (const batch of batches)
      for (const c of configs)
        for (const mode of modes) {
          const r = await trainRow(c, mode, batch, steps, warmup);
          rows.push(r);
          show(r);
        }
  } catch (e) {
    notes.push(`tfjs-webgpu: ${(e as Error).message}`);
    log(`tfjs-webgpu unavailable: ${(e as Error).message}`);
  }
  rows.push(...peer.rows);
  log("");
  log("config mode batch backend             tok/s    GFLOP/s  vs pytorch-cuda fp32");
  for (const r of rows) {
    const p = rows.find((x) => x.config === r.config && x.mode === r.mode && x.batch === r.batch && x.backend === "pytorch-cuda");
    const ratio = p && r !== p && Number.isFinite(r.tokensPerSec) ? `${(r.tokensPerSec / p.tokensPerSec).toFixed(3)}x` : "";
    log(`${r.config.padEnd(6)} ${r.mode.padEnd(4)} ${String(r.batch).padStart(5)} ${r.backend.padEnd(18)} ${fmt(r.tokensPerSec, 9, 0)} ${fmt(r.gflops, 9, 1)}  ${ratio}`);
  }
  for (const n of notes) log(`note: ${n}`);
  if (json) process.stdout.write(JSON.stringify({ bench: "gpu", adapter, webgpuMatmulGflops: webgpuMatmul, webgpuOpMicros, pytorchMatmulGflops: peer.matmulGflops, pytorchDevice: peer.device, seq: SEQ, rows, notes }) + "\n");
  if (!rows.some((r) => Number.isFinite(r.tokensPerSec))) process.exitCode = 1;
}

await main();
