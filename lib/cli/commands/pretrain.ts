/**
 * `tslm pretrain --out DIR [flags]`: trains a BPE tokenizer and a small
 * LLaMA-architecture model from scratch on a corpus (by default the
 * embedded skills corpus) with tslm's own trainer. With no flags it makes
 * the default model of models/tslm-tiny; `--resume` continues an
 * interrupted run from its checkpoints.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { printResult } from "../output.js";
import { PretrainConfigSchema } from "../../train/pretrain.js";
import { configFlags } from "../../train/config-flags.js";
import { addConfigOptions, configFromFlags, resolveWithFile } from "./finetune.js";
import { DataError } from "../../util/errors.js";

/** Reads a corpus: `.txt` (documents separated by blank lines) or `.jsonl` with a `text` field. */
function readCorpus(file: string): string[] {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".jsonl")) {
    return text.split("\n").filter((l) => l.trim()).map((l, i) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch (e) {
        throw new DataError(`unparsable JSON line: ${(e as Error).message}`, { file, line: i + 1 });
      }
      const t = (v as { text?: unknown })?.text;
      if (typeof t !== "string") throw new DataError("each line needs a string 'text' field", { file, line: i + 1 });
      return t;
    });
  }
  return text.split(/\n\s*\n/).filter((d) => d.trim());
}

export function register(program: Command): void {
  const specs = configFlags(PretrainConfigSchema, { skip: ["corpus"] });
  const cmd = program
    .command("pretrain")
    .description("Pretrain a small LLaMA-architecture model and its BPE tokenizer from scratch (default: the embedded skills corpus).")
    .argument("[config]", "YAML file with pretraining settings; flags override it")
    .option("--corpus-file <file>", "corpus: .txt (blank-line separated documents) or .jsonl with a text field")
    .option("--json", "print one JSON object");
  addConfigOptions(cmd, specs);
  cmd.action(async (configFile: string | undefined, flags: Record<string, unknown>) => {
    const fromFlags = configFromFlags(flags, specs);
    if (typeof flags.corpusFile === "string") fromFlags.corpus = readCorpus(flags.corpusFile);
    const cfg = await resolveWithFile(PretrainConfigSchema, configFile, fromFlags);
    const { pretrain } = await import("../../train/pretrain.js");
    const r = await pretrain(cfg, { log: (l) => process.stderr.write(l + "\n") });
    const last = r.run.evals[r.run.evals.length - 1];
    const result = { dir: r.dir, parameters: r.parameters, vocabSize: r.tokenizer.vocabSize, steps: r.run.steps, validationLoss: last?.loss ?? null, throughput: r.run.throughput };
    printResult(flags.json as boolean | undefined, result, () =>
      `model written to ${r.dir}: ${r.parameters.toLocaleString("en-US")} parameters, vocabulary ${r.tokenizer.vocabSize}, ${r.run.steps} steps, validation loss ${last ? last.loss.toFixed(4) : "-"}, ${Math.round(r.run.throughput.tokensPerSecond)} tokens/s`,
    );
    r.run.model.dispose();
  });
}
