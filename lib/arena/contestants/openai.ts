/** A contestant served by any OpenAI-compatible chat endpoint. */
import { withSystem, type Contestant, type ContestantRequest, type ContestantAnswer, type Scheduler } from "./types.js";
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
    params: cfg.params,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      const messages = withSystem(req.messages, cfg.system);
      const { extra, ...params } = req.params;
      const r = await chatCompletion(cfg, { ...extra, ...params, messages }, { apiKey, schedule: opts.schedule, signal: req.signal, deps });
      return { text: r.text, tokens: r.tokens, latency_ms: r.latency_ms, attempts: r.attempts, retry_errors: r.retry_errors.length ? r.retry_errors : undefined };
    },
  };
}
