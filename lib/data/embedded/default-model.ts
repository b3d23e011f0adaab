/**
 * The embedded default model in one place: its name and folder in the
 * package (models/tslm-tiny, a small LLaMA pretrained by `tslm pretrain` with
 * the defaults of PretrainConfigSchema), the corpus it is pretrained on, the
 * eval suite of its held-out split, and loading it. The demo, the notebooks,
 * the skills recipe, `tslm pretrain` and the tests all take it from here.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z, resolveConfig } from "../../util/config.js";
import { TslmError } from "../../util/errors.js";
import { packageInfo } from "../../util/package.js";
import { init } from "../../tensor/init.js";
import { loadModel } from "../../model/io.js";
import type { CausalLM } from "../../model/causal-lm.js";
import { embeddedSkills, EMBEDDED_WORLD_SEED } from "./skills.js";
import { pretrainingCorpus } from "./tasks.js";
import { SKILLS_SUITE_NAME } from "./suite.js";

/** Folder name of the embedded default model under models/. */
export const EMBEDDED_MODEL_NAME = "tslm-tiny";
/** Its folder relative to the package root. */
export const EMBEDDED_MODEL_DIR = `models/${EMBEDDED_MODEL_NAME}`;
/** The eval suite of its held-out split (eval-suites/embedded-skills in the package). */
export const EMBEDDED_SUITE = SKILLS_SUITE_NAME;

/** Absolute path of the embedded default model. */
export function embeddedModelDir(): string {
  return join(packageInfo().root, EMBEDDED_MODEL_DIR);
}

/** Loads the embedded default model (with its tokenizer), choosing the TF.js backend first if none is. */
export async function loadEmbeddedModel(): Promise<CausalLM> {
  await init();
  const dir = embeddedModelDir();
  if (!existsSync(join(dir, "config.json"))) {
    throw new TslmError(`the embedded default model is missing; recreate it with \`tslm pretrain --out ${EMBEDDED_MODEL_DIR}\``, { file: dir });
  }
  return loadModel(dir);
}

/** How the default model's pretraining corpus is made (the `tslm pretrain` flags of the same names). */
export const DefaultCorpusSchema = z.strictObject({
  worldSeed: z.number().int().default(EMBEDDED_WORLD_SEED).describe("embedded corpus: the seed of the generated world"),
  corpusRepeats: z.number().int().min(1).default(300).describe("embedded corpus: how many times each fact's sentences appear, each time in another shuffled context"),
});
export type DefaultCorpusOptions = z.input<typeof DefaultCorpusSchema>;

/**
 * The default model's pretraining corpus: the embedded world's prose, each
 * fact `corpusRepeats` times in differently shuffled documents (each block of
 * the stream is new, so the model learns the facts rather than the order of
 * one shuffle; a small corpus read for many epochs overfits it), and the
 * smaller sample its tokenizer learns from (two repeats hold every sentence
 * twice).
 * @example pretrain(defaultModelCorpus({ corpusRepeats: 1 }), { out: "runs/tiny", steps: 10 })
 */
export function defaultModelCorpus(options: DefaultCorpusOptions = {}): { documents: string[]; tokenizerSample: string[] } {
  const { worldSeed, corpusRepeats } = resolveConfig(DefaultCorpusSchema, options);
  const tasks = embeddedSkills(worldSeed).tasks;
  return {
    documents: pretrainingCorpus(tasks, worldSeed, { repeats: corpusRepeats }),
    tokenizerSample: pretrainingCorpus(tasks, worldSeed, { repeats: 2 }),
  };
}
