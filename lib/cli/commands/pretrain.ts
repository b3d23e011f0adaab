/**
 * `tslm pretrain --out DIR [flags]`: trains a BPE tokenizer and a small
 * LLaMA-architecture model from scratch on a corpus (by default the
 * embedded skills corpus) with tslm's own trainer. With no flags it makes
 * the default model of models/tslm-tiny; `--resume` continues an
 * interrupted run from its checkpoints.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { flagsFromSchema, resolveFlags } from "../flags.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { PretrainConfigSchema } from "../../train/pretrain.js";
import { readCorpusFile } from "../../data/read.js";
import { DefaultCorpusSchema, defaultModelCorpus } from "../../data/embedded/default-model.js";

const PRETRAIN_SPECS = flagsFromSchema(PretrainConfigSchema, { hints: { out: "<dir>", workDir: "<dir>" }, configFile: true });
const CORPUS_SPECS = flagsFromSchema(DefaultCorpusSchema);

export function register(program: Command): void {
  defineCommand(program, {
    name: "pretrain",
    description: "Pretrain a small LLaMA-architecture model and its BPE tokenizer from scratch (default: the embedded skills corpus).",
    args: [["[config]", "YAML file with pretraining settings; flags override it"]],
    options: z.strictObject({
      corpusFile: z.string().optional().describe("corpus: .jsonl with a text field, or text with documents separated by blank lines (default: the embedded corpus)"),
      ...JSON_FLAG,
    }),
    flags: { hints: { corpusFile: "<file>" } },
    more: [PRETRAIN_SPECS, CORPUS_SPECS],
    async run(flags, [configFile]: [string | undefined], cmd) {
      const cfg = resolveFlags(PretrainConfigSchema, cmd, PRETRAIN_SPECS, configFile);
      const corpus = flags.corpusFile !== undefined ? readCorpusFile(flags.corpusFile) : defaultModelCorpus(resolveFlags(DefaultCorpusSchema, cmd, CORPUS_SPECS));
      const { pretrain } = await import("../../train/pretrain.js");
      const r = await pretrain(corpus, cfg, { log: (l) => process.stderr.write(l + "\n") });
      const last = r.run.evals[r.run.evals.length - 1];
      const result = { dir: r.dir, parameters: r.parameters, vocabSize: r.tokenizer.vocabSize, steps: r.run.steps, validationLoss: last?.loss ?? null, throughput: r.run.throughput };
      printResult(flags.json, result, () =>
        `model written to ${r.dir}: ${r.parameters.toLocaleString("en-US")} parameters, vocabulary ${r.tokenizer.vocabSize}, ${r.run.steps} steps, validation loss ${last ? last.loss.toFixed(4) : "-"}, ${Math.round(r.run.throughput.tokensPerSecond)} tokens/s`,
      );
      r.run.model.dispose();
    },
  });
}
