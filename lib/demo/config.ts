/**
 * The demo's configuration: which base model, which fine-tuned variants,
 * how they are trained, how the tournament is played and rated. Every field
 * has a default and says why; `tslm demo` and `runDemo()` share it.
 *
 * The defaults make the whole demo (train three adapters, play four models
 * on the held-out skills, rate, report) finish in a few minutes on two CPU
 * cores; `fast` trims it further for tests and a first look.
 */
import { z } from "../util/config.js";
import { EMBEDDED_MODEL_DIR } from "../data/embedded/default-model.js";

export const DemoVariantSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'")
      .describe("The model's name on the leaderboard and the adapter's folder name."),
    method: z.enum(["base", "lora"]).default("lora").describe("base: the model as it is; lora: a LoRA adapter trained on the instruction set."),
    rank: z.number().int().min(1).default(8).describe("LoRA rank r."),
    alpha: z.number().positive().optional().describe("LoRA alpha; default 2 x rank, so every rank gets the same alpha / r = 2 update scale."),
    quantization: z.enum(["none", "int8", "int4", "nf4"]).default("none").describe("Storage of the frozen base while training and answering: nf4 is QLoRA's 4-bit NormalFloat."),
  })
  .describe("One contestant of the demo");

export type DemoVariant = z.output<typeof DemoVariantSchema>;
export type DemoVariantInput = z.input<typeof DemoVariantSchema>;

/**
 * The point of the default line-up: the base model knows the facts but not
 * the question/answer format; LoRA teaches the format; QLoRA does the same on
 * a 4-bit base (about 1/7 of the float32 memory for the adapted layers); a
 * rank-1 adapter shows how much capacity the task needs.
 */
export const DEFAULT_VARIANTS: DemoVariantInput[] = [
  { name: "base", method: "base" },
  { name: "lora-r8", method: "lora", rank: 8 },
  { name: "qlora-r8-nf4", method: "lora", rank: 8, quantization: "nf4" },
  { name: "lora-r1", method: "lora", rank: 1 },
];

export const DemoTrainSchema = z
  .strictObject({
    epochs: z.number().positive().default(6).describe("Passes over the 214 training tasks (156 steps of 8): as models/tslm-tiny/skills-lora.yaml; fewer leave more held-out answers wrong."),
    lr: z.number().positive().default(2e-3).describe("Peak learning rate: small models with small adapters take large rates (LLM Studio's 1e-4 is for 7B models)."),
    batchSize: z.number().int().min(1).default(8).describe("Samples per step."),
    dropout: z.number().min(0).max(0.99).default(0.05).describe("LoRA dropout (LLM Studio: 0.05)."),
    maxLength: z.number().int().min(16).default(128).describe("Longest sample in tokens (the model's context is 128)."),
    checkpointEvery: z.number().int().min(1).default(25).describe("Steps between checkpoints, so an interrupted demo resumes training mid-way."),
  })
  .describe("Fine-tuning settings shared by every LoRA variant");

export type DemoTrain = z.output<typeof DemoTrainSchema>;

export const DemoConfigSchema = z
  .strictObject({
    model: z.string().nullable().default(null).describe(`Base model folder; null = the embedded default model (${EMBEDDED_MODEL_DIR} in the package).`),
    suite: z.string().nullable().default(null).describe("Eval suite name or folder; null = the embedded skills suite (held-out questions of the instruction set)."),
    out: z.string().default("runs").describe("Folder that holds run folders; the demo writes OUT/<id>/."),
    cache: z.string().default(".cache/tslm-demo").describe("Adapters (keyed by base model + data + training settings) and the arena's answer cache: a second demo reuses both."),
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'")
      .nullable()
      .default(null)
      .describe("Run id; null = demo-<hash of everything that decides the results>, so a rerun finds (and resumes) the same run."),
    seed: z.number().int().default(0).describe("One seed for training (LoRA init, data order, dropout), the tournament and the bootstrap."),
    variants: z.array(DemoVariantSchema).min(2).prefault(DEFAULT_VARIANTS).describe("Contestants: the base model and fine-tuned variants."),
    train: DemoTrainSchema.prefault({}),
    prompts: z.number().int().positive().nullable().default(null).describe("Play only the first N prompts of the suite; null = all."),
    bootstrap: z.number().int().min(0).default(1000).describe("Bootstrap rounds for the confidence intervals (Chatbot Arena uses 100-1000)."),
    confidence: z.number().gt(0).lt(1).default(0.95).describe("Confidence level of the intervals."),
    maxNewTokens: z.number().int().positive().nullable().default(null).describe("Longest answer; null = the suite's setting."),
    llmJudge: z
      .union([
        z.literal(false),
        z.strictObject({
          baseUrl: z.string().url(),
          model: z.string().min(1),
          apiKeyEnv: z.string().optional(),
        }),
      ])
      .nullable()
      .default(null)
      .describe("An LLM judge beside the reference judge; null = from OPENAI_BASE_URL / TSLM_JUDGE_MODEL / OPENAI_API_KEY when set; false = never."),
    fast: z.boolean().default(false).describe("A reduced but real demo: 2 epochs, 3 contestants (no rank-1 LoRA), 24 prompts, 200 bootstrap rounds."),
  })
  .describe("Demo settings");

export type DemoConfig = z.output<typeof DemoConfigSchema>;
export type DemoConfigInput = z.input<typeof DemoConfigSchema>;

/** What `fast` changes (applied where the user did not set the field). */
export const FAST_OVERRIDES = {
  train: { epochs: 2 },
  variants: DEFAULT_VARIANTS.slice(0, 3),
  prompts: 24,
  bootstrap: 200,
} as const;
