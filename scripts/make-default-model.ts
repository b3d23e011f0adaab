#!/usr/bin/env -S node --import tsx
/**
 * Makes (or re-measures) the embedded default model, models/tslm-tiny:
 *
 *   npx tsx scripts/make-default-model.ts            # pretrain, then write data, suite and model card
 *   npx tsx scripts/make-default-model.ts --measure  # keep the model; rewrite data, suite and figures
 *   npx tsx scripts/make-default-model.ts --resume   # continue an interrupted pretraining
 *
 * Steps: `tslm pretrain` recipe (tokenizer + model from scratch on the
 * generated corpus) -> skills data files and LoRA recipe next to the model ->
 * the embedded-skills eval suite -> figures (held-out exact match of the base,
 * LoRA and QLoRA; perplexity of the base stored in float32, int8, int4, nf4)
 * -> models/tslm-tiny/README.md.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { writeTextAtomic } from "../lib/formats/atomic.js";
import { init } from "../lib/tensor/init.js";
import { ensureGradients } from "../lib/model/gradients.js";
import { pretrain, PretrainConfigSchema } from "../lib/train/pretrain.js";
import { evaluateSkills, finetuneSkills, quantizationPerplexity, writeSkillsFiles, SKILLS_FINETUNE } from "../lib/train/skills.js";
import { DefaultCorpusSchema, defaultModelCorpus, embeddedModelDir, loadEmbeddedModel } from "../lib/data/embedded/default-model.js";
import { writeSkillsSuite, SKILLS_SUITE_NAME } from "../lib/data/embedded/suite.js";
import { embeddedSkills } from "../lib/data/embedded/skills.js";
import { packageInfo } from "../lib/util/package.js";
import { latestCheckpoint } from "../lib/train/checkpoint.js";
import { parameterCount } from "../lib/model/memory.js";

const args = process.argv.slice(2);
const root = packageInfo().root;
const dir = embeddedModelDir();
const log = (s: string) => process.stderr.write(s + "\n");

const report = await init();
await ensureGradients();
const t0 = performance.now();
let pretrainSeconds: number | null = null;
if (!args.includes("--measure")) {
  const r = await pretrain(defaultModelCorpus(), { out: dir, workDir: join(root, "runs", "pretrain"), resume: args.includes("--resume") }, { log });
  pretrainSeconds = (performance.now() - t0) / 1000;
  log(`pretrained ${r.parameters} parameters in ${pretrainSeconds.toFixed(0)} s (${Math.round(r.run.throughput.tokensPerSecond)} tokens/s)`);
  r.run.model.dispose();
}
if (pretrainSeconds === null) {
  // Measuring only: take the pretraining time from the run's last checkpoint, when it is still there.
  const ck = latestCheckpoint(join(root, "runs", "pretrain"));
  if (ck) pretrainSeconds = ck.state.seconds;
}
writeSkillsFiles(dir, root);
writeSkillsSuite(join(root, "eval-suites", SKILLS_SUITE_NAME));

const base = await loadEmbeddedModel();
const cfg = base.config;
const before = await evaluateSkills(base, base.tokenizer!);
const params = parameterCount(base);
base.dispose();
const runs: Record<string, { em: number; bleu: number; seconds: number; steps: number; tokensPerSecond: number; ratio: number }> = {};
for (const variant of ["lora", "qlora"] as const) {
  const t = performance.now();
  const run = await finetuneSkills({ variant }, { progress: "off" });
  const e = run.evals[run.evals.length - 1];
  runs[variant] = { em: e.exactMatch!, bleu: e.bleu!, seconds: (performance.now() - t) / 1000, steps: run.steps, tokensPerSecond: run.throughput.tokensPerSecond, ratio: run.prepared.memory.quantized.ratio };
  run.model.dispose();
}
const ppl = await quantizationPerplexity();
const sizeMB = statSync(join(dir, "model.safetensors")).size / 1e6;
const pc = { ...PretrainConfigSchema.parse({ out: dir }), ...DefaultCorpusSchema.parse({}) };
const sk = embeddedSkills();
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const card = `# tslm-tiny

The embedded default model of tslm: a small LLaMA-architecture decoder and a byte-level BPE tokenizer,
both trained from scratch by tslm's own code on a corpus tslm generates. It is the starting point of the
demo (\`npm start\`), the notebooks and the tests.

| | |
| --- | --- |
| architecture | \`llama\`: ${cfg.numHiddenLayers} layers, width ${cfg.hiddenSize}, ${cfg.numAttentionHeads} query heads / ${cfg.numKeyValueHeads} key-value heads (GQA), SwiGLU ${cfg.intermediateSize}, tied embeddings, RoPE θ ${cfg.ropeTheta} |
| parameters | ${params.toLocaleString("en-US")} (${sizeMB.toFixed(1)} MB of float32 safetensors) |
| tokenizer | byte-level BPE, ${cfg.vocabSize} tokens (4 special: \`<\\|endoftext\\|>\` EOS/pad, \`<\\|prompt\\|>\`, \`<\\|answer\\|>\`, \`<\\|system\\|>\`) |
| context | ${cfg.maxPositionEmbeddings} tokens |
| chat template | H2O LLM Studio's format: \`<\\|prompt\\|>question<\\|endoftext\\|><\\|answer\\|>answer<\\|endoftext\\|>\` |

## How it was made

\`tslm pretrain --out models/tslm-tiny\` (or \`npx tsx scripts/make-default-model.ts\`, which also writes
the files below and measures the figures). The corpus comes from a world generated with seed ${pc.worldSeed}:
${sk.world.people.length} people (home town, favourite colour, pet, job), ${sk.world.words.length} words (reversed, in
capitals), one-digit additions and names written last name first, ${sk.tasks.length} facts in all. Each fact is
stated three ways (a statement, the answer first, a question line followed by the bare answer); the stream
holds ${pc.corpusRepeats} differently shuffled copies, cut into ${pc.seqLength}-token blocks. Training: ${pc.steps} AdamW steps of
${pc.batchSize} blocks, lr ${pc.lr} (warmup ${pc.warmupSteps}, cosine to ${pc.minLrRatio * 100}%), weight decay ${pc.weightDecay}, seed ${pc.seed}.${
  pretrainSeconds !== null ? ` It took ${Math.round(pretrainSeconds / 60)} minutes on this machine's 2 shared CPU cores (${report.chosen} backend).` : ""
}

## What fine-tuning adds

The base model saw every fact in prose, but never the chat format. \`skills/train.jsonl\` (${sk.train.length} questions)
teaches the format; \`skills/heldout.jsonl\` (${sk.heldOut.length} questions, 20% of each category, also the
\`eval-suites/${SKILLS_SUITE_NAME}\` suite) measures it. Greedy answers, exact match after trimming:

| model | held-out exact match | BLEU | fine-tuning |
| --- | --- | --- | --- |
| base | ${pct(before.exactMatch!)} | ${before.bleu!.toFixed(1)} | - |
| LoRA (r ${(SKILLS_FINETUNE.lora as { r: number }).r}) | ${pct(runs.lora.em)} | ${runs.lora.bleu.toFixed(1)} | ${runs.lora.steps} steps, ${runs.lora.seconds.toFixed(0)} s |
| QLoRA (nf4 base) | ${pct(runs.qlora.em)} | ${runs.qlora.bleu.toFixed(1)} | ${runs.qlora.steps} steps, ${runs.qlora.seconds.toFixed(0)} s |

Reproduce: \`tslm finetune models/tslm-tiny/skills-lora.yaml --output runs/lora\` (add \`--quantization nf4\` for QLoRA),
or \`npm run bench -- finetune --only-quality\`.

## Quantized base

Perplexity on fresh corpus text (${ppl.length ? "24 blocks of a new shuffle" : ""}) with the frozen base stored in each format;
the embedding (tied with the head) and the norms stay float32:

| base weights | perplexity | linear layers vs float32 | all base weights vs float32 |
| --- | --- | --- | --- |
${ppl.map((p) => `| ${p.quantization === "none" ? "float32" : p.quantization} | ${p.perplexity.toFixed(4)} | ${pct(p.linearRatio)} | ${pct(p.baseRatio)} |`).join("\n")}
`;
writeTextAtomic(join(dir, "README.md"), card);
const summary = { backend: report.chosen, parameters: params, sizeMB, pretrainSeconds, base: before.exactMatch, lora: runs.lora, qlora: runs.qlora, perplexity: ppl };
process.stdout.write(JSON.stringify(summary) + "\n");
