/**
 * `tslm generate --model DIR --prompt "..." [--chat] [--json]`: loads a
 * Hugging Face model folder and generates a continuation (or, with --chat,
 * an assistant reply through the model's chat template), streaming text to
 * stdout unless --json.
 */
import type { Command } from "commander";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { BACKEND_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { TslmError, UsageError } from "../../util/errors.js";
import { MAX_TOKENS } from "../../data/config.js";

const GenerateSchema = z.strictObject({
  model: z.string().describe("Hugging Face model folder"),
  prompt: z.string().describe("prompt text (the user message with --chat)"),
  chat: z.boolean().default(false).describe("render the prompt as a user message through the model's chat template"),
  system: z.string().optional().describe("with --chat: a system message first"),
  maxTokens: z.number().int().min(0).max(MAX_TOKENS).default(128).describe("most tokens to generate"),
  temperature: z.number().min(0).default(0).describe("0 = greedy; > 0 samples"),
  topK: z.number().int().min(0).default(0).describe("sample from the k most likely tokens (0 = off)"),
  topP: z.number().gt(0).max(1).default(1).describe("nucleus sampling threshold (1 = off)"),
  repetitionPenalty: z.number().positive().default(1).describe("CTRL repetition penalty (1 = off; below 1 favours repeats)"),
  seed: z.number().int().default(0).describe("sampling seed"),
  stop: z.array(z.string()).optional().describe("stop when the text contains one of these"),
  cache: z.boolean().default(true).describe("reuse the KV cache between steps"),
  ...BACKEND_FLAG,
  json: z.boolean().default(false).describe("print one JSON object instead of streaming text"),
});
type GenerateFlags = z.output<typeof GenerateSchema>;

async function run(flags: GenerateFlags): Promise<void> {
  if (!flags.chat && flags.system !== undefined) throw new UsageError("--system needs --chat", "--system");
  const { init } = await import("../../tensor/init.js");
  const backend = await init({ backend: flags.backend });
  const { loadModel } = await import("../../model/io.js");
  const { generate } = await import("../../model/generate.js");
  const model = await loadModel(flags.model, { base: "stored" }); // frozen: 16-bit checkpoints stay 16-bit
  try {
    if (!model.tokenizer) throw new TslmError("the model folder has no tokenizer.json", { file: flags.model });
    const messages = flags.chat ? [...(flags.system ? [{ role: "system", content: flags.system }] : []), { role: "user", content: flags.prompt }] : null;
    const result = await generate(model, model.tokenizer, messages ?? flags.prompt, {
      maxNewTokens: flags.maxTokens,
      temperature: flags.temperature,
      topK: flags.topK,
      topP: flags.topP,
      repetitionPenalty: flags.repetitionPenalty,
      seed: flags.seed,
      stop: flags.stop,
      useCache: flags.cache,
      onText: flags.json ? undefined : (t) => process.stdout.write(t),
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
      process.stderr.write(`[${result.usage.completionTokens} tokens, ${result.timings.tokensPerSecond.toFixed(1)} tok/s, finish: ${result.finishReason}, backend: ${backend.chosen}]\n`);
    }
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  defineCommand(program, {
    name: "generate",
    description: "Generate text with a local model folder (config.json + safetensors + tokenizer.json).",
    options: GenerateSchema,
    flags: {
      hints: { model: "<dir>", prompt: "<text>", system: "<text>", stop: "<text...>" },
      variadic: ["stop"],
      describe: { cache: "recompute the whole sequence each step instead of reusing the KV cache (for comparison)" },
    },
    run,
  });
}
