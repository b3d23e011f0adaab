/**
 * Greedy decoding speed: tslm with and without the KV cache, beside
 * llama.cpp (node-llama-cpp's CPU build) on a GGUF export of the same model,
 * in the same run, from the same prompt token ids. Then batched decoding:
 * B prompts at once (tslm's generateBatch; llama.cpp with B sequences in one
 * context, which it evaluates in one batch), B = 1, 8, 32 by default, each
 * row checked against the same prompt decoded alone.
 *
 *   npm run bench -- generate [--model DIR] [--tokens N] [--prompt-tokens P]
 *                             [--batches 1,8,32] [--backend auto|native|wasm|cpu]
 *                             [--threads T] [--json]
 *
 * Without --model it uses the embedded default model (models/<first>) when
 * there is one, else a random model of that size class (6 layers, dim 256,
 * GQA 8/4, vocab 1024) saved to a temporary folder. The decode rate is
 * (tokens - 1) / (time of the last token - time of the first token), the
 * same way for every engine, so prompt processing is excluded; for a batch,
 * (tokens - B) / (last - first), B tokens coming out of the prefill. Batch
 * prompts have different lengths (P/2 to P tokens), so rows are padded.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { init } from "../lib/tensor/init.js";
import { createModel } from "../lib/model/create.js";
import { exportGguf } from "../lib/model/export-gguf.js";
import { generate } from "../lib/model/generate.js";
import { generateBatch } from "../lib/model/generate-batch.js";
import { loadModel, saveModel } from "../lib/model/io.js";
import { parameterCount } from "../lib/model/memory.js";
import { trainBpeTokenizer } from "../lib/tokenizer/bpe-trainer.js";
import { packageInfo } from "../lib/util/package.js";
import type { LlamaModel, Token } from "node-llama-cpp";
import { loadGguf, openLlamaCpp } from "../test/model/llama-cpp.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "64" },
    "prompt-tokens": { type: "string", default: "16" },
    backend: { type: "string" },
    threads: { type: "string", default: "1" },
    batches: { type: "string", default: "1,8,32" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(args.tokens);
const P = Number(args["prompt-tokens"]);
const BATCHES = args.batches!.split(",").map(Number);
if (BATCHES.some((b) => !Number.isInteger(b) || b < 1)) throw new Error(`--batches must be positive integers, got ${args.batches}`);
const log = (s: string) => process.stderr.write(s + "\n");

function defaultModelDir(): string | null {
  const root = join(packageInfo().root, "models");
  if (!existsSync(root)) return null;
  const d = readdirSync(root).map((n) => join(root, n)).find((p) => existsSync(join(p, "config.json")));
  return d ?? null;
}

async function randomModelDir(tmp: string): Promise<string> {
  const corpus = Array.from({ length: 200 }, (_, i) => `Sentence ${i}: the model reads tokens, predicts the next one, and learns from its errors.`);
  const { tokenizer } = trainBpeTokenizer(corpus, { vocabSize: 1024, minFrequency: 1 });
  const model = createModel({ vocabSize: 1024, hiddenSize: 256, numHiddenLayers: 6, numAttentionHeads: 8, numKeyValueHeads: 4, maxPositionEmbeddings: 1024 }, { seed: 1, initStd: 0.05 });
  model.tokenizer = tokenizer;
  const dir = join(tmp, "random-small");
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

/** Decode rate from per-token timestamps (ms); the first `first` tokens come out of the prefill. */
function rate(stamps: number[], first = 1): number {
  return stamps.length > first ? ((stamps.length - first) / (stamps[stamps.length - 1] - stamps[0])) * 1000 : 0;
}

type Run = { tokensPerSecond: number; firstTokenMs: number; tokens: number[][] };

const tmp = mkdtempSync(join(tmpdir(), "tslm-bench-"));
try {
  const backend = await init(args.backend ? { backend: args.backend as never } : {});
  const dir = args.model ?? defaultModelDir() ?? (await randomModelDir(tmp));
  const model = await loadModel(dir);
  const cfg = model.config;
  const prompt = Array.from({ length: P }, (_, i) => (i * 7919 + 13) % cfg.vocabSize);
  // Batch row b: a different prompt of P/2 .. P tokens.
  const maxB = Math.max(...BATCHES);
  const rowPrompts = Array.from({ length: maxB }, (_, b) => Array.from({ length: P - (b % Math.max(1, Math.ceil(P / 2))) }, (_, i) => (i * 7919 + 31 * b + 13) % cfg.vocabSize));
  log(`model ${dir}: ${cfg.modelType}, ${(parameterCount(model) / 1e6).toFixed(2)}M parameters; backend ${backend.chosen}; ${P} prompt tokens, ${N} generated`);

  const results: Record<string, Run> = {};
  // Warm-up (kernel compilation, allocations), then measured runs.
  for (const useCache of [true, false]) for (let i = 0; i < 3; i++) await generate(model, null, { ids: prompt }, { maxNewTokens: N, useCache, stopTokenIds: [] });
  for (const useCache of [true, false]) {
    const stamps: number[] = [];
    const t0 = performance.now();
    const r = await generate(model, null, { ids: prompt }, { maxNewTokens: N, useCache, stopTokenIds: [], onToken: () => stamps.push(performance.now()) });
    const key = useCache ? "tslm_kv_cache" : "tslm_no_cache";
    results[key] = { tokensPerSecond: rate(stamps), firstTokenMs: stamps[0] - t0, tokens: [r.tokenIds] };
    log(`${key}: ${results[key].tokensPerSecond.toFixed(1)} tok/s`);
  }

  // Batched: every row must equal its prompt decoded alone.
  const alone: number[][] = [];
  for (const p of rowPrompts) alone.push((await generate(model, null, { ids: p }, { maxNewTokens: N, stopTokenIds: [] })).tokenIds);
  await generateBatch(model, null, rowPrompts.slice(0, 4).map((ids) => ({ ids })), { maxNewTokens: 4 }); // warm-up of the padded path
  let sameBatched = true;
  for (const B of BATCHES) {
    const stamps: number[] = [];
    const t0 = performance.now();
    const rs = await generateBatch(model, null, rowPrompts.slice(0, B).map((ids) => ({ ids })), { maxNewTokens: N, stopTokenIds: [], batchSize: B, onToken: () => stamps.push(performance.now()) });
    const key = `tslm_batch_${B}`;
    results[key] = { tokensPerSecond: rate(stamps, B), firstTokenMs: stamps[0] - t0, tokens: rs.map((r) => r.tokenIds) };
    const same = rs.every((r, b) => r.tokenIds.join() === alone[b].join());
    sameBatched &&= same;
    log(`${key}: ${results[key].tokensPerSecond.toFixed(1)} tok/s${same ? "" : " (rows differ from decoding alone)"}`);
  }

  const file = join(tmp, "model-f32.gguf");
  exportGguf(model, file, { type: "f32" });
  const cpp = await openLlamaCpp();
  const threads = Number(args.threads);
  const gguf = await loadGguf(cpp, file, Math.max(256, P + N + 8), threads);
  const llamaBatchDiffering: Record<number, number> = {};
  try {
    await gguf.greedy(prompt, 4); // warm-up
    const stamps: number[] = [];
    const t0 = performance.now();
    const tokens = await gguf.greedy(prompt, N, () => stamps.push(performance.now()));
    results.llama_cpp_f32 = { tokensPerSecond: rate(stamps), firstTokenMs: stamps[0] - t0, tokens: [tokens] };
    log(`llama_cpp_f32 (${threads} thread${threads > 1 ? "s" : ""}): ${results.llama_cpp_f32.tokensPerSecond.toFixed(1)} tok/s`);
    for (const B of BATCHES) {
      const r = await llamaCppBatch(gguf.model, rowPrompts.slice(0, B), N, threads, Math.max(256, P + N + 8));
      const key = `llama_cpp_batch_${B}`;
      results[key] = r;
      // Token index where each row first differs from tslm's (-1: identical).
      const firstDiff = r.tokens.map((t, b) => {
        const mine = results[`tslm_batch_${B}`].tokens[b];
        const i = t.findIndex((id, k) => id !== mine[k]);
        return i < 0 && t.length !== mine.length ? Math.min(t.length, mine.length) : i;
      });
      const differ = firstDiff.filter((i) => i >= 0);
      llamaBatchDiffering[B] = differ.length;
      const note = differ.length ? ` (${differ.length} of ${B} rows differ from tslm's, first at token ${Math.min(...differ)})` : "";
      log(`${key}: ${r.tokensPerSecond.toFixed(1)} tok/s${note}`);
    }
  } finally {
    await gguf.dispose();
    await cpp.llama.dispose();
  }
  const same = results.tslm_kv_cache.tokens[0].join() === results.llama_cpp_f32.tokens[0].join();
  const tps = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.tokensPerSecond]));
  const summary = {
    bench: "generate",
    model: dir,
    parameters: parameterCount(model),
    backend: backend.chosen,
    prompt_tokens: P,
    generated_tokens: N,
    batches: BATCHES,
    tokens_per_second: tps,
    first_token_ms: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.firstTokenMs])),
    cache_speedup: tps.tslm_kv_cache / tps.tslm_no_cache,
    llama_cpp_ratio: tps.llama_cpp_f32 / tps.tslm_kv_cache,
    /** tslm's batched throughput over its rate with one row (tslm_batch_1 when measured, else tslm_kv_cache), per batch size. */
    batch_speedup: Object.fromEntries(BATCHES.map((B) => [B, tps[`tslm_batch_${B}`] / (tps.tslm_batch_1 ?? tps.tslm_kv_cache)])),
    /** llama.cpp's rate over tslm's at each batch size (same prompts). */
    llama_cpp_batch_ratio: Object.fromEntries(BATCHES.map((B) => [B, tps[`llama_cpp_batch_${B}`] / tps[`tslm_batch_${B}`]])),
    same_greedy_tokens: same,
    same_batched_as_alone: sameBatched,
    /** Rows of llama.cpp's batched runs whose greedy tokens differ from tslm's (its single-sequence run is compared in same_greedy_tokens). */
    llama_cpp_batch_rows_differing: llamaBatchDiffering,
    llama_cpp_settings: `CPU build, ${threads} thread(s), F32 KV cache, no flash attention; batches: one context with B sequences`,
  };
  model.dispose();
  if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    const t = summary.tokens_per_second;
    const lines = [
      `greedy decoding, ${N} tokens after a ${P}-token prompt (${summary.model}, ${(summary.parameters / 1e6).toFixed(2)}M parameters, backend ${summary.backend})`,
      `  tslm, KV cache      ${t.tslm_kv_cache.toFixed(1).padStart(8)} tok/s`,
      `  tslm, no cache      ${t.tslm_no_cache.toFixed(1).padStart(8)} tok/s   (cache speed-up x${summary.cache_speedup.toFixed(2)})`,
      `  llama.cpp F32 GGUF  ${t.llama_cpp_f32.toFixed(1).padStart(8)} tok/s   (x${summary.llama_cpp_ratio.toFixed(2)} tslm's cached rate)`,
      `  same greedy tokens: ${same}`,
      `batched (B prompts of ${Math.ceil(P / 2)}-${P} tokens, ${N} tokens each; total tokens/s):`,
      ...BATCHES.map(
        (B) =>
          `  B=${String(B).padEnd(3)} tslm ${t[`tslm_batch_${B}`].toFixed(1).padStart(8)} tok/s (x${summary.batch_speedup[B].toFixed(2)} one row)   llama.cpp ${t[`llama_cpp_batch_${B}`].toFixed(1).padStart(8)} tok/s (x${summary.llama_cpp_batch_ratio[B].toFixed(2)} tslm)`,
      ),
      `  tslm rows equal decoding alone: ${sameBatched}; llama.cpp rows differing from tslm's: ${BATCHES.map((B) => `B=${B}: ${llamaBatchDiffering[B]}`).join(", ")}`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * llama.cpp decoding B prompts at once: one context with B sequences, whose
 * evaluations node-llama-cpp groups into one batch per step.
 */
async function llamaCppBatch(model: LlamaModel, prompts: number[][], n: number, threads: number, contextSize: number): Promise<Run> {
  const context = await model.createContext({
    contextSize,
    sequences: prompts.length,
    threads,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  } as Parameters<LlamaModel["createContext"]>[0]);
  try {
    const sequences = prompts.map(() => context.getSequence());
    const greedy = async (b: number, count: number, onToken?: () => void) => {
      const seq = sequences[b];
      await seq.clearHistory();
      const out: number[] = [];
      for await (const t of seq.evaluate(prompts[b] as Token[], { temperature: 0 })) {
        onToken?.();
        out.push(t as number);
        if (out.length >= count) break;
      }
      return out;
    };
    await Promise.all(prompts.map((_, b) => greedy(b, 2))); // warm-up
    const stamps: number[] = [];
    const t0 = performance.now();
    const tokens = await Promise.all(prompts.map((_, b) => greedy(b, n, () => stamps.push(performance.now()))));
    return { tokensPerSecond: rate(stamps, prompts.length), firstTokenMs: stamps[0] - t0, tokens };
  } finally {
    await context.dispose();
  }
}

