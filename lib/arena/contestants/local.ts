/**
 * A local tslm model (folder + optional PEFT LoRA adapter) as a contestant.
 * lib/model is imported lazily, on the first local contestant, so the arena
 * runs without TensorFlow.js loaded when every contestant is remote; the arena
 * never imports lib/train.
 */
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../util/errors.js";
import { contentHash } from "../store/hash.js";
import type { LocalContestantConfig } from "./config.js";
import type { Contestant, GenerateRequest, GenerateResult } from "./types.js";

/** Identity of a folder for the answer cache: file names, sizes and modification times (weights are not re-read). */
export function folderFingerprint(dir: string): string {
  if (!existsSync(dir)) throw new ConfigError(`folder ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return [f, s.size, Math.floor(s.mtimeMs)];
    });
  return contentHash(files);
}

interface ModelApi {
  loadModel: (dir: string, opts?: Record<string, unknown>) => Promise<unknown>;
  generate: (model: unknown, tokenizer: unknown, messages: unknown, opts?: Record<string, unknown>) => Promise<unknown>;
  [name: string]: unknown;
}

async function modelApi(): Promise<ModelApi> {
  const mod = (await import("../../model/index.js")) as Record<string, unknown>;
  if (typeof mod.loadModel !== "function" || typeof mod.generate !== "function") {
    throw new ConfigError("local contestants need lib/model's loadModel and generate, which this build of tslm does not provide yet", { key: "contestants.type" });
  }
  return mod as unknown as ModelApi;
}

export function createLocalContestant(cfg: LocalContestantConfig): Contestant {
  let loaded: Promise<{ api: ModelApi; model: unknown; tokenizer: unknown }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const api = await modelApi();
      const result = (await api.loadModel(cfg.model, cfg.adapter ? { adapter: cfg.adapter } : undefined)) as Record<string, unknown>;
      // loadModel returns { model, tokenizer } (or a model carrying its tokenizer).
      const model = result.model ?? result;
      const tokenizer = result.tokenizer ?? (model as Record<string, unknown>).tokenizer;
      return { api, model, tokenizer };
    })());
  return {
    name: cfg.name,
    type: "local",
    identity: {
      type: "local",
      model: folderFingerprint(cfg.model),
      adapter: cfg.adapter ? folderFingerprint(cfg.adapter) : undefined,
      system: cfg.system,
    },
    cacheable: true,
    params: cfg.params,
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      const { api, model, tokenizer } = await load();
      const messages = cfg.system && req.messages[0]?.role !== "system" ? [{ role: "system", content: cfg.system }, ...req.messages] : req.messages;
      const t0 = performance.now();
      const { extra, ...params } = req.params;
      const out = (await api.generate(model, tokenizer, messages, { ...extra, ...params, maxNewTokens: params.max_tokens, signal: req.signal })) as
        | string
        | { text: string; tokens?: number | unknown[] };
      const text = typeof out === "string" ? out : out.text;
      const tokens = typeof out === "string" ? undefined : Array.isArray(out.tokens) ? out.tokens.length : out.tokens;
      return { text, tokens, latency_ms: Math.round(performance.now() - t0) };
    },
  };
}
