/** A contestant served by any OpenAI-compatible chat endpoint. */
import type { Contestant, ContestantRequest, ContestantAnswer, Scheduler } from "./types.js";
import type { OpenAIContestantConfig } from "./config.js";
import { apiKeyFrom, chatCompletion, defaultHttpDeps, type HttpDeps } from "./http.js";

export function createOpenAIContestant(
  cfg: OpenAIContestantConfig,
  opts: { deps?: HttpDeps; schedule?: Scheduler; configKey?: string } = {},
): Contestant {
  const deps = opts.deps ?? defaultHttpDeps;
  const apiKey = apiKeyFrom(cfg, deps.env, opts.configKey ?? `contestants.${cfg.name}`);
  return {
    name: cfg.name,
    type: "openai",
    // The answer depends on the server, the model and what we send; not on the key or timeouts.
    identity: { type: "openai", base_url: cfg.base_url, model: cfg.model, system: cfg.system },
    cacheable: true,
    endpoint: { key: cfg.base_url, concurrency: cfg.concurrency, requestsPerMinute: cfg.requests_per_minute },
    params: cfg.params,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      const messages = cfg.system && req.messages[0]?.role !== "system" ? [{ role: "system" as const, content: cfg.system }, ...req.messages] : req.messages;
      const { extra, ...params } = req.params;
      const r = await chatCompletion(cfg, { ...extra, ...params, messages }, { apiKey, schedule: opts.schedule, signal: req.signal, deps });
      return { text: r.text, tokens: r.tokens, latency_ms: r.latency_ms, attempts: r.attempts, retry_errors: r.retry_errors.length ? r.retry_errors : undefined };
    },
  };
}
