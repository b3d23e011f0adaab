/**
 * Judge configs, as written under `judge:` in a run's YAML (or a suite's default).
 *
 * ```yaml
 * judge:
 *   type: llm                     # pairwise LLM judge on any OpenAI-compatible endpoint
 *   base_url: http://127.0.0.1:8000/v1
 *   model: judge-model
 *   verdicts: three               # [[A]]/[[B]]/[[C]] (MT-Bench) or five: [[A>>B]]..[[B>>A]] (Arena-Hard)
 *   orders: both                  # judge both answer orders (position swap)
 *   disagreement: tie             # tie (MT-Bench) or two-games (Arena-Hard)
 * judge:
 *   type: reference               # scores answers against the prompt's reference
 *   metric: auto                  # exact|normalized|numeric|regex|contains|rouge-l|bleu|auto
 * judge:
 *   type: ensemble
 *   combine: pool                 # pool: every member's battles; majority: one battle by vote
 *   judges: [{type: llm, ...}, {type: reference}]
 * ```
 */
import { z } from "../../util/config.js";
import { EndpointSchema } from "../contestants/http.js";
import { METRICS } from "./metrics.js";

const JudgeId = z.string().min(1).regex(/^\S+$/, "no spaces").optional().describe("Judge id in records; default derived from the type (and model).");

export const LLMJudgeSchema = EndpointSchema.extend({
  type: z.literal("llm"),
  id: JudgeId,
  verdicts: z.enum(["three", "five"]).default("three").describe("three: MT-Bench [[A]]/[[B]]/[[C]]; five: Arena-Hard [[A>>B]] ... [[B>>A]]."),
  orders: z.enum(["both", "one"]).default("both").describe("Judge both answer orders: LLM judges favour a position (EvalGPT: first answer won 55.4%)."),
  disagreement: z.enum(["tie", "two-games"]).default("tie").describe("When orders disagree: tie (MT-Bench), or count each order as its own game (Arena-Hard)."),
  strong_weight: z.number().int().min(1).default(3).describe("With five-level verdicts and two-games: battles a 'much better' verdict counts for (Arena-Hard: 3)."),
  reference: z.enum(["auto", "never"]).default("auto").describe("auto: show the prompt's reference answer to the judge when there is one (reference-guided grading)."),
  reference_categories: z.array(z.string()).optional().describe("Limit reference-guided prompts to these categories (MT-Bench: math, reasoning, coding); unset = every prompt with a reference."),
  temperature: z.number().min(0).max(2).default(0).describe("0 makes verdicts repeatable (MT-Bench)."),
  max_tokens: z.number().int().positive().default(1024).describe("Room for the explanation before the verdict."),
  max_attempts: z.number().int().min(1).default(3).describe("Judge calls per judgment when the output has no parsable verdict; then an error is recorded."),
  system: z.string().optional().describe("Replace the system prompt (must still ask for the bracketed verdict labels)."),
});

export const ReferenceJudgeSchema = z.strictObject({
  type: z.literal("reference"),
  id: JudgeId,
  metric: z.enum(["auto", ...METRICS]).default("auto").describe("auto: a prompt tag 'metric:NAME' if present, else numeric for numeric references, else contains."),
  tolerance: z.number().min(0).default(1e-6).describe("Numeric metric: allowed absolute difference (relative to the reference when relative: true)."),
  relative: z.boolean().default(false),
  regex_flags: z.string().default("i").describe("Regex metric: flags for the reference pattern."),
});

export const HumanJudgeSchema = z.strictObject({
  type: z.literal("human"),
  id: JudgeId,
});

export const CustomJudgeSchema = z.strictObject({
  type: z.literal("custom"),
  id: z.string().min(1).regex(/^\S+$/, "no spaces").describe("Id of an in-process judge given to runTournament."),
});

const MemberSchema = z.discriminatedUnion("type", [LLMJudgeSchema, ReferenceJudgeSchema, HumanJudgeSchema, CustomJudgeSchema]);

export const EnsembleJudgeSchema = z.strictObject({
  type: z.literal("ensemble"),
  id: JudgeId,
  combine: z.enum(["pool", "majority"]).default("pool").describe("pool: each member's battles are rated (Arena-Hard's judge ensembles); majority: one battle per vote."),
  quorum: z.number().int().min(1).optional().describe("majority: members that must give a verdict; default all of them."),
  judges: z.array(MemberSchema).min(2),
});

export const JudgeConfigSchema = z.discriminatedUnion("type", [
  LLMJudgeSchema,
  ReferenceJudgeSchema,
  HumanJudgeSchema,
  CustomJudgeSchema,
  EnsembleJudgeSchema,
]);

export type LLMJudgeConfig = z.output<typeof LLMJudgeSchema>;
export type ReferenceJudgeConfig = z.output<typeof ReferenceJudgeSchema>;
export type HumanJudgeConfig = z.output<typeof HumanJudgeSchema>;
export type JudgeMemberConfig = z.output<typeof MemberSchema>;
export type EnsembleJudgeConfig = z.output<typeof EnsembleJudgeSchema>;
export type JudgeConfig = z.output<typeof JudgeConfigSchema>;
