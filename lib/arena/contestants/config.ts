/**
 * Contestant configs, as written under `contestants:` in a run's YAML.
 *
 * ```yaml
 * contestants:
 *   - name: llama3-8b            # how the model appears in battles and ratings
 *     type: openai               # any OpenAI-compatible chat endpoint
 *     base_url: http://127.0.0.1:11434/v1
 *     model: llama3:8b
 *     api_key_env: OPENAI_API_KEY  # optional
 *     params: {temperature: 0.7, max_tokens: 512}
 *   - name: last-year
 *     type: answers              # a JSONL file of answers users already have
 *     path: answers/last-year.jsonl
 *   - name: tuned
 *     type: local                # a tslm model folder + optional PEFT adapter
 *     model: models/tiny
 *     adapter: out/adapter
 *   - name: tuned-qlora
 *     type: local
 *     model: models/tiny
 *     adapter: out/qlora/adapter
 *     quantization: nf4          # the base as the QLoRA adapter was trained on
 *   - name: mine
 *     type: custom               # an in-process implementation given to runTournament
 * ```
 */
import { z } from "../../util/config.js";
import { EndpointSchema } from "./http.js";
import { GenerationParamsSchema } from "./params.js";

const Name = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\S(.*\S)?$/, "no leading or trailing spaces")
  .describe("The model's name in battles, ratings and reports; unique within a run.");

export const OpenAIContestantSchema = EndpointSchema.extend({
  name: Name,
  type: z.literal("openai"),
  system: z.string().optional().describe("System message put before every prompt that has none."),
  params: GenerationParamsSchema.optional().describe("Generation parameters over the run's and the suite's."),
});

export const AnswersContestantSchema = z.strictObject({
  name: Name,
  type: z.literal("answers"),
  path: z.string().min(1).describe("JSONL file: one {prompt_id, text} object a line (question_id/id and answer/output/response also accepted)."),
  model: z.string().optional().describe("Keep only lines whose 'model' field equals this (one file holding several models' answers)."),
});

export const LocalContestantSchema = z.strictObject({
  name: Name,
  type: z.literal("local"),
  model: z.string().min(1).describe("A tslm model folder (config.json + safetensors + tokenizer)."),
  adapter: z.string().optional().describe("A PEFT LoRA adapter folder applied on top of the model."),
  quantization: z
    .enum(["none", "int8", "int4", "nf4"])
    .default("none")
    .describe("Storage of the base weights, quantized before the adapter goes on, as `tslm finetune --quantization` does: none (float32), int8, or 4-bit int4/nf4 (QLoRA). An adapter learns its correction against the base it was trained on, so evaluate it on the same one."),
  block_size: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Values sharing one scale in int4/nf4 (default 64: QLoRA's, and what tslm's trainer uses); layers whose input width is not a multiple stay float32, as in training."),
  system: z.string().optional(),
  params: GenerationParamsSchema.optional(),
});

export const CustomContestantSchema = z.strictObject({
  name: Name,
  type: z.literal("custom"),
});

export const ContestantConfigSchema = z.discriminatedUnion("type", [
  OpenAIContestantSchema,
  AnswersContestantSchema,
  LocalContestantSchema,
  CustomContestantSchema,
]);

export type OpenAIContestantConfig = z.output<typeof OpenAIContestantSchema>;
export type AnswersContestantConfig = z.output<typeof AnswersContestantSchema>;
export type LocalContestantConfig = z.output<typeof LocalContestantSchema>;
/** A local contestant's config before defaults (`quantization` may be left out). */
export type LocalContestantInput = z.input<typeof LocalContestantSchema>;
export type ContestantConfig = z.output<typeof ContestantConfigSchema>;
