/**
 * The rating config: one schema for the library (`rateBattles(battles, opts)`),
 * the CLI (`tslm arena rate` flags) and a run's YAML (`rating:` section).
 * Defaults and bounds come from defaults.ts.
 */
import { resolveConfig, z } from "../../util/config.js";
import { RATING_DEFAULTS as D, RATING_LIMITS } from "./defaults.js";

export const RatingOptionsSchema = z.strictObject({
  method: z.enum(["bt", "elo"]).default("bt").describe("Bradley-Terry MLE (order-free, the headline) or online Elo (order-dependent)"),
  bootstrap: z
    .number()
    .int()
    .min(0)
    .max(RATING_LIMITS.bootstrap)
    .default(D.bootstrap)
    .describe("bootstrap rounds for confidence intervals; 1,000 as EvalGPT (BT rounds take well under a millisecond); at most 100,000"),
  seed: z.number().int().default(0).describe("seed of the bootstrap's random source: same seed, same intervals"),
  confidence: z.number().gt(0).lt(1).default(D.confidence).describe("central interval from the (1-c)/2 and (1+c)/2 bootstrap quantiles"),
  scale: z.number().positive().default(D.scale).describe("rating points per factor `base` in odds (Elo convention)"),
  base: z.number().gt(1).default(D.base).describe("odds base of the rating scale"),
  init: z.number().default(D.init).describe("rating of the average model (BT) or starting rating (Elo)"),
  k: z.number().positive().default(D.k).describe("online Elo update size; 4 as EvalGPT and Chatbot Arena"),
  anchor: z
    .strictObject({ model: z.string().min(1), rating: z.number() })
    .optional()
    .describe("shift all ratings so this model has this rating (Chatbot Arena anchors one model)"),
  ties: z.enum(["half", "drop"]).default("half").describe("a tie counts as half a win and half a loss (Chatbot Arena), or is dropped"),
  l2: z.number().min(0).default(0).describe("L2 penalty on BT strengths; 0 = plain MLE as Chatbot Arena (a model that wins every battle then has no finite rating)"),
  tol: z.number().positive().default(D.tol).describe("Newton stopping step, natural scale (1e-9 = 4e-7 rating points)"),
  bootstrapTol: z.number().positive().default(D.bootstrapTol).describe("stopping step of bootstrap refits (1e-7 = 4e-5 rating points, far below the intervals' Monte Carlo error; 15% faster than tol)"),
  maxIter: z.number().int().positive().max(RATING_LIMITS.maxIter).default(D.maxIter).describe("Newton iterations at most per fit"),
  minBattles: z.number().int().min(0).default(0).describe("vote floor: models with fewer battles are left out, with their battles, before fitting"),
  style: z
    .strictObject({
      features: z.array(z.string()).optional().describe("BattleRecord.style keys; default all present in every battle"),
      ratio: z.boolean().default(true).describe("(a-b)/(a+b+1) as Chatbot Arena; false = a-b"),
      l2: z.number().min(0).default(D.styleL2).describe("L2 on all parameters, as FastChat's style control"),
    })
    .optional()
    .describe("style control (BT only): fit strengths with style features held equal"),
});

/** Input form (every field optional). */
export type RatingOptionsInput = z.input<typeof RatingOptionsSchema>;
/** Resolved form (defaults filled). */
export type RatingOptions = z.output<typeof RatingOptionsSchema>;

/** Fills defaults and rejects unknown keys, wrong types and out-of-range values, naming the key. */
export function resolveRatingOptions(input: RatingOptionsInput | undefined, prefix?: string): RatingOptions {
  return resolveConfig(RatingOptionsSchema, input ?? {}, { prefix });
}
