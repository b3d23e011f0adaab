/**
 * `tslm generate --model DIR --prompt "..." [--chat] [--json]`: loads a
 * Hugging Face model folder and generates a continuation (or, with --chat,
 * an assistant reply through the model's chat template), streaming text to
 * stdout unless --json.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { TslmError } from "../../util/errors.js";

interface GenerateFlags {
  model: string;
  prompt: string;
  chat?: boolean;
  system?: string;
  maxTokens: string;
  temperature: string;
  topK: string;
  topP: string;
  repetitionPenalty: string;
  seed: string;
  stop?: string[];
  noCache?: boolean;
  cache?: boolean;
  backend?: string;
  json?: boolean;
}

function number(flag: string, value: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range = [opts.min !== undefined ? `>= ${opts.min}` : "", opts.max !== undefined ? `<= ${opts.max}` : ""].filter(Boolean).join(" and ");
    throw new TslmError(`${flag} expects ${opts.integer ? "an integer" : "a number"}${range ? ` ${range}` : ""}, got '${value}'`, { key: flag });
  }
  return n;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("Generate text with a local model folder (config.json + safetensors + tokenizer.json).")
    .requiredOption("--model <dir>", "Hugging Face model folder")
    .requiredOption("--prompt <text>", "prompt text (the user message with --chat)")
    .option("--chat", "render the prompt as a user message through the model's chat template")
    .option("--system <text>", "with --chat: a system message first")
    .option("--max-tokens <n>", "most tokens to generate", "128")
    .option("--temperature <t>", "0 = greedy; > 0 samples", "0")
    .option("--top-k <k>", "sample from the k most likely tokens (0 = off)", "0")
    .option("--top-p <p>", "nucleus sampling threshold (1 = off)", "1")
    .option("--repetition-penalty <r>", "CTRL repetition penalty (1 = off)", "1")
    .option("--seed <n>", "sampling seed", "0")
    .option("--stop <text...>", "stop when the text contains one of these")
    .option("--no-cache", "recompute the whole sequence each step (for comparison)")
    .option("--backend <name>", "TF.js backend: auto, native, wasm, cpu (default: TSLM_BACKEND or auto)")
    .option("--json", "print one JSON object instead of streaming text")
    .action(async (flags: GenerateFlags) => {
      const options = {
        maxNewTokens: number("--max-tokens", flags.maxTokens, { integer: true, min: 0 }),
        temperature: number("--temperature", flags.temperature, { min: 0 }),
        topK: number("--top-k", flags.topK, { integer: true, min: 0 }),
        topP: number("--top-p", flags.topP, { min: 0, max: 1 }),
        repetitionPenalty: number("--repetition-penalty", flags.repetitionPenalty, { min: 0 }),
        seed: number("--seed", flags.seed, { integer: true }),
        stop: flags.stop,
        useCache: flags.cache !== false,
      };
      const { init } = await import("../../tensor/init.js");
      const backend = await init(flags.backend ? { backend: flags.backend as never } : {});
      const { loadModel } = await import("../../model/io.js");
      const { generate } = await import("../../model/generate.js");
      const model = await loadModel(flags.model);
      try {
        if (!model.tokenizer) throw new TslmError("the model folder has no tokenizer.json", { file: flags.model });
        const messages = flags.chat
          ? [...(flags.system ? [{ role: "system", content: flags.system }] : []), { role: "user", content: flags.prompt }]
          : null;
        if (!flags.chat && flags.system) throw new TslmError("--system needs --chat", { key: "--system" });
        const stream = !flags.json;
        const result = await generate(model, model.tokenizer, messages ?? flags.prompt, {
          ...options,
          onText: stream ? (t) => process.stdout.write(t) : undefined,
        });
        if (flags.json) {
          printResult(true, {
            model: flags.model,
            backend: backend.chosen,
            text: result.text,
            finish_reason: result.finishReason,
            usage: { prompt_tokens: result.usage.promptTokens, completion_tokens: result.usage.completionTokens },
            timings: { prefill_ms: result.timings.prefillMs, decode_ms: result.timings.decodeMs, tokens_per_second: result.timings.tokensPerSecond },
          }, () => "");
        } else {
          process.stdout.write("\n");
          process.stderr.write(
            `[${result.usage.completionTokens} tokens, ${result.timings.tokensPerSecond.toFixed(1)} tok/s, finish: ${result.finishReason}, backend: ${backend.chosen}]\n`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
