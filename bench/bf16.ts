/**
 * `npm run bench -- bf16 [--config B] [--mode full|lora] [--steps 30] [--json]`
 *
 * Opt-in bfloat16 matmuls against float32 on the native backend: the same
 * model, seed and batch trained for N AdamW steps each way, in one process.
 * Reports both loss curves, their largest relative difference, and the
 * tokens/s of each (the steps after the first).
 */
import { enableNative } from "../lib/tensor/native/index.js";
import { CONFIGS, flopsPerToken, llamaConfig, makeTrainer, useBackend, type Mode } from "./_train_setup.js";
import { flag } from "./_args.js";

const config = CONFIGS[(flag("config") ?? "B").toUpperCase()];
const mode = (flag("mode") ?? "full") as Mode;
const steps = Number(flag("steps") ?? "30");
const json = process.argv.includes("--json");
const SEQ = 128, BATCH = 8;

await useBackend("native");

function curve(bf16: boolean): Promise<{ losses: number[]; tokensPerSec: number }> {
  return enableNative({ bf16 }).then(() => {
    const t = makeTrainer(config, mode, SEQ, BATCH, 0);
    const losses: number[] = [];
    let t1 = 0;
    for (let i = 0; i < steps; i++) {
      if (i === 1) t1 = performance.now();
      losses.push(t.step());
    }
    const tokensPerSec = steps > 1 ? ((steps - 1) * SEQ * BATCH * 1000) / (performance.now() - t1) : NaN;
    t.dispose();
    return { losses, tokensPerSec };
  });
}

const f32 = await curve(false);
const bf = await curve(true);
const rel = f32.losses.map((l, i) => Math.abs(bf.losses[i] - l) / Math.abs(l));
const worst = Math.max(...rel);
const fpt = flopsPerToken(llamaConfig(config), SEQ);
const result = {
  bench: "bf16",
  config: config.name,
  mode,
  steps,
  lossFloat32: f32.losses,
  lossBf16: bf.losses,
  maxRelativeDifference: worst,
  tokensPerSecFloat32: f32.tokensPerSec,
  tokensPerSecBf16: bf.tokensPerSec,
  gflopsFloat32: (f32.tokensPerSec * fpt) / 1e9,
  gflopsBf16: (bf.tokensPerSec * fpt) / 1e9,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`config ${config.name} ${mode}, ${steps} AdamW steps on one fixed batch (seed 0)`);
  console.log(`step  float32   bf16      rel. diff`);
  f32.losses.forEach((l, i) => console.log(`${String(i + 1).padStart(4)}  ${l.toFixed(4)}    ${bf.losses[i].toFixed(4)}    ${(100 * rel[i]).toFixed(2)}%`));
  console.log(`largest relative difference: ${(100 * worst).toFixed(2)}%`);
  console.log(`float32 ${f32.tokensPerSec.toFixed(0)} tok/s (${result.gflopsFloat32.toFixed(0)} GFLOP/s), bf16 ${bf.tokensPerSec.toFixed(0)} tok/s (${result.gflopsBf16.toFixed(0)} GFLOP/s)`);
}
