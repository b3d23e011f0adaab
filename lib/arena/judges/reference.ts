/**
 * The reference judge: scores both answers against the prompt's reference
 * with a deterministic metric; the higher score wins, equal scores tie
 * (both 0: "both bad"). Its verdict cannot depend on the order, so it is
 * asked once per battle. A prompt without a reference is an error, not a tie.
 */
import type { ReferenceJudgeConfig } from "./config.js";
import { JudgeError, type Judge, type JudgeInput, type JudgeResult } from "./types.js";
import { METRICS, scoreWith, type MetricName } from "./metrics.js";
import { parseNumber } from "../../data/text-metrics.js";
import type { SuitePrompt } from "../types.js";

/** The metric used for a prompt: its `metric:NAME` tag, else the config's, where `auto` picks numeric or contains. */
export function metricFor(cfg: Pick<ReferenceJudgeConfig, "metric">, prompt: SuitePrompt): MetricName {
  const tag = prompt.tags?.find((t) => t.startsWith("metric:"))?.slice(7);
  if (tag && (METRICS as readonly string[]).includes(tag)) return tag as MetricName;
  if (cfg.metric !== "auto") return cfg.metric;
  return parseNumber(prompt.reference ?? "") !== undefined ? "numeric" : "contains";
}

export function createReferenceJudge(cfg: ReferenceJudgeConfig): Judge {
  return {
    id: cfg.id ?? `reference:${cfg.metric}`,
    type: "reference",
    identity: { type: "reference", metric: cfg.metric, tolerance: cfg.tolerance, relative: cfg.relative, regex_flags: cfg.regex_flags, v: 1 },
    // Scoring is instant; caching it would only grow the cache.
    cacheable: false,
    orders: "one",
    disagreement: "tie",
    strongWeight: 1,
    applies: (prompt: SuitePrompt) => prompt.reference !== undefined,
    async judge(input: JudgeInput): Promise<JudgeResult> {
      const ref = input.prompt.reference;
      if (ref === undefined) throw new JudgeError(`prompt '${input.prompt.id}' has no reference answer for the reference judge`);
      const metric = metricFor(cfg, input.prompt);
      let first: number;
      let second: number;
      try {
        const o = { tolerance: cfg.tolerance, relative: cfg.relative, regexFlags: cfg.regex_flags };
        first = scoreWith(metric, input.first, ref, o);
        second = scoreWith(metric, input.second, ref, o);
      } catch (e) {
        throw new JudgeError(`metric ${metric} failed on prompt '${input.prompt.id}': ${(e as Error).message}`);
      }
      const verdict = first > second ? "first" : second > first ? "second" : first === 0 ? "both_bad" : "tie";
      return { verdict, scores: { first, second }, reason: `${metric}: ${first.toFixed(4)} vs ${second.toFixed(4)}`, attempts: 1 };
    },
  };
}
