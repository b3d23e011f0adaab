/**
 * Pretraining a small LLaMA-architecture model from scratch with tslm's own
 * pieces: a byte-level BPE tokenizer trained on the corpus
 * (`trainBpeTokenizer`), a randomly initialized model (`createModel`), and
 * the fine-tuning trainer in full-weight mode on packed text blocks. The
 * result is a Hugging Face model folder (config.json, model.safetensors,
 * tokenizer.json, tokenizer_config.json with a chat template that renders
 * LLM Studio's `<|prompt|>`/`<|answer|>` format).
 *
 * The corpus is an argument: the default model in models/ is made from
 * `defaultModelCorpus()` (lib/data/embedded/default-model.ts).
 */
import { mkdirSync } from "node:fs";
import { z, resolveConfig } from "../util/config.js";
import { DataError } from "../util/errors.js";
import { createModel, defineConfig } from "../model/create.js";
import { saveModel } from "../model/io.js";
import { ensureGradients } from "../model/gradients.js";
import { init } from "../tensor/init.js";
import { parameterCount } from "../model/memory.js";
import { trainBpeTokenizer } from "../tokenizer/bpe-trainer.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { finetune, type FinetuneRun, type TrainerDeps } from "./trainer.js";

/** Special tokens of tslm-made tokenizers: EOS/pad first, then LLM Studio's markers. */
export const PRETRAIN_SPECIAL_TOKENS = ["<|endoftext|>", "<|prompt|>", "<|answer|>", "<|system|>"];

/** A chat template that renders exactly LLM Studio's format (so chat prompts and training data agree). */
export const LLM_STUDIO_CHAT_TEMPLATE =
  "{%- for message in messages %}" +
  "{%- if message['role'] == 'system' %}{{- '<|system|>' + message['content'] + eos_token }}" +
  "{%- elif message['role'] == 'user' %}{{- '<|prompt|>' + message['content'] + eos_token }}" +
  "{%- else %}{{- '<|answer|>' + message['content'] + eos_token }}{%- endif %}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|answer|>' }}{%- endif %}";

export const PretrainConfigSchema = z
  .strictObject({
    out: z.string().describe("Folder the model is written to."),
    backend: z.enum(["auto", "tensorflow", "native", "wasm", "cpu"]).default("auto").describe("TF.js backend; auto picks the fastest available."),
    workDir: z.string().default("runs/pretrain").describe("Checkpoints and metrics of the pretraining run (not part of the model folder)."),
    vocabSize: z.number().int().min(300).default(512).describe("BPE vocabulary (4 special tokens + 256 bytes + merges)."),
    hiddenSize: z.number().int().min(8).default(128).describe("Model width."),
    numHiddenLayers: z.number().int().min(1).default(4).describe("Decoder layers."),
    numAttentionHeads: z.number().int().min(1).default(4).describe("Query heads."),
    numKeyValueHeads: z.number().int().min(1).default(2).describe("Key/value heads (grouped-query attention)."),
    intermediateSize: z.number().int().min(8).default(384).describe("SwiGLU width (a multiple of 64 keeps every layer 4-bit quantizable)."),
    seqLength: z.number().int().min(16).default(256).describe("Tokens per training block and the context length."),
    batchSize: z.number().int().min(1).default(8).describe("Blocks per step (8 x 256 = 2,048 tokens)."),
    steps: z.number().int().min(1).default(1500).describe("Optimizer steps (about 3M tokens: each block of the stream is seen once)."),
    lr: z.number().positive().default(3e-3).describe("Peak learning rate (small models take large rates)."),
    warmupSteps: z.number().int().min(0).default(100).describe("Linear warmup."),
    minLrRatio: z.number().min(0).max(1).default(0.1).describe("Cosine floor as a fraction of lr."),
    weightDecay: z.number().min(0).default(0.01).describe("AdamW weight decay."),
    seed: z.number().int().default(1).describe("Seed of the weights, data order and split."),
    checkpointEvery: z.number().int().min(0).default(250).describe("Checkpoint interval (the run resumes with resume: true)."),
    resume: z.boolean().default(false).describe("Continue an interrupted pretraining from workDir/checkpoints."),
  })
  .describe("Pretraining settings");

export type PretrainConfig = z.output<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;

/** What a model is pretrained on. */
export interface PretrainCorpus {
  /** The documents of the training stream (packed into blocks of `seqLength` tokens). */
  documents: readonly string[];
  /** What the tokenizer learns from; default: the first 20,000 documents. */
  tokenizerSample?: readonly string[];
}

export interface PretrainResult {
  dir: string;
  tokenizer: Tokenizer;
  parameters: number;
  run: FinetuneRun;
  config: PretrainConfig;
}

/**
 * Trains a tokenizer and a model from scratch on `corpus` (documents, or
 * documents and the tokenizer's sample) and saves them to `config.out`.
 * @example await pretrain(defaultModelCorpus(), { out: "models/tslm-tiny" })
 */
export async function pretrain(corpus: PretrainCorpus | readonly string[], input: PretrainConfigInput, deps: TrainerDeps = {}): Promise<PretrainResult> {
  const cfg = resolveConfig(PretrainConfigSchema, input);
  const { documents, tokenizerSample } = isDocumentList(corpus) ? { documents: corpus, tokenizerSample: undefined } : corpus;
  if (documents.length === 0) throw new DataError("the pretraining corpus has no documents");
  await init({ backend: cfg.backend });
  await ensureGradients();
  const bpe = trainBpeTokenizer(tokenizerSample ?? documents.slice(0, 20000), {
    vocabSize: cfg.vocabSize,
    specialTokens: PRETRAIN_SPECIAL_TOKENS,
    eosToken: "<|endoftext|>",
    padToken: "<|endoftext|>",
    bosToken: null,
    chatTemplate: LLM_STUDIO_CHAT_TEMPLATE,
    modelMaxLength: cfg.seqLength,
  });
  const tokenizer = bpe.tokenizer;
  const modelConfig = defineConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: cfg.hiddenSize,
    numHiddenLayers: cfg.numHiddenLayers,
    numAttentionHeads: cfg.numAttentionHeads,
    numKeyValueHeads: cfg.numKeyValueHeads,
    intermediateSize: cfg.intermediateSize,
    maxPositionEmbeddings: cfg.seqLength,
    tieWordEmbeddings: true,
    eosTokenIds: [tokenizer.eosTokenId!],
    padTokenId: tokenizer.padTokenId,
    bosTokenId: null,
  });
  const model = createModel(modelConfig, { seed: cfg.seed });
  model.tokenizer = tokenizer;
  mkdirSync(cfg.out, { recursive: true });
  const run = await finetune(
    {
      model,
      tokenizer,
      records: documents.map((text) => ({ text })),
      config: {
        method: "full",
        backend: cfg.backend,
        seed: cfg.seed,
        output: cfg.workDir,
        resume: cfg.resume,
        data: { pack: true, maxLength: cfg.seqLength, validationSize: 0.02 },
        lr: cfg.lr,
        weightDecay: cfg.weightDecay,
        warmupSteps: cfg.warmupSteps,
        minLrRatio: cfg.minLrRatio,
        batchSize: cfg.batchSize,
        maxSteps: cfg.steps,
        evalSteps: Math.max(1, Math.floor(cfg.steps / 10)),
        evalMaxSamples: 64,
        evalGenerate: false,
        checkpointEvery: cfg.checkpointEvery,
        keepCheckpoints: 1,
      },
    },
    deps,
  );
  await saveModel(model, cfg.out); // config, weights and the tokenizer files
  return { dir: cfg.out, tokenizer, parameters: parameterCount(model), run, config: cfg };
}

const isDocumentList = (c: PretrainCorpus | readonly string[]): c is readonly string[] => Array.isArray(c);
