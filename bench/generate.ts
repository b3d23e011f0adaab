/**
 * Greedy decoding speed: tslm with and without the KV cache, beside
 * llama.cpp (node-llama-cpp's CPU build) on a GGUF export of the same model,
 * in the same run, from the same prompt token ids.
 *
 *   npm run bench -- generate [--model DIR] [--tokens N] [--prompt-tokens P]
 *                             [--backend auto|native|wasm|cpu] [--threads T] [--json]
 *
 * Without --model it uses the embedded default model (models/<first>) when
 * there is one, else a random model of that size class (6 layers, dim 256,
 * GQA 8/4, vocab 1024) saved to a temporary folder. The decode rate is
 * (tokens - 1) / (time of the last token - time of the first token), the
 * same way for every engine, so prompt processing is excluded.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { init } from "../lib/tensor/init.js";
import { createModel } from "../lib/model/create.js";
import { exportGguf } from "../lib/model/export-gguf.js";
import { generate } from "../lib/model/generate.js";
import { loadModel, saveModel } from "../lib/model/io.js";
import { parameterCount } from "../lib/model/memory.js";
import { trainBpeTokenizer } from "../lib/tokenizer/bpe-trainer.js";
import { packageInfo } from "../lib/util/package.js";
import { loadGguf, openLlamaCpp } from "../test/model/llama-cpp.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "64" },
    "prompt-tokens": { type: "string", default: "16" },
    backend: { type: "string" },
    threads: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(args.tokens);
const P = Number(args["prompt-tokens"]);
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

/** Decode rate from per-token timestamps (ms). */
function rate(stamps: number[]): number {
  return stamps.length > 1 ? ((stamps.length - 1) / (stamps[stamps.length - 1] - stamps[0])) * 1000 : 0;
}

const tmp = mkdtempSync(join(tmpdir(), "tslm-bench-"));
try {
  const backend = await init(args.backend ? { backend: args.backend as never } : {});
  const dir = args.model ?? defaultModelDir() ?? (await randomModelDir(tmp));
  const model = await loadModel(dir);
  const cfg = model.config;
  const prompt = Array.from({ length: P }, (_, i) => (i * 7919 + 13) % cfg.vocabSize);
  log(`model ${dir}: ${cfg.modelType}, ${(parameterCount(model) / 1e6).toFixed(2)}M parameters; backend ${backend.chosen}; ${P} prompt tokens, ${N} generated`);

  const results: Record<string, { tokensPerSecond: number; firstTokenMs: number; tokens: number[] }> = {};
  // Warm-up (kernel compilation, allocations), then measured runs.
  for (const useCache of [true, false]) await generate(model, null, { ids: prompt }, { maxNewTokens: 4, useCache, stopTokenIds: [] });
  for (const useCache of [true, false]) {
    const stamps: number[] = [];
    const t0 = performance.now();
    const r = await generate(model, null, { ids: prompt }, { maxNewTokens: N, useCache, stopTokenIds: [], onToken: () => stamps.push(performance.now()) });
    const key = useCache ? "tslm_kv_cache" : "tslm_no_cache";
    results[key] = { tokensPerSecond: rate(stamps), firstTokenMs: stamps[0] - t0, tokens: r.tokenIds };
    log(`${key}: ${results[key].tokensPerSecond.toFixed(1)} tok/s`);
  }

  const file = join(tmp, "model-f32.gguf");
  exportGguf(model, file, { type: "f32" });
  const cpp = await openLlamaCpp();
  const threads = Number(args.threads);
  const gguf = await loadGguf(cpp, file, Math.max(256, P + N + 8), threads);
  try {
    await gguf.greedy(prompt, 4); // warm-up
    const stamps: number[] = [];
    const t0 = performance.now();
    const tokens = await gguf.greedy(prompt, N, () => stamps.push(performance.now()));
    results.llama_cpp_f32 = { tokensPerSecond: rate(stamps), firstTokenMs: stamps[0] - t0, tokens };
    log(`llama_cpp_f32 (${threads} thread${threads > 1 ? "s" : ""}): ${results.llama_cpp_f32.tokensPerSecond.toFixed(1)} tok/s`);
  } finally {
    await gguf.dispose();
    await cpp.llama.dispose();
  }
  const same = results.tslm_kv_cache.tokens.join() === results.llama_cpp_f32.tokens.join();
  const summary = {
    bench: "generate",
    model: dir,
    parameters: parameterCount(model),
    backend: backend.chosen,
    prompt_tokens: P,
    generated_tokens: N,
    tokens_per_second: {
      tslm_kv_cache: results.tslm_kv_cache.tokensPerSecond,
      tslm_no_cache: results.tslm_no_cache.tokensPerSecond,
      llama_cpp_f32: results.llama_cpp_f32.tokensPerSecond,
    },
    first_token_ms: {
      tslm_kv_cache: results.tslm_kv_cache.firstTokenMs,
      tslm_no_cache: results.tslm_no_cache.firstTokenMs,
      llama_cpp_f32: results.llama_cpp_f32.firstTokenMs,
    },
    cache_speedup: results.tslm_kv_cache.tokensPerSecond / results.tslm_no_cache.tokensPerSecond,
    llama_cpp_ratio: results.llama_cpp_f32.tokensPerSecond / results.tslm_kv_cache.tokensPerSecond,
    same_greedy_tokens: same,
    llama_cpp_settings: `CPU build, ${threads} thread(s), F32 KV cache, no flash attention`,
  };
  model.dispose();
  if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    const t = summary.tokens_per_second;
    process.stdout.write(
      [
        `greedy decoding, ${N} tokens after a ${P}-token prompt (${summary.model}, ${(summary.parameters / 1e6).toFixed(2)}M parameters, backend ${summary.backend})`,
        `  tslm, KV cache      ${t.tslm_kv_cache.toFixed(1).padStart(8)} tok/s`,
        `  tslm, no cache      ${t.tslm_no_cache.toFixed(1).padStart(8)} tok/s   (cache speed-up x${summary.cache_speedup.toFixed(2)})`,
        `  llama.cpp F32 GGUF  ${t.llama_cpp_f32.toFixed(1).padStart(8)} tok/s   (x${summary.llama_cpp_ratio.toFixed(2)} tslm's cached rate)`,
        `  same greedy tokens: ${same}`,
      ].join("\n") + "\n",
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
