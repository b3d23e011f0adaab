/**
 * Dataset configuration. Defaults follow H2O LLM Studio's causal-LM dataset
 * settings (column names, `<|prompt|>`/`<|answer|>` markers, loss only on
 * answers, 1% validation split, max length 512, left truncation).
 */
import { z } from "../util/config.js";

/** Most samples in one batch: more cannot be held in memory at any length (a typo such as 1e9 fails at once, by name). */
export const MAX_BATCH = 1 << 16;
/** Most tokens in one sample or one generated answer (far past any context tslm trains). */
export const MAX_TOKENS = 1 << 20;

export const DataConfigSchema = z
  .strictObject({
    trainFile: z.string().nullable().default(null).describe("Training data: .jsonl, .json, .csv or .parquet. Null when records are passed in directly."),
    validationFile: z.string().nullable().default(null).describe("Separate validation file; when null, validationSize of the training rows is split off with the seed."),
    validationSize: z.number().min(0).max(0.9).default(0.01).describe("Fraction of conversations held out for validation when no validation file is given (LLM Studio: 0.01)."),
    systemColumn: z.string().nullable().default("system").describe("Column with an optional system prompt; null disables it."),
    promptColumn: z.union([z.string(), z.array(z.string()).min(1)]).default("prompt").describe("Prompt column, or several columns joined by promptJoin (LLM Studio allows several)."),
    promptJoin: z.string().default("\n\n").describe("Separator between several prompt columns (LLM Studio: a blank line)."),
    answerColumn: z.string().default("answer").describe("Column with the answer the model learns to give."),
    parentIdColumn: z.string().nullable().default("parent_id").describe("Column linking a row to the previous turn's row id; chains form multi-turn conversations. Ignored when absent."),
    idColumn: z.string().default("id").describe("Row id column used by parent_id chains."),
    messagesColumn: z.string().default("messages").describe("Column with chat records [{role, content}]; used when present instead of prompt/answer columns."),
    textColumn: z.string().default("text").describe("Column with plain text for language-model pretraining (every token is a target)."),
    limitChainedSamples: z.boolean().default(false).describe("Only whole conversations (chain ends) become samples; otherwise every row yields a sample with its history (LLM Studio default false)."),
    format: z.enum(["llm-studio", "chat-template"]).default("llm-studio").describe("How a conversation becomes text: LLM Studio's <|prompt|>/<|answer|> markers, or the tokenizer's chat template."),
    textSystemStart: z.string().default("<|system|>").describe("Marker before a system prompt (LLM Studio)."),
    textPromptStart: z.string().default("<|prompt|>").describe("Marker before each prompt (LLM Studio)."),
    textAnswerSeparator: z.string().default("<|answer|>").describe("Marker between a prompt and its answer (LLM Studio)."),
    addEosTokenToSystem: z.boolean().default(true).describe("Append the end-of-sequence token after the system prompt (LLM Studio)."),
    addEosTokenToPrompt: z.boolean().default(true).describe("Append the end-of-sequence token after each prompt (LLM Studio)."),
    addEosTokenToAnswer: z.boolean().default(true).describe("Append the end-of-sequence token after each answer, so the model learns to stop (LLM Studio)."),
    maskPromptLabels: z.boolean().default(true).describe("Compute the loss only on answer tokens (LLM Studio default on)."),
    onlyLastAnswer: z.boolean().default(false).describe("Compute the loss only on the last answer of a conversation."),
    maxLength: z.number().int().min(8).max(MAX_TOKENS).default(512).describe("Maximum tokens per sample (LLM Studio: 512)."),
    truncation: z.enum(["left", "right"]).default("left").describe("Which end to cut when a sample is too long; left keeps the latest turn and its answer (LLM Studio)."),
    pack: z.boolean().default(false).describe("Pretraining: concatenate text examples (EOS between them) and cut the stream into maxLength-token blocks, so no position is padding."),
    onBadRow: z.enum(["error", "skip"]).default("error").describe("A bad row stops loading with its file and line, or is skipped and listed in the load report."),
  })
  .describe("Dataset settings");

export type DataConfig = z.output<typeof DataConfigSchema>;
export type DataConfigInput = z.input<typeof DataConfigSchema>;

/** The defaults, resolved. */
export const DEFAULT_DATA: DataConfig = DataConfigSchema.parse({});
