/**
 * What a finished run leaves behind: the adapter in PEFT format (LoRA runs)
 * or the full model (full fine-tuning), and on request the merged model as a
 * Hugging Face folder and a GGUF file for llama.cpp. Merged weights come from
 * the model's dense view of each layer (adapters added, 4-bit bases
 * dequantized), so the run's model itself is left as it was.
 */
import { join } from "node:path";
import type { CausalLM } from "../model/causal-lm.js";
import type { LoraModel } from "../model/lora-model.js";
import { saveAdapter } from "../model/peft.js";
import { saveModel } from "../model/io.js";
import { exportGguf } from "../model/export-gguf.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { TrainConfig } from "./config.js";

export interface ExportResult {
  /** PEFT adapter folder (LoRA runs). */
  adapterDir?: string;
  /** Full model folder (method "full"). */
  modelDir?: string;
  /** Merged Hugging Face folder (exportMerged). */
  mergedDir?: string;
  /** GGUF file (exportGguf). */
  ggufFile?: string;
}

export interface ExportInput {
  outputDir: string;
  cfg: Pick<TrainConfig, "model" | "exportMerged" | "exportGguf">;
  model: CausalLM;
  lora?: LoraModel;
  tokenizer: Tokenizer | null;
}

/** Writes the run's adapter (or model) and the configured exports under `outputDir`. */
export async function exportRun(input: ExportInput, log: (line: string) => void = () => {}): Promise<ExportResult> {
  const { outputDir, cfg, model, lora } = input;
  const out: ExportResult = {};
  if (!model.tokenizer && input.tokenizer) model.tokenizer = input.tokenizer;
  if (lora) {
    out.adapterDir = join(outputDir, "adapter");
    saveAdapter(out.adapterDir, lora, { baseModelNameOrPath: cfg.model });
    log(`adapter (PEFT format) written to ${out.adapterDir}`);
  } else {
    out.modelDir = join(outputDir, "model");
    await saveModel(model, out.modelDir);
    log(`model written to ${out.modelDir}`);
  }
  if (cfg.exportMerged && lora) {
    out.mergedDir = join(outputDir, "merged");
    await saveModel(model, out.mergedDir);
    log(`merged model written to ${out.mergedDir}`);
  }
  if (cfg.exportGguf !== "none") {
    out.ggufFile = join(outputDir, "model.gguf");
    exportGguf(model, out.ggufFile, { type: cfg.exportGguf, tokenizer: model.tokenizer ?? undefined });
    log(`GGUF (${cfg.exportGguf}) written to ${out.ggufFile}`);
  }
  return out;
}
