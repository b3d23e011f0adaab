/**
 * The fine-tuning configuration: one typed, strict schema for the library,
 * the CLI (YAML file and flags) and notebooks. Defaults are H2O LLM
 * Studio's where it has one (lr 1e-4, batch 2, 1 epoch, AdamW, cosine,
 * LoRA r 4 / alpha 16 / dropout 0.05 on every linear layer but the head,
 * loss on answers only, 1% validation, max length 512); each field says why.
 */
import { z } from "../util/config.js";
import { DataConfigSchema, MAX_BATCH, MAX_TOKENS } from "../data/config.js";

export const LoraConfigSchema = z
  .strictObject({
    r: z.number().int().min(1).default(4).describe("LoRA rank (LLM Studio: 4)."),
    alpha: z.number().positive().default(16).describe("LoRA alpha; updates are scaled by alpha / r (LLM Studio: 16)."),
    dropout: z.number().min(0).max(0.99).default(0.05).describe("Dropout on the adapter input while training (LLM Studio: 0.05)."),
    targetModules: z.union([z.array(z.string()), z.string()]).nullable().default(null).describe("Modules to adapt; null = every linear layer except the LM head (LLM Studio's empty list)."),
    useRslora: z.boolean().default(false).describe("Scale by alpha / sqrt(r) (rank-stabilized LoRA)."),
  })
  .describe("LoRA adapter settings");

export const TrainConfigSchema = z
  .strictObject({
    model: z.string().nullable().default(null).describe("Base model folder (Hugging Face layout). The library API can pass a loaded model instead."),
    output: z.string().nullable().default(null).describe("Output folder: checkpoints, metrics.jsonl, the PEFT adapter, exports."),
    seed: z.number().int().default(0).describe("Seed of every random choice (split, data order, LoRA init, dropout); LLM Studio draws one at random, tslm fixes it so runs repeat."),
    backend: z.enum(["auto", "tensorflow", "native", "wasm", "cpu"]).default("auto").describe("TF.js backend; auto picks the fastest available."),
    data: DataConfigSchema.prefault({}).describe("Dataset settings."),
    method: z.enum(["lora", "full"]).default("lora").describe("Train LoRA adapters on a frozen base (LLM Studio's default) or every weight."),
    lora: LoraConfigSchema.prefault({}).describe("LoRA settings (method lora)."),
    quantization: z.enum(["none", "int8", "int4", "nf4"]).default("none").describe("Frozen-base storage: none (float32), int8, or 4-bit int4/nf4 (QLoRA). LLM Studio defaults to 4-bit on GPUs; on CPU float32 trains faster, so tslm defaults to none."),
    gradientCheckpointing: z.enum(["auto", "on", "off"]).default("auto").describe("Activation checkpointing per decoder layer (transformers' gradient_checkpointing): keep each layer's input only and recompute the layer in the backward pass; the same loss and gradients for about one more forward pass of compute and a fraction of the activation memory. auto: on where the activations of a micro-batch would pass 1 GiB."),
    optimizer: z.enum(["adamw", "adam", "sgd"]).default("adamw").describe("AdamW with decoupled weight decay (LLM Studio's default), Adam, or SGD with Nesterov momentum."),
    lr: z.number().positive().default(1e-4).describe("Peak learning rate (LLM Studio: 1e-4)."),
    beta1: z.number().min(0).max(1).default(0.9).describe("Adam beta1 (PyTorch default)."),
    beta2: z.number().min(0).max(1).default(0.999).describe("Adam beta2 (PyTorch default)."),
    eps: z.number().positive().default(1e-8).describe("Adam epsilon (PyTorch default)."),
    weightDecay: z.number().min(0).default(0).describe("Weight decay on matrices (LLM Studio: 0)."),
    momentum: z.number().min(0).max(1).default(0.9).describe("SGD momentum (LLM Studio: 0.9)."),
    nesterov: z.boolean().default(true).describe("SGD Nesterov momentum (LLM Studio: on)."),
    schedule: z.enum(["cosine", "linear", "constant"]).default("cosine").describe("Learning-rate schedule after warmup (LLM Studio: cosine)."),
    warmupEpochs: z.number().min(0).default(0).describe("Linear warmup length in epochs (LLM Studio: 0)."),
    warmupSteps: z.number().int().min(0).default(0).describe("Linear warmup length in optimizer steps; used instead of warmupEpochs when > 0."),
    minLrRatio: z.number().min(0).max(1).default(0).describe("Floor of the decay as a fraction of lr (LLM Studio: 0)."),
    batchSize: z.number().int().min(1).max(MAX_BATCH).default(2).describe("Samples per micro-batch (LLM Studio: 2)."),
    gradAccumulation: z.number().int().min(1).max(MAX_BATCH).default(1).describe("Micro-batches per optimizer step (LLM Studio: 1)."),
    epochs: z.number().positive().default(1).describe("Passes over the training data (LLM Studio: 1); fractions allowed."),
    maxSteps: z.number().int().min(1).nullable().default(null).describe("Stop after this many optimizer steps (overrides epochs for the schedule length)."),
    gradClip: z.number().min(0).default(0).describe("Clip the global gradient norm to this value; 0 turns clipping off (LLM Studio: 0)."),
    loss: z.enum(["token-averaged", "sample-averaged"]).default("token-averaged").describe("Cross-entropy averaged over all answer tokens of a step (LLM Studio's default) or per sample first."),
    evaluateBeforeTraining: z.boolean().default(false).describe("Evaluate the model before the first step (LLM Studio: off)."),
    evalEpochs: z.number().positive().default(1).describe("Evaluate every this many epochs (LLM Studio: 1)."),
    evalSteps: z.number().int().min(1).nullable().default(null).describe("Evaluate every this many steps instead of evalEpochs."),
    evalBatchSize: z.number().int().min(1).max(MAX_BATCH).nullable().default(null).describe("Micro-batch size for validation loss; null = batchSize."),
    evalMaxSamples: z.number().int().min(1).nullable().default(null).describe("Evaluate on at most this many validation samples (the first ones); null = all."),
    evalGenerate: z.boolean().default(true).describe("Generate answers during evaluation for exact match and BLEU."),
    maxNewTokens: z.number().int().min(1).max(MAX_TOKENS).default(256).describe("Longest generated answer in evaluation (LLM Studio's max_length_inference: 256)."),
    checkpointEvery: z.number().int().min(0).default(0).describe("Write a resumable checkpoint every this many steps; 0 = at each evaluation and at the end."),
    keepCheckpoints: z.number().int().min(1).default(2).describe("Complete checkpoints kept on disk (older ones are deleted after a newer one is safely written)."),
    resume: z.boolean().default(false).describe("Continue from the newest complete checkpoint in output/checkpoints."),
    nanGuard: z.boolean().default(true).describe("Stop with a clear message when the loss or gradient norm is NaN or infinite, keeping the last good checkpoint."),
    exportMerged: z.boolean().default(false).describe("Also write the base with the adapter merged as a Hugging Face folder (output/merged)."),
    exportGguf: z.enum(["none", "f32", "f16", "q8_0"]).default("none").describe("Also write output/model.gguf (merged weights) for llama.cpp."),
  })
  .describe("Fine-tuning settings");

export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
export type LoraTrainConfig = z.output<typeof LoraConfigSchema>;

/** Every default, resolved. */
export const DEFAULT_TRAIN: TrainConfig = TrainConfigSchema.parse({});

/**
 * Keys whose values decide the training trajectory: a resumed run must use
 * the same values (output, resume, checkpointing, exports and evaluation
 * frequency may change).
 */
export const TRAJECTORY_KEYS: readonly (keyof TrainConfig)[] = [
  "seed", "data", "method", "lora", "quantization", "optimizer", "lr", "beta1", "beta2", "eps", "weightDecay", "momentum",
  "nesterov", "schedule", "warmupEpochs", "warmupSteps", "minLrRatio", "batchSize", "gradAccumulation", "epochs", "maxSteps",
  "gradClip", "loss",
];
