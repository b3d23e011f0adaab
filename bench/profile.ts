/**
 * `npm run bench -- profile [--config B] [--mode full|lora] [--backend native|wasm] [--steps 3] [--json]`
 *
 * Where a training step's time goes: every kernel registered for the wasm
 * backend is wrapped with a timer (TF.js wasm kernels are synchronous, so
 * wall time is kernel time); the rest of the step is JavaScript overhead
 * (op dispatch, tape, tidy). Prints the top kernels by total time.
 */
import * as tf from "@tensorflow/tfjs-core";
import { CONFIGS, flopsPerToken, llamaConfig, makeTrainer, useBackend, type BenchBackend, type Mode } from "./_train_setup.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const config = CONFIGS[arg("config", "B")];
const mode = arg("mode", "full") as Mode;
const backend = arg("backend", "native") as BenchBackend;
const steps = Number(arg("steps", "3"));
const json = process.argv.includes("--json");
const seq = 128, batch = 8;

await useBackend(backend);
const stats = new Map<string, { ms: number; calls: number }>();
for (const k of tf.getKernelsForBackend(tf.getBackend())) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, k.backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const t0 = performance.now();
      const r = f(args);
      const s = stats.get(k.kernelName) ?? { ms: 0, calls: 0 };
      s.ms += performance.now() - t0;
      s.calls++;
      stats.set(k.kernelName, s);
      return r;
    },
  });
}
const trainer = makeTrainer(config, mode, seq, batch);
trainer.step();
stats.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) trainer.step();
const stepMs = (performance.now() - t0) / steps;
const rows = [...stats.entries()].map(([name, s]) => ({ name, ms: s.ms / steps, calls: s.calls / steps })).sort((a, b) => b.ms - a.ms);
const kernelMs = rows.reduce((a, r) => a + r.ms, 0);
const tps = (seq * batch) / (stepMs / 1000);
const gflops = (tps * flopsPerToken(llamaConfig(config), seq)) / 1e9;
if (!json) {
  console.log(`config ${config.name} ${mode} on ${backend}: step ${stepMs.toFixed(1)} ms, ${tps.toFixed(0)} tok/s, ${gflops.toFixed(1)} GFLOP/s`);
  console.log(`kernels ${kernelMs.toFixed(1)} ms, other (JS dispatch, tape) ${(stepMs - kernelMs).toFixed(1)} ms`);
  const heapBytes = tf.getBackend() === "wasm" ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length : 0;
  console.log(`tensors ${tf.memory().numTensors}, ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB live, wasm heap ${(heapBytes / 2 ** 20).toFixed(0)} MiB`);
  for (const r of rows.slice(0, 25)) console.log(`${r.name.padEnd(22)} ${r.ms.toFixed(1).padStart(8)} ms ${(100 * r.ms / stepMs).toFixed(1).padStart(5)}%  ${r.calls} calls`);
}
trainer.dispose();
if (json) console.log(JSON.stringify({ bench: "profile", config: config.name, mode, backend, stepMs, kernelMs, kernels: rows }));
