/**
 * `tslm finetune [CONFIG.yaml] [flags]`: LoRA / QLoRA / full fine-tuning.
 * Every key of the training config is also a flag (generated from the
 * schema); flags override the YAML file, which overrides the defaults.
 * The PEFT adapter lands in OUTPUT/adapter; Ctrl-C stops after the current
 * step with a checkpoint, and `--resume` continues exactly.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { TrainConfigSchema } from "../../train/config.js";
import { configFlags, mergeConfig, parseFlagValue, setPath, type FlagSpec, type FlagOptions } from "../../train/config-flags.js";
import type { z } from "../../util/config.js";
import { ConfigError } from "../../util/errors.js";

/** How training-config keys map to flags. */
export const TRAIN_FLAG_OPTIONS: FlagOptions = {
  groups: { data: "", lora: "lora-" },
  rename: { "data.trainFile": "data", "lora.r": "lora-rank" },
};

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds one option per config key to `cmd`. */
export function addConfigOptions(cmd: Command, specs: readonly FlagSpec[]): Command {
  for (const s of specs) {
    const help = s.description + (s.choices ? ` (${s.choices.join(", ")})` : "");
    if (s.kind === "boolean") {
      cmd.option(`--${s.name}`, help);
      cmd.option(`--no-${s.name}`, `turn off --${s.name}`);
    } else {
      const hint = s.kind === "list" || s.kind === "string-or-list" ? "<a,b,...>" : "<value>";
      cmd.option(`--${s.name} ${hint}`, help);
    }
  }
  return cmd;
}

/** The config object given by flags (only those present). */
export function configFromFlags(flags: Record<string, unknown>, specs: readonly FlagSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const v = flags[camel(s.name)];
    if (v === undefined) continue;
    setPath(out, s.path, parseFlagValue(s, v as string | boolean));
  }
  return out;
}

/** Reads an optional YAML file and merges flags over it; errors name the file, line and key. */
export async function resolveWithFile<S extends z.ZodType>(schema: S, file: string | undefined, fromFlags: Record<string, unknown>): Promise<z.output<S>> {
  const { readYaml, resolveConfig } = await import("../../util/config.js");
  if (!file) return resolveConfig(schema, fromFlags);
  const { value, lineOf } = readYaml(file);
  const base = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  return resolveConfig(schema, mergeConfig(base, fromFlags), { file, lineOf });
}

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

export function register(program: Command): void {
  const specs = configFlags(TrainConfigSchema, TRAIN_FLAG_OPTIONS);
  const cmd = program
    .command("finetune")
    .description("Fine-tune a model with LoRA, QLoRA (quantization int4/nf4/int8) or all weights; writes a PEFT adapter under --output.")
    .argument("[config]", "YAML (or JSON) file with training settings; flags override it")
    .option("--json", "print one JSON object with the run's results");
  addConfigOptions(cmd, specs);
  cmd.action(async (configFile: string | undefined, flags: Record<string, unknown>) => {
    const cfg = await resolveWithFile(TrainConfigSchema, configFile, configFromFlags(flags, specs));
    if (!cfg.output) throw new ConfigError("set --output DIR (or output: in the config file): the adapter, checkpoints and metrics go there", { key: "output" });
    const { finetune } = await import("../../train/trainer.js");
    const ctl = new AbortController();
    const onSigint = () => {
      process.stderr.write("\ntslm: stopping after this step (a checkpoint will be written; continue with --resume)\n");
      ctl.abort();
    };
    process.once("SIGINT", onSigint);
    let run;
    try {
      run = await finetune({ config: cfg }, { log: (l) => process.stderr.write(l + "\n"), signal: ctl.signal });
    } finally {
      process.removeListener("SIGINT", onSigint);
    }
    const last = run.evals[run.evals.length - 1];
    const result = {
      status: run.status,
      steps: run.steps,
      totalSteps: run.totalSteps,
      resumedFrom: run.resumedFrom,
      output: run.outputDir,
      ...run.exports,
      trainLoss: run.history.length ? run.history[run.history.length - 1].loss : null,
      eval: last ?? null,
      evals: run.evals,
      quantizedLayers: run.prepared.quantizedLayers,
      baseMemory: run.prepared.memory,
      throughput: run.throughput,
    };
    printResult(flags.json as boolean | undefined, result, () =>
      [
        `${run.status} ${run.steps}/${run.totalSteps} steps` + (run.resumedFrom !== null ? ` (resumed at ${run.resumedFrom})` : ""),
        `train loss ${fmt(result.trainLoss)}` + (last ? ` | val loss ${fmt(last.loss)} | perplexity ${fmt(last.perplexity, 3)}` + (last.exactMatch !== null ? ` | exact match ${(100 * last.exactMatch).toFixed(1)}% | BLEU ${fmt(last.bleu, 1)}` : "") : ""),
        `${Math.round(run.throughput.tokensPerSecond)} tokens/s` + (run.prepared.quantizedLayers ? ` | base weights ${(run.prepared.memory.bytes / 1e6).toFixed(2)} MB (${(100 * run.prepared.memory.ratio).toFixed(1)}% of float32)` : ""),
        ...(run.exports.adapterDir ? [`adapter: ${run.exports.adapterDir}`] : []),
        ...(run.exports.modelDir ? [`model: ${run.exports.modelDir}`] : []),
        ...(run.exports.mergedDir ? [`merged: ${run.exports.mergedDir}`] : []),
        ...(run.exports.ggufFile ? [`gguf: ${run.exports.ggufFile}`] : []),
      ].join("\n"),
    );
    run.model.dispose();
    if (run.status === "stopped") process.exitCode = 130;
  });
}
