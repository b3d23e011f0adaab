/**
 * llama.cpp (through node-llama-cpp's CPU build) as the reference
 * implementation for GGUF files tslm writes. Settings from ARCHITECTURE.md:
 * no GPU, no build or download, one thread, no flash attention, F32 KV cache,
 * and a context larger than the tokens evaluated (no context shift).
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";

export interface LlamaCpp {
  llama: Llama;
  /** Messages llama.cpp logged (load failures reach JS only as "Failed to load model"). */
  logs: string[];
}

/** Starts the CPU backend of node-llama-cpp. */
export async function openLlamaCpp(): Promise<LlamaCpp> {
  const logs: string[] = [];
  const llama = await getLlama({
    gpu: false,
    build: "never",
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger: (_level, message) => logs.push(message),
  });
  return { llama, logs };
}

export interface LoadedGguf {
  model: LlamaModel;
  /** Next-token distributions `[V]` after each of `tokens`. */
  probabilities(tokens: number[], vocabSize: number): Promise<Float64Array[]>;
  /** llama.cpp's own greedy continuation of `prompt`; `onToken` fires as each token arrives. */
  greedy(prompt: number[], n: number, onToken?: () => void): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Loads a GGUF file; a failure carries llama.cpp's log lines. */
export async function loadGguf(cpp: LlamaCpp, file: string, contextSize = 128, threads = 1): Promise<LoadedGguf> {
  cpp.logs.length = 0;
  let model: LlamaModel;
  try {
    model = await cpp.llama.loadModel({ modelPath: file });
  } catch (e) {
    throw new Error(`llama.cpp could not load ${file}: ${(e as Error).message}\n${cpp.logs.join("\n")}`);
  }
  const context = await model.createContext({
    contextSize,
    threads,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  } as Parameters<LlamaModel["createContext"]>[0]);
  const sequence = context.getSequence();
  return {
    model,
    async probabilities(tokens, vocabSize) {
      if (tokens.length >= contextSize) throw new Error(`context ${contextSize} must exceed the ${tokens.length} tokens evaluated`);
      await sequence.clearHistory();
      const out = await sequence.controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { probabilities: true } }]));
      return tokens.map((_, i) => {
        const p = new Float64Array(vocabSize);
        for (const [tok, prob] of out[i]!.next.probabilities!) p[tok as number] = prob;
        return p;
      });
    },
    async greedy(prompt, n, onToken) {
      await sequence.clearHistory();
      const gen: number[] = [];
      for await (const t of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        onToken?.();
        gen.push(t as number);
        if (gen.length >= n) break;
      }
      return gen;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
