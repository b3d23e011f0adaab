/**
 * `npm run bench -- finetune [--models tiny,C,D] [--variants lora,qlora] [--backends native,wasm,cpu]
 *                             [--steps N] [--quality] [--only-quality] [--json]`
 *
 * Fine-tuning speed: tokens/s of a LoRA step (frozen float32 base) and a
 * QLoRA step (nf4 base dequantized on the fly) with the trainer's own step
 * (lib/train: windowGradients, clipping, AdamW), LoRA r 8 / alpha 16 on
 * every linear layer but the head, on batches of 8 x 128 random tokens.
 * Models: the embedded default model (models/tslm-tiny) and configs C
 * (dim 512, 8 layers, vocab 4096) and D (768, 12, 8192) from
 * bench/_train_setup.ts. Every (model, variant, backend) runs in its own
 * process. Slow pairs are skipped and said so: cpu runs only the embedded
 * model; wasm skips D.
 *
 * `--quality` adds the held-out exact match of the embedded model before
 * and after LoRA and QLoRA fine-tuning on the embedded skills (docs/finetuning.md's
 * figures). With `--json` the last stdout line is
 * `{"bench":"finetune","rows":[...],"quality":{...}|null}`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { flag } from "./_args.js";

const SEQ = 128, BATCH = 8;
const root = fileURLToPath(new URL("..", import.meta.url));
type Variant = "lora" | "qlora";

interface Row {
  model: string;
  variant: Variant;
  backend: string;
  tokensPerSec?: number;
  stepMs?: number;
  /** Base weights now / in float32. */
  baseRatio?: number;
  baseMB?: number;
  trainableParams?: number;
  note?: string;
}

const has = (name: string) => process.argv.includes(`--${name}`);
const list = (name: string, dflt: string) => (flag(name) ?? dflt).split(",").map((s) => s.trim()).filter(Boolean);

// ---- worker: one (model, variant, backend) in this process ------------------------------

async function worker(): Promise<void> {
  const modelName = flag("model")!;
  const variant = flag("variant") as Variant;
  const backend = flag("backend")!;
  const steps = Number(flag("steps") ?? 3);
  const tf = await import("@tensorflow/tfjs-core");
  const { useBackend, CONFIGS, llamaConfig } = await import("./_train_setup.js");
  const { createModel } = await import("../lib/model/create.js");
  const { loadEmbeddedModel } = await import("../lib/data/embedded/default-model.js");
  const { prepareModel } = await import("../lib/train/setup.js");
  const { resolveConfig } = await import("../lib/util/config.js");
  const { TrainConfigSchema } = await import("../lib/train/config.js");
  const { Optimizer, clipByGlobalNorm } = await import("../lib/train/optimizer.js");
  const { windowGradients } = await import("../lib/train/step.js");
  const { Random } = await import("../lib/util/random.js");
  await useBackend(backend as never);
  const model = modelName === "tiny" ? await loadEmbeddedModel() : createModel(llamaConfig(CONFIGS[modelName]), { seed: 1 });
  const cfg = resolveConfig(TrainConfigSchema, { quantization: variant === "qlora" ? "nf4" : "none", lora: { r: 8, alpha: 16, dropout: Number(process.env.BENCH_DROPOUT ?? 0.05) }, seed: 1 });
  const prep = prepareModel(model, cfg);
  const opt = new Optimizer(prep.params, { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0.9, nesterov: true });
  const rng = new Random(7);
  const V = model.config.vocabSize;
  const ids = new Int32Array(SEQ * BATCH).map(() => rng.int(V));
  const batch = { inputIds: ids, labels: ids.slice(), attentionMask: new Int32Array(ids.length).fill(1), size: BATCH, length: SEQ, targetTokens: BATCH * (SEQ - 1) };
  const step = () => {
    prep.lora!.context.training = true;
    const w = windowGradients(model, prep.params, [batch], "token-averaged", () => (prep.lora!.context.dropoutSeed = rng.nextUint32()));
    const { grads } = clipByGlobalNorm(w.grads, 1);
    opt.apply(grads, 1e-4);
    tf.dispose([...grads.values()]);
    return w.loss;
  };
  step(); // warm-up: kernels compiled, tables built
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const stepMs = (performance.now() - t0) / steps;
  const row: Row = {
    model: modelName, variant, backend,
    tokensPerSec: (SEQ * BATCH * 1000) / stepMs, stepMs,
    baseRatio: prep.memory.ratio, baseMB: prep.memory.bytes / 1e6,
    trainableParams: prep.params.reduce((n, p) => n + p.variable.size, 0),
  };
  if (prep.unquantizedLayers.length) row.note = `${prep.unquantizedLayers.length} layers kept float32 (width not a multiple of 64)`;
  process.stdout.write(JSON.stringify(row) + "\n");
}

// ---- quality: held-out exact match before and after fine-tuning ---------------------------

async function quality(): Promise<Record<string, unknown>> {
  const { init } = await import("../lib/tensor/init.js");
  const { ensureGradients } = await import("../lib/model/gradients.js");
  const { loadEmbeddedModel } = await import("../lib/data/embedded/default-model.js");
  const { evaluateSkills, finetuneSkills } = await import("../lib/train/skills.js");
  const report = await init();
  await ensureGradients();
  const base = await loadEmbeddedModel();
  const b = await evaluateSkills(base, base.tokenizer!);
  base.dispose();
  const out: Record<string, unknown> = { backend: report.chosen, heldOut: b.samples, base: { exactMatch: b.exactMatch, bleu: b.bleu, perplexity: b.perplexity } };
  for (const variant of ["lora", "qlora"] as const) {
    const t0 = performance.now();
    const run = await finetuneSkills({ variant }, { progress: "off" });
    const seconds = (performance.now() - t0) / 1000;
    const e = run.evals[run.evals.length - 1];
    out[variant] = { exactMatch: e.exactMatch, bleu: e.bleu, perplexity: e.perplexity, steps: run.steps, seconds, tokensPerSec: run.throughput.tokensPerSecond, baseRatio: run.prepared.memory.ratio, quantizedRatio: run.prepared.memory.quantized.ratio };
    run.model.dispose();
  }
  return out;
}

// ---- parent -----------------------------------------------------------------------------

function skipReason(model: string, backend: string): string | undefined {
  if (backend === "cpu" && model !== "tiny") return "skipped: the pure-JS cpu backend takes minutes a step here";
  if (backend === "wasm" && model === "D") return "skipped: plain wasm takes over a minute a step for D";
  return undefined;
}

async function main(): Promise<void> {
  if (has("worker")) return worker();
  const json = has("json");
  const rows: Row[] = [];
  if (!has("only-quality")) {
    for (const backend of list("backends", "native,wasm,cpu")) {
      for (const model of list("models", "tiny,C,D")) {
        for (const variant of list("variants", "lora,qlora") as Variant[]) {
          const skip = skipReason(model, backend);
          if (skip) {
            rows.push({ model, variant, backend, note: skip });
            continue;
          }
          const steps = flag("steps") ?? (backend === "cpu" ? "2" : model === "tiny" ? "10" : "3");
          const r = spawnSync(process.execPath, ["--import", "tsx", "bench/finetune.ts", "--worker", "--model", model, "--variant", variant, "--backend", backend, "--steps", steps], {
            cwd: root, encoding: "utf8", env: { ...process.env, TSLM_PROGRESS: "off" }, timeout: 15 * 60 * 1000,
          });
          const line = r.stdout.trim().split("\n").pop() ?? "";
          let row: Row;
          try {
            row = JSON.parse(line);
          } catch {
            row = { model, variant, backend, note: `failed: ${(r.stderr || r.error?.message || "no output").trim().split("\n").filter((l) => !l.startsWith("    at ")).slice(-2).join(" ").slice(0, 300)}` };
          }
          rows.push(row);
          if (!json) {
            process.stdout.write(
              row.tokensPerSec !== undefined
                ? `${backend.padEnd(7)} ${model.padEnd(5)} ${variant.padEnd(6)} ${row.tokensPerSec.toFixed(0).padStart(7)} tokens/s  ${row.stepMs!.toFixed(0).padStart(7)} ms/step  base ${row.baseMB!.toFixed(1)} MB (${(100 * row.baseRatio!).toFixed(1)}% of f32)${row.note ? "  " + row.note : ""}\n`
                : `${backend.padEnd(7)} ${model.padEnd(5)} ${variant.padEnd(6)} ${row.note}\n`,
            );
          }
        }
      }
    }
  }
  let q: Record<string, unknown> | null = null;
  if (has("quality") || has("only-quality")) {
    q = await quality();
    if (!json) process.stdout.write(`held-out exact match (${q.heldOut} questions): ${JSON.stringify(q)}\n`);
  }
  if (json) process.stdout.write(JSON.stringify({ bench: "finetune", seq: SEQ, batch: BATCH, rows, quality: q }) + "\n");
}

await main();
