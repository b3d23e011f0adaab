/**
 * The skills recipe of the embedded default model, for the demo, the
 * notebooks, the benchmark and tests: the dataset of embedded skills (train
 * split; held-out split as validation) and the LoRA / QLoRA fine-tuning
 * settings behind the figures in docs/finetuning.md. The model itself (where
 * it lives, how it loads) is lib/data/embedded/default-model.ts.
 */
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { writeTextAtomic } from "../util/atomic.js";
import { TslmError } from "../util/errors.js";
import type { CausalLM } from "../model/causal-lm.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { loadDataset, type LoadedDataset } from "../data/dataset.js";
import { textTokenizer } from "../data/tokenizer-adapter.js";
import { embeddedSkills, EMBEDDED_WORLD_SEED } from "../data/embedded/skills.js";
import { taskRecords, pretrainingCorpus } from "../data/embedded/tasks.js";
import { embeddedModelDir, loadEmbeddedModel } from "../data/embedded/default-model.js";
import type { Sample } from "../data/encode.js";
import { quantizeModel, baseMemory } from "../model/quantize-model.js";
import type { TrainConfigInput } from "./config.js";
import { finetune, type FinetuneRun, type TrainerDeps } from "./trainer.js";
import { evaluate, sampleLosses, type EvalResult } from "./evaluate.js";

/** Dataset settings of the skills recipe: LLM Studio format, loss on answers, short samples. */
export const SKILLS_DATA = { maxLength: 128, validationSize: 0 } as const;

/**
 * Fine-tuning settings of the skills recipe (LoRA; QLoRA adds
 * `quantization: "nf4"`). LLM Studio's defaults (lr 1e-4, 1 epoch, r 4)
 * are made for billion-parameter models and thousands of examples; a
 * 0.9M-parameter model with 214 examples needs a larger rate and a few
 * epochs, which still take seconds.
 */
export const SKILLS_FINETUNE: TrainConfigInput = {
  lr: 2e-3,
  batchSize: 8,
  epochs: 6,
  lora: { r: 8, alpha: 16, dropout: 0.05 },
  data: SKILLS_DATA,
  maxNewTokens: 16,
  evalGenerate: true,
};

/** Train split as training data and the held-out split as validation, tokenized for `tokenizer`. */
export async function skillsDataset(tokenizer: Tokenizer, seed = EMBEDDED_WORLD_SEED): Promise<LoadedDataset> {
  const sk = embeddedSkills(seed);
  return loadDataset(SKILLS_DATA, textTokenizer(tokenizer), { records: taskRecords(sk.train), validationRecords: taskRecords(sk.heldOut) });
}

export interface SkillsRunOptions {
  variant: "lora" | "qlora";
  /** A loaded model (modified in place); default: the embedded model, loaded fresh. */
  model?: CausalLM;
  /** Output folder (adapter, checkpoints, metrics); default none. */
  output?: string | null;
  /** Settings laid over SKILLS_FINETUNE. */
  config?: TrainConfigInput;
}

/**
 * Fine-tunes the embedded model on the skills train split (LoRA, or QLoRA on
 * an nf4 base) and evaluates on the held-out split at the end.
 * @example const run = await finetuneSkills({ variant: "qlora" }); run.evals.at(-1)?.exactMatch
 */
export async function finetuneSkills(options: SkillsRunOptions, deps: TrainerDeps = {}): Promise<FinetuneRun> {
  const model = options.model ?? (await loadEmbeddedModel());
  if (!model.tokenizer) throw new TslmError("the model has no tokenizer");
  const dataset = await skillsDataset(model.tokenizer);
  const over = options.config ?? {};
  const config: TrainConfigInput = {
    ...SKILLS_FINETUNE,
    ...over,
    lora: { ...(SKILLS_FINETUNE.lora as object), ...(over.lora ?? {}) },
    quantization: options.variant === "qlora" ? "nf4" : "none",
    output: options.output ?? null,
    model: options.model ? null : embeddedModelDir(),
  };
  return finetune({ model, tokenizer: model.tokenizer, dataset, config }, deps);
}

/** Held-out exact match, BLEU, loss and perplexity of a model on the skills suite. */
export async function evaluateSkills(model: CausalLM, tokenizer: Tokenizer, maxNewTokens = 16): Promise<EvalResult> {
  const ds = await skillsDataset(tokenizer);
  return evaluate(model, tokenizer, ds.validation, { maxNewTokens, padId: tokenizer.padTokenId });
}

/**
 * Writes the skills data next to a model folder so the CLI can reproduce
 * the figures: `skills/train.jsonl`, `skills/heldout.jsonl` and
 * `skills-lora.yaml` (the recipe; paths relative to `cwd`). Returns the files.
 * @example tslm finetune models/tslm-tiny/skills-lora.yaml --output runs/lora
 */
export function writeSkillsFiles(modelDir: string, cwd = process.cwd(), seed = EMBEDDED_WORLD_SEED): string[] {
  const sk = embeddedSkills(seed);
  const dataDir = join(modelDir, "skills");
  mkdirSync(dataDir, { recursive: true });
  const train = join(dataDir, "train.jsonl");
  const heldOut = join(dataDir, "heldout.jsonl");
  const jsonl = (rows: Record<string, string>[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  writeTextAtomic(train, jsonl(taskRecords(sk.train)));
  writeTextAtomic(heldOut, jsonl(taskRecords(sk.heldOut)));
  const rel = (p: string) => relative(cwd, p) || ".";
  const recipe = {
    ...SKILLS_FINETUNE,
    model: rel(modelDir),
    data: { ...SKILLS_DATA, trainFile: rel(train), validationFile: rel(heldOut) },
  };
  const yamlFile = join(modelDir, "skills-lora.yaml");
  writeTextAtomic(
    yamlFile,
    "# LoRA fine-tuning of the embedded model on the embedded skills (train split), evaluated on the\n" +
      "# held-out split. Generated by tslm (lib/train/skills.ts). QLoRA: add --quantization nf4.\n" +
      "#   tslm finetune " + rel(yamlFile) + " --output runs/lora\n" +
      stringify(recipe),
  );
  return [train, heldOut, yamlFile];
}

export interface QuantizedPerplexity {
  quantization: "none" | "int8" | "int4" | "nf4";
  /** exp(mean token cross-entropy) on the corpus sample. */
  perplexity: number;
  /** Bytes of the quantized linear layers (float32 for "none"). */
  linearBytes: number;
  /** linearBytes / their float32 size. */
  linearRatio: number;
  /** All base weights (embedding and norms included) / float32. */
  baseRatio: number;
}

/**
 * Perplexity of the embedded model's base on fresh text from its corpus
 * (a new shuffle, so blocks differ from training), stored in float32, int8,
 * int4 and nf4: what quantizing the frozen base costs.
 */
export async function quantizationPerplexity(kinds: QuantizedPerplexity["quantization"][] = ["none", "int8", "int4", "nf4"], blocks = 24): Promise<QuantizedPerplexity[]> {
  const out: QuantizedPerplexity[] = [];
  let samples: Sample[] | null = null;
  for (const kind of kinds) {
    const model = await loadEmbeddedModel();
    const tok = model.tokenizer!;
    if (!samples) {
      const docs = pretrainingCorpus(embeddedSkills().tasks, 4242, { repeats: 2 });
      const ds = await loadDataset({ maxLength: model.config.maxPositionEmbeddings, pack: true, validationSize: 0 }, textTokenizer(tok), { records: docs.map((text) => ({ text })) });
      samples = ds.train.slice(0, blocks);
    }
    quantizeModel(model, kind);
    const { sums, counts } = sampleLosses(model, samples, 4, tok.padTokenId);
    const mem = baseMemory(model);
    const loss = sums.reduce((a, b) => a + b, 0) / counts.reduce((a, b) => a + b, 0);
    out.push({
      quantization: kind,
      perplexity: Math.exp(loss),
      linearBytes: kind === "none" ? mem.bytes - [...model.namedParameters().values()].reduce((n, v) => n + v.size * 4, 0) : mem.quantized.bytes,
      linearRatio: kind === "none" ? 1 : mem.quantized.ratio,
      baseRatio: mem.ratio,
    });
    model.dispose();
  }
  return out;
}
