/**
 * A demo variant as an arena contestant: the base model folder, stored as
 * it was trained (float32, or 4-bit for QLoRA), with its PEFT adapter on
 * top. The arena's `local` contestant loads a float32 base; a QLoRA adapter
 * learned its correction against the 4-bit weights, so the demo answers with
 * the base it trained on. Models load lazily, on their first prompt, and
 * every demo model answers through one queue: two cores run one generation
 * at a time best.
 */
import type { Contestant, ContestantAnswer, ContestantRequest } from "../arena/contestants/types.js";
import type { CausalLM } from "../model/causal-lm.js";
import { ConfigError } from "../util/errors.js";
import type { DemoVariant } from "./config.js";

/** Runs tasks one after another (a promise chain). */
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

export interface DemoContestantInput {
  variant: DemoVariant;
  modelDir: string;
  /** folderHash(modelDir): part of the answer cache key. */
  modelHash: string;
  /** The adapter folder and its cache key (LoRA variants). */
  adapter?: { dir: string; key: string };
  /** Shared by every demo contestant. */
  queue: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** An arena contestant that answers with a demo variant. */
export function demoContestant(input: DemoContestantInput): Contestant {
  const { variant, modelDir, adapter, queue } = input;
  let loaded: Promise<CausalLM> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const { init } = await import("../tensor/init.js");
      await init();
      const api = await import("../model/index.js");
      const model = await api.loadModel(modelDir);
      if (!model.tokenizer) {
        model.dispose();
        throw new ConfigError(`model folder ${modelDir} has no tokenizer.json`, { file: modelDir, key: "model" });
      }
      api.quantizeModel(model, variant.quantization);
      if (adapter) api.loadAdapter(adapter.dir, model);
      return model;
    })());
  return {
    name: variant.name,
    type: "custom",
    // What decides the answers: the base's bytes, its storage, the adapter's key (which hashes base, data and training).
    identity: { type: "tslm-demo", v: 1, model: input.modelHash, quantization: variant.quantization, adapter: adapter?.key ?? null },
    cacheable: true,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      return queue(async () => {
        const model = await load();
        const { generate } = await import("../model/generate.js");
        const p = req.params;
        const r = await generate(model, model.tokenizer!, req.messages.map((m) => ({ role: m.role, content: m.content })), {
          maxNewTokens: p.max_tokens,
          temperature: p.temperature,
          topP: p.top_p,
          stop: p.stop,
          seed: p.seed,
          signal: req.signal,
        });
        if (r.finishReason === "aborted") throw req.signal?.reason ?? new Error("generation was stopped");
        return { text: r.text, tokens: r.usage.completionTokens, latency_ms: Math.round(r.timings.prefillMs + r.timings.decodeMs), attempts: 1 };
      });
    },
    async close() {
      if (loaded) (await loaded.catch(() => undefined))?.dispose();
    },
  };
}
