/**
 * The pairwise LLM judge on any OpenAI-compatible endpoint. Temperature 0 by
 * default; output without exactly one agreeing verdict label is retried up to
 * `max_attempts` calls and then reported as a JudgeError (never a verdict).
 */
import type { LLMJudgeConfig } from "./config.js";
import { JudgeError, type Judge, type JudgeInput, type JudgeResult } from "./types.js";
import { judgeMessages, judgeSystemPrompt } from "./prompts.js";
import { parseVerdict } from "./verdict.js";
import { apiKeyFrom, chatCompletion, ChatError, defaultHttpDeps, type HttpDeps } from "../contestants/http.js";
import type { Scheduler } from "../contestants/types.js";
import type { SuitePrompt } from "../types.js";

/**
 * Whether the judge is shown the prompt's reference. A reference tagged
 * `metric:regex` is a pattern for the reference judge, not an answer, so the
 * LLM judge does not see it.
 */
export function usesReference(cfg: LLMJudgeConfig, prompt: SuitePrompt): boolean {
  if (cfg.reference === "never" || prompt.reference === undefined) return false;
  if (prompt.tags?.includes("metric:regex")) return false;
  return !cfg.reference_categories || cfg.reference_categories.includes(prompt.category);
}

export function createLLMJudge(cfg: LLMJudgeConfig, opts: { deps?: HttpDeps; schedule?: Scheduler; configKey?: string } = {}): Judge {
  const deps = opts.deps ?? defaultHttpDeps;
  const apiKey = apiKeyFrom(cfg, deps.env, opts.configKey ?? "judge");
  const id = cfg.id ?? `llm:${cfg.model}`;
  return {
    id,
    type: "llm",
    identity: {
      type: "llm",
      base_url: cfg.base_url,
      model: cfg.model,
      verdicts: cfg.verdicts,
      temperature: cfg.temperature,
      max_tokens: cfg.max_tokens,
      // The prompt text itself is part of the identity: editing it invalidates cached verdicts.
      system: cfg.system ?? [judgeSystemPrompt(cfg.verdicts, false), judgeSystemPrompt(cfg.verdicts, true)],
      reference: cfg.reference,
      reference_categories: cfg.reference_categories,
    },
    cacheable: true,
    orders: cfg.orders,
    disagreement: cfg.disagreement,
    strongWeight: cfg.strong_weight,
    async judge(input: JudgeInput): Promise<JudgeResult> {
      const guided = usesReference(cfg, input.prompt);
      const messages = judgeMessages(input.prompt, input.first, input.second, { scale: cfg.verdicts, referenceGuided: guided, system: cfg.system });
      const errors: string[] = [];
      let attempts = 0;
      for (let call = 1; call <= cfg.max_attempts; call++) {
        let text: string;
        try {
          const r = await chatCompletion(
            cfg,
            { messages, temperature: cfg.temperature, max_tokens: cfg.max_tokens },
            { apiKey, schedule: opts.schedule, signal: input.signal, deps },
          );
          attempts += r.attempts;
          errors.push(...r.retry_errors);
          text = r.text;
        } catch (e) {
          if (e instanceof ChatError) {
            attempts += e.attempts;
            // HTTP failures already had their retries inside chatCompletion.
            throw new JudgeError(e.message, attempts, [...errors, ...e.errors.slice(0, -1)]);
          }
          throw e;
        }
        const parsed = parseVerdict(text, cfg.verdicts);
        if (typeof parsed !== "string") {
          return {
            verdict: parsed.verdict,
            strength: parsed.strength,
            reason: text.length > 2000 ? text.slice(0, 1000) + " ... " + text.slice(-1000) : text,
            attempts,
            retry_errors: errors.length ? errors : undefined,
            reference_guided: guided,
          };
        }
        errors.push(parsed);
      }
      const last = errors[errors.length - 1];
      throw new JudgeError(`no parsable verdict after ${cfg.max_attempts} judge call(s): ${last}`, attempts, errors.slice(0, -1));
    },
  };
}
