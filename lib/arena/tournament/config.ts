/**
 * The run config (`tslm arena run CONFIG.yaml`, `runTournament(config)`).
 *
 * ```yaml
 * name: general-2026-01        # run id: the run folder is OUT/NAME (default: SUITE-CONFIGHASH8)
 * out: runs                    # parent folder of run folders
 * seed: 0                      # pairing, sampling, answer order for one-order judges, generation seed
 * suite: general               # a suite name (eval-suites/NAME) or a folder
 * prompts: {categories: [math], ids: [...], limit: 20}   # optional subset, in suite order
 * generation: {temperature: 0.7, max_tokens: 512}        # over the suite's defaults
 * contestants: [...]           # >= 2, see contestants/config.ts
 * judge: {...}                 # see judges/config.ts; over the suite's judge defaults
 * schedule: {type: round-robin}   # | {type: sample, battles: N} | {type: adaptive, battles: N, batch: B} | {type: swiss, rounds: R}
 * cache: .cache/tslm-arena     # cross-run answer/verdict cache; false = off
 * fsync: batch                 # batch (group commit) | always | none
 * max_in_flight: 256           # battles worked on at once (endpoint limits apply below this)
 * shard: {index: 0, count: 4}  # run one shard of a static schedule on this machine; merge later
 * rating: {bootstrap: 2000, anchor: {model: gpt-4, rating: 1200}}   # how reports and leaderboards rate the run
 * ```
 * Relative paths (suite folder, answers files, models, out, cache) are resolved
 * from the config file's folder.
 */
import { z } from "../../util/config.js";
import { ContestantConfigSchema } from "../contestants/config.js";
import { GenerationParamsSchema } from "../contestants/params.js";
import { RatingOptionsSchema } from "../ratings/options.js";

/**
 * A run's `rating:` section: the rating options (ratings/options.ts) with every
 * default filled in except `seed`, which defaults to the run's seed when the
 * run is rated. Ratings are computed from the recorded battles, so this
 * section is not part of the config hash.
 */
export const RunRatingSchema = RatingOptionsSchema.extend({
  seed: z.number().int().optional().describe("seed of the bootstrap; default: the run's seed"),
});

export const ScheduleSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("round-robin").describe("Every pair of contestants on every prompt (EvalGPT)."),
  }),
  z.strictObject({
    type: z.literal("sample"),
    battles: z.number().int().positive().describe("Battles drawn uniformly without replacement from all (pair, prompt) combinations."),
  }),
  z.strictObject({
    type: z.literal("adaptive"),
    battles: z.number().int().positive().describe("Total battles; each batch goes where it shrinks rating uncertainty most."),
    batch: z.number().int().positive().optional().describe("Battles chosen per rating refit; default max(pairs, battles/20)."),
    prior: z.number().positive().default(0.1).describe("Ridge prior on ratings (natural-log scale) that keeps the uncertainty estimate finite early on."),
  }),
  z.strictObject({
    type: z.literal("swiss"),
    rounds: z.number().int().positive().optional().describe("Rounds; default ceil(log2(contestants)) + 2."),
    prompts_per_pairing: z.number().int().positive().default(3).describe("Prompts each pairing plays per round."),
  }),
]);

export const ArenaConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'").optional().describe("Run id and folder name; default SUITE-CONFIGHASH8."),
  out: z.string().default("runs").describe("Folder that holds run folders."),
  seed: z.number().int().default(0).describe("One seed for everything random in the run: same seed, same battles."),
  suite: z.string().min(1).describe("Suite name under eval-suites/, or a suite folder."),
  prompts: z
    .strictObject({
      categories: z.array(z.string()).optional(),
      ids: z.array(z.string()).optional(),
      limit: z.number().int().positive().optional(),
    })
    .optional()
    .describe("A subset of the suite's prompts."),
  generation: GenerationParamsSchema.optional().describe("Generation parameters over the suite's defaults."),
  contestants: z.array(ContestantConfigSchema).min(2).describe("Two or more contestants with unique names."),
  judge: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The judge (judges/config.ts), laid over the suite's judge defaults of the same type; `type` defaults to the suite's, else llm. Validated after merging."),
  schedule: ScheduleSchema.default({ type: "round-robin" }),
  cache: z.union([z.string(), z.literal(false)]).default(".cache/tslm-arena").describe("Cross-run cache of answers and verdicts keyed by content hash; false = off."),
  fsync: z.enum(["batch", "always", "none"]).default("batch").describe("batch: group commit, every acknowledged record is on disk; none survives kill -9 but not power loss."),
  max_in_flight: z.number().int().positive().default(256).describe("Battles worked on at once; endpoint queues limit real requests below this (cheap: a battle waiting costs a few closures)."),
  shard: z
    .strictObject({ index: z.number().int().min(0), count: z.number().int().positive() })
    .refine((s) => s.index < s.count, "shard.index must be below shard.count")
    .optional()
    .describe("Run only battles whose index % count == index (static schedules); merge the shards afterwards."),
  rating: RunRatingSchema.optional().describe("How reports and leaderboards rate this run (method, bootstrap, anchor, ...); CLI flags go over it."),
});

export type ArenaConfigInput = z.input<typeof ArenaConfigSchema>;
export type ArenaConfig = z.output<typeof ArenaConfigSchema>;
export type ScheduleConfig = z.output<typeof ScheduleSchema>;
