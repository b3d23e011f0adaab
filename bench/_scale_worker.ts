/**
 * One measured phase of `npm run bench -- scale`, run by bench/scale.ts in a
 * process of its own so that the peak resident size it reports (VmHWM) is the
 * phase's own.
 *
 *   node --import tsx bench/_scale_worker.ts '<task JSON>'
 *
 * Tasks: `load` (loadModel, then quantize when asked), `train` (LoRA r=8 on
 * every linear layer through lib/train's `finetune`, on a JSONL file of
 * random text), `decode` (greedy, one sequence then a batch), `export`
 * (tslm's GGUF export) and `gguf` (llama.cpp through node-llama-cpp decoding
 * the same prompts from a GGUF file). The last stdout line is the
 * result as JSON; progress goes to stderr.
 */
import { statSync } from "node:fs";
import type { LlamaModel, Token } from "node-llama-cpp";
import { init } from "../lib/tensor/init.js";
import { loadModel, readModelConfig, type LoadModelOptions } from "../lib/model/io.js";
import { loadTokenizer, type Tokenizer } from "../lib/tokenizer/tokenizer.js";
import { quantizeModel, baseMemory, type Quantization } from "../lib/model/quantize-model.js";
import { generate } from "../lib/model/generate.js";
import { generateBatch } from "../lib/model/generate-batch.js";
import { exportGguf, type GgufExportType } from "../lib/model/export-gguf.js";
import type { CausalLM } from "../lib/model/causal-lm.js";
import { finetune } from "../lib/train/trainer.js";
import { loadGguf, openLlamaCpp } from "../test/model/llama-cpp.js";
import { procMemory, resetPeak } from "./_scale_proc.js";

/** Everything a phase needs; `loadOptions` reaches `loadModel` unchanged (bench/scale.ts's `--load-options`). */
export type Task =
  | { phase: "load"; dir: string; quantization: string; loadOptions: Record<string, unknown> }
  | { phase: "train"; dir: string; /** finetune's `quantization` (none, int8, int4, nf4). */ quantization: string; loadOptions: Record<string, unknown>; data: string; batch: number; seq: number; warmup: number; steps: number; rank: number }
  | { phase: "decode"; dir: string; quantization: string; loadOptions: Record<string, unknown>; promptTokens: number; newTokens: number; batch: number }
  | { phase: "export"; dir: string; loadOptions: Record<string, unknown>; file: string; type: GgufExportType }
  | { phase: "gguf"; dir: string; file: string; threads: number[]; promptTokens: number; newTokens: number; batch: number };

const log = (s: string) => process.stderr.write(s + "\n");
const now = () => performance.now();

/** The `base` storages `loadModel` applies while loading (lib/model/causal-lm.ts's WeightStorage). */
const LOAD_BASES = ["float32", "stored", "int8", "int4", "nf4"];

/**
 * How every phase gets its base model: the one place that calls `loadModel`.
 * `variant` is a `base` of `loadModel` ("float32", "stored", "int8", "int4",
 * "nf4"; "none" is its default), or any other `quantizeModel` kind, applied
 * after loading. `loadOptions` (bench/scale.ts's `--load-options`) go to
 * `loadModel` unchanged, over the variant's.
 */
async function loadBase(dir: string, variant: string, loadOptions: Record<string, unknown>): Promise<{ model: CausalLM; loadSeconds: number; quantizeSeconds: number }> {
  const atLoad = LOAD_BASES.includes(variant);
  const t0 = now();
  const model = await loadModel(dir, { ...(atLoad ? { base: variant } : {}), ...loadOptions } as LoadModelOptions);
  const t1 = now();
  if (!atLoad && variant !== "none") quantizeModel(model, variant as Quantization);
  return { model, loadSeconds: (t1 - t0) / 1000, quantizeSeconds: (now() - t1) / 1000 };
}

/** Resident size after a full garbage collection (run with --expose-gc), so freed staging buffers do not count. */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return procMemory()!.rssBytes;
}

/** The backend in use, and the resident size of the runtime before any model. */
async function start(): Promise<{ backend: string; baselineBytes: number }> {
  const report = await init();
  return { backend: report.chosen, baselineBytes: settledRss() };
}

async function loadPhase(t: Extract<Task, { phase: "load" }>) {
  const s = await start();
  const { model, loadSeconds, quantizeSeconds } = await loadBase(t.dir, t.quantization, t.loadOptions);
  const residentBytes = settledRss();
  const peakBytes = procMemory()!.peakBytes;
  return { ...s, residentBytes, peakBytes, loadSeconds, quantizeSeconds, baseBytes: baseMemory(model).bytes };
}

/**
 * LoRA through `finetune` as a user runs it: the trainer loads the folder
 * with the base its config implies (`quantization`), unless `--load-options`
 * asks for something else, when the model is loaded here with them.
 */
async function trainPhase(t: Extract<Task, { phase: "train" }>) {
  const s = await start();
  const own = Object.keys(t.loadOptions).length > 0;
  const model = own ? (await loadBase(t.dir, "none", t.loadOptions)).model : undefined;
  const stamps: number[] = [];
  let peakBeforeSteps = 0;
  let resetWorked = false;
  const run = await finetune(
    {
      model,
      config: {
        model: t.dir,
        method: "lora",
        quantization: t.quantization as "none",
        lora: { r: t.rank, alpha: 2 * t.rank, dropout: 0, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] },
        data: { trainFile: t.data, validationSize: 0, maxLength: t.seq },
        batchSize: t.batch,
        maxSteps: t.warmup + t.steps,
        lr: 1e-4,
        weightDecay: 0.01,
        evalGenerate: false,
        nanGuard: false,
      },
    },
    {
      progress: "off",
      hooks: {
        afterStep: (rec) => {
          stamps.push(now());
          log(`  step ${rec.step}: loss ${rec.loss.toFixed(3)}`);
          // After the warm-up steps, the peak restarts: the steady state of a training step, without loading's.
          if (rec.step === t.warmup) {
            peakBeforeSteps = procMemory()!.peakBytes;
            resetWorked = resetPeak();
          }
        },
      },
    },
  );
  const stepPeak = procMemory()!.peakBytes;
  const tokensPerStep = run.throughput.tokens / run.steps;
  // Step k's time is stamp k - stamp k-1, for the steps after the warm-up.
  const times = stamps.slice(t.warmup).map((x, i) => (x - stamps[t.warmup - 1 + i]) / 1000);
  return {
    ...s,
    peakBytes: Math.max(peakBeforeSteps, stepPeak),
    stepPeakBytes: resetWorked ? stepPeak : null,
    tokensPerStep,
    stepSeconds: times,
    tokensPerSec: tokensPerStep / Math.min(...times),
    meanTokensPerSec: (tokensPerStep * times.length) / times.reduce((a, b) => a + b, 0),
    loss: run.history[run.history.length - 1]?.loss ?? NaN,
    quantizedLayers: run.prepared.quantizedLayers,
  };
}

/**
 * `count` prompts of exactly `length` ids each: the tokenizer's ids of a
 * fixed English text, row b starting b words later (the same for tslm and llama.cpp).
 */
export function decodePrompts(tokenizer: Tokenizer | null, vocab: number, length: number, count: number): number[][] {
  const text = "The quick brown fox jumps over the lazy dog while the model reads each token, predicts the next one and learns from its errors. ".repeat(Math.ceil(length / 8) + count + 2);
  const words = text.split(" ");
  return Array.from({ length: count }, (_, b) => {
    const ids = tokenizer ? tokenizer.encode(words.slice(b).join(" "), { addSpecialTokens: false }) : words.map((_, i) => (i * 7919 + b) % vocab);
    return ids.slice(0, length);
  });
}

/** Decode rate from per-token timestamps (ms), the first `first` tokens coming out of the prefill (bench/generate.ts's rule). */
function rate(stamps: number[], first = 1): number {
  return stamps.length > first ? ((stamps.length - first) / (stamps[stamps.length - 1] - stamps[0])) * 1000 : NaN;
}

async function decodePhase(t: Extract<Task, { phase: "decode" }>) {
  const s = await start();
  const { model, loadSeconds, quantizeSeconds } = await loadBase(t.dir, t.quantization, t.loadOptions);
  const prompts = decodePrompts(model.tokenizer, model.config.vocabSize, t.promptTokens, t.batch);
  const opts = { stopTokenIds: [] as number[] };
  await generate(model, null, { ids: prompts[0] }, { ...opts, maxNewTokens: 2 }); // warm-up
  const single: number[] = [];
  const one = await generate(model, null, { ids: prompts[0] }, { ...opts, maxNewTokens: t.newTokens, onToken: () => single.push(now()) });
  log(`  one sequence: ${rate(single).toFixed(2)} tok/s`);
  const batch: number[] = [];
  const rows = await generateBatch(model, null, prompts.map((ids) => ({ ids })), { ...opts, maxNewTokens: t.newTokens, batchSize: t.batch, onToken: () => batch.push(now()) });
  log(`  batch of ${t.batch}: ${rate(batch, t.batch).toFixed(2)} tok/s`);
  return {
    ...s, loadSeconds, quantizeSeconds,
    peakBytes: procMemory()!.peakBytes,
    tokensPerSec: rate(single),
    batchTokensPerSec: rate(batch, t.batch),
    tokens: one.tokenIds,
    batchRowZeroSame: rows[0].tokenIds.join() === one.tokenIds.join(),
  };
}

/** llama.cpp decoding `prompts` together: one context with a sequence per prompt (node-llama-cpp sizes the context per sequence), evaluated in one batch per step (as bench/generate.ts). */
async function llamaBatch(model: LlamaModel, prompts: number[][], n: number, threads: number, contextSize: number): Promise<number> {
  const context = await model.createContext({
    contextSize, sequences: prompts.length, threads, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  } as Parameters<LlamaModel["createContext"]>[0]);
  try {
    const seqs = prompts.map(() => context.getSequence());
    const greedy = async (b: number, count: number, onToken?: () => void) => {
      await seqs[b].clearHistory();
      let got = 0;
      for await (const _ of seqs[b].evaluate(prompts[b] as Token[], { temperature: 0 })) {
        onToken?.();
        if (++got >= count) break;
      }
    };
    await Promise.all(prompts.map((_, b) => greedy(b, 2))); // warm-up
    const stamps: number[] = [];
    await Promise.all(prompts.map((_, b) => greedy(b, n, () => stamps.push(now()))));
    return rate(stamps, prompts.length);
  } finally {
    await context.dispose();
  }
}

/** tslm's GGUF export of the folder as `tslm export gguf` does it (default base), in a process of its own so llama.cpp's peak is its own. */
async function exportPhase(t: Extract<Task, { phase: "export" }>) {
  const s = await start();
  const { model, loadSeconds } = await loadBase(t.dir, "none", t.loadOptions);
  const t0 = now();
  const r = exportGguf(model, t.file, { type: t.type }); // atomic: a temporary file renamed when complete
  const exportSeconds = (now() - t0) / 1000;
  log(`  exported ${t.file} in ${exportSeconds.toFixed(1)} s`);
  return { ...s, loadSeconds, exportSeconds, fileBytes: r.bytes, fallbacks: r.fallbacks.length, peakBytes: procMemory()!.peakBytes };
}

/** llama.cpp on a GGUF file, decoding the prompts tslm decodes (the tokenizer of the model folder). */
async function ggufPhase(t: Extract<Task, { phase: "gguf" }>) {
  const baselineBytes = settledRss();
  const prompts = decodePrompts(loadTokenizer(t.dir), readModelConfig(t.dir).vocabSize, t.promptTokens, t.batch);
  // The peer at its best thread count (on a shared machine, fewer threads can win): each is measured, the best kept.
  const cpp = await openLlamaCpp();
  const contextSize = t.promptTokens + t.newTokens + 8;
  let best = { tokensPerSec: NaN, threads: 0, tokens: [] as number[] }, bestBatch = { tokensPerSec: NaN, threads: 0 };
  const all: { threads: number; tokensPerSec: number; batchTokensPerSec: number }[] = [];
  try {
    for (const threads of t.threads) {
      const gguf = await loadGguf(cpp, t.file, contextSize, threads);
      try {
        await gguf.greedy(prompts[0], 2); // warm-up
        const stamps: number[] = [];
        const tokens = await gguf.greedy(prompts[0], t.newTokens, () => stamps.push(now()));
        const batchTokensPerSec = await llamaBatch(gguf.model, prompts, t.newTokens, threads, contextSize);
        log(`  llama.cpp, ${threads} thread${threads > 1 ? "s" : ""}: one sequence ${rate(stamps).toFixed(2)} tok/s, ${t.batch} sequences ${batchTokensPerSec.toFixed(2)} tok/s`);
        all.push({ threads, tokensPerSec: rate(stamps), batchTokensPerSec });
        if (!(best.tokensPerSec >= rate(stamps))) best = { tokensPerSec: rate(stamps), threads, tokens };
        if (!(bestBatch.tokensPerSec >= batchTokensPerSec)) bestBatch = { tokensPerSec: batchTokensPerSec, threads };
      } finally {
        await gguf.dispose();
      }
    }
  } finally {
    await cpp.llama.dispose();
  }
  return {
    baselineBytes, fileBytes: statSync(t.file).size,
    tokensPerSec: best.tokensPerSec, threads: best.threads, batchTokensPerSec: bestBatch.tokensPerSec, batchThreads: bestBatch.threads, byThreads: all,
    tokens: best.tokens, peakBytes: procMemory()!.peakBytes,
  };
}

const PHASES = { load: loadPhase, train: trainPhase, decode: decodePhase, export: exportPhase, gguf: ggufPhase } as const;

if (process.argv[1]?.endsWith("_scale_worker.ts")) {
  const task = JSON.parse(process.argv[2]) as Task;
  const result = await (PHASES[task.phase] as (t: Task) => Promise<Record<string, unknown>>)(task);
  process.stdout.write(JSON.stringify({ phase: task.phase, ...result }) + "\n");
  // node-llama-cpp and the native addon may keep handles open.
  process.exit(0);
}
