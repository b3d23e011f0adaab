/**
 * The demo's judges: the reference judge always (exact match against each
 * held-out question's answer: no network, no key), and an LLM judge on an
 * OpenAI-compatible endpoint when one is configured, pooled with it
 * (Arena-Hard's judge ensembles: every judge's battles are rated).
 *
 * Environment (read only when `llmJudge` is null):
 * - `OPENAI_BASE_URL`: the endpoint root, e.g. http://127.0.0.1:11434/v1 (Ollama),
 *   http://127.0.0.1:8000/v1 (vLLM), https://api.openai.com/v1;
 * - `TSLM_JUDGE_MODEL` (else `OPENAI_MODEL`): the judge model's name;
 * - `OPENAI_API_KEY`: sent as the bearer token when set (its name is recorded, never its value).
 */
import type { DemoConfig } from "./config.js";

export interface LlmJudgeSettings {
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
}

export interface JudgeChoice {
  /** The judge config given to the tournament. */
  config: Record<string, unknown>;
  llm: LlmJudgeSettings | null;
  /** Why an LLM judge was not used although the environment mentions one. */
  note?: string;
}

/** The LLM judge from the config, else from the environment; null when there is none. */
export function llmJudgeFromEnv(cfg: DemoConfig["llmJudge"], env: Record<string, string | undefined>): { llm: LlmJudgeSettings | null; note?: string } {
  if (cfg === false) return { llm: null };
  if (cfg) return { llm: cfg };
  const baseUrl = env.OPENAI_BASE_URL?.trim();
  if (!baseUrl) return { llm: null };
  const model = (env.TSLM_JUDGE_MODEL ?? env.OPENAI_MODEL)?.trim();
  if (!model) return { llm: null, note: "OPENAI_BASE_URL is set but TSLM_JUDGE_MODEL (or OPENAI_MODEL) is not: judging with the reference judge only" };
  return { llm: { baseUrl, model, apiKeyEnv: env.OPENAI_API_KEY ? "OPENAI_API_KEY" : undefined } };
}

/** The tournament's judge: reference alone, or pooled with the LLM judge. */
export function chooseJudge(cfg: DemoConfig["llmJudge"], env: Record<string, string | undefined>): JudgeChoice {
  const { llm, note } = llmJudgeFromEnv(cfg, env);
  // metric auto: each prompt's `metric:` tag (exact for the skills suite), else numeric/contains.
  const reference = { type: "reference", metric: "auto" };
  if (!llm) return { config: reference, llm: null, note };
  const judge = {
    type: "llm",
    base_url: llm.baseUrl,
    model: llm.model,
    ...(llm.apiKeyEnv ? { api_key_env: llm.apiKeyEnv } : {}),
    // A demo should not wait minutes on a dead endpoint: fewer retries than the arena's default.
    retries: 2,
    timeout_ms: 60_000,
  };
  return { config: { type: "ensemble", combine: "pool", judges: [reference, judge] }, llm, note };
}
