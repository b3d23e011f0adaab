/**
 * A local tslm model (a Hugging Face model folder + an optional PEFT LoRA
 * adapter) as a contestant. lib/model and lib/tensor are imported lazily, on
 * the first answer, so runs with only remote contestants never load
 * TensorFlow.js; the arena never imports lib/train. One model answers one
 * prompt at a time (the factory puts it behind a queue of concurrency 1).
 */
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../util/errors.js";
import { contentHash } from "../store/hash.js";
import type { LocalContestantConfig } from "./config.js";
import type { Contestant, ContestantRequest, ContestantAnswer, Scheduler } from "./types.js";
import { runNow } from "./types.js";

/** Identity of a folder for the answer cache: file names, sizes and modification times (weights are not re-read). */
export function folderFingerprint(dir: string, key = "model"): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`folder ${dir} does not exist`, { key });
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return [f, s.size, Math.floor(s.mtimeMs)];
    });
  return contentHash(files);
}

type ModelApi = typeof import("../../model/index.js");
type LoadedModel = Awaited<ReturnType<ModelApi["loadModel"]>>;

export function createLocalContestant(cfg: LocalContestantConfig, opts: { schedule?: Scheduler } = {}): Contestant {
  const schedule = opts.schedule ?? runNow;
  const identity = {
    type: "local",
    model: folderFingerprint(cfg.model, "model"),
    adapter: cfg.adapter ? folderFingerprint(cfg.adapter, "adapter") : undefined,
    system: cfg.system,
  };
  let loaded: Promise<{ api: ModelApi; model: LoadedModel }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const tensor = await import("../../tensor/index.js");
      await tensor.init();
      const api = await import("../../model/index.js");
      const model = await api.loadModel(cfg.model);
      if (!model.tokenizer) {
        model.dispose();
        throw new ConfigError(`model folder ${cfg.model} has no tokenizer.json; a local contestant needs one to read prompts`, { key: "model" });
      }
      // The adapter wraps the model's projections in place; generation goes through the model.
      if (cfg.adapter) api.loadAdapter(cfg.adapter, model);
      return { api, model };
    })());
  return {
    name: cfg.name,
    type: "local",
    identity,
    cacheable: true,
    params: cfg.params,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      return schedule(async () => {
        const { api, model } = await load();
        const messages = cfg.system && req.messages[0]?.role !== "system" ? [{ role: "system" as const, content: cfg.system }, ...req.messages] : req.messages;
        const p = req.params;
        const extra = (p.extra ?? {}) as Record<string, unknown>;
        const chat = messages.map((m) => ({ role: m.role, content: m.content }));
        const r = await api.generate(model, model.tokenizer!, chat, {
          maxNewTokens: p.max_tokens,
          temperature: p.temperature,
          topP: p.top_p,
          topK: typeof extra.top_k === "number" ? extra.top_k : undefined,
          repetitionPenalty: typeof extra.repetition_penalty === "number" ? extra.repetition_penalty : undefined,
          stop: p.stop,
          seed: p.seed,
          signal: req.signal,
        });
        if (r.finishReason === "aborted") throw req.signal?.reason ?? new Error("generation was stopped");
        return { text: r.text, tokens: r.usage.completionTokens, latency_ms: Math.round(r.timings.prefillMs + r.timings.decodeMs), attempts: 1 };
      });
    },
    async close() {
      if (loaded) (await loaded.catch(() => undefined))?.model.dispose();
    },
  };
}
