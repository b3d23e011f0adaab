/**
 * Loading and saving Hugging Face model folders: `config.json`,
 * safetensors weights (single file or sharded), `generation_config.json`
 * and the tokenizer files.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.js";
import { writeCheckpoint } from "../formats/checkpoint.js";
import { configFromHf, configToHf, type LlamaConfig } from "../formats/hf-config.js";
import type { StorageDtype } from "../formats/safetensors.js";
import { FormatError } from "../util/errors.js";
import { readJsonFile } from "../util/files.js";
import { loadTokenizer, saveTokenizer } from "../tokenizer/tokenizer.js";
import { CausalLM, type WeightStorage } from "./causal-lm.js";
import { checkpointSource } from "./weight-source.js";
import { ensureBackend } from "../tensor/init.js";

/** Reads `config.json` (plus the EOS ids of `generation_config.json`) of a model folder. */
export function readModelConfig(dir: string): LlamaConfig {
  const file = join(dir, "config.json");
  if (!existsSync(file)) throw new FormatError("no config.json in the model folder", { file: dir });
  const cfg = configFromHf(readJsonFile(file), file);
  const gen = join(dir, "generation_config.json");
  if (existsSync(gen)) {
    const g = readJsonFile(gen) as { eos_token_id?: unknown };
    const ids = Array.isArray(g.eos_token_id) ? g.eos_token_id : g.eos_token_id === undefined || g.eos_token_id === null ? [] : [g.eos_token_id];
    for (const id of ids) if (typeof id === "number" && Number.isInteger(id) && !cfg.eosTokenIds.includes(id)) cfg.eosTokenIds.push(id);
  }
  return cfg;
}

export interface LoadModelOptions extends WeightStorage {
  /** Load tokenizer.json too (default true when the folder has one). */
  tokenizer?: boolean;
}

/**
 * Loads a Hugging Face model folder (config.json + safetensors + tokenizer),
 * reading the weights one tensor at a time (positioned reads), so loading
 * peaks near the model's resident size. `base` chooses how weights are held:
 * float32 and trainable (default), frozen as stored (BF16/F16 stay 16-bit),
 * or quantized while loading.
 * @example const model = await loadModel("models/tiny"); model.tokenizer?.encode("hi")
 * @example const frozen = await loadModel("models/qwen2.5-0.5b", { base: "stored" }); // 16-bit, for LoRA or decoding
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<CausalLM> {
  await ensureBackend();
  const config = readModelConfig(dir);
  const model = new CausalLM(config, checkpointSource(dir), dir, options);
  const wantTok = options.tokenizer ?? existsSync(join(dir, "tokenizer.json"));
  if (wantTok) {
    try {
      model.tokenizer = loadTokenizer(dir);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return model;
}

export interface SaveModelOptions {
  /** Storage type of float weights (default F32; F16/BF16 halve the size, rounding to nearest even). */
  dtype?: StorageDtype;
  /** Shard when the weights pass this many bytes (default 5 GB, as transformers). */
  maxShardBytes?: number;
}

/**
 * Writes a model folder that transformers and tslm load: config.json,
 * generation_config.json, safetensors (sharded past `maxShardBytes`) and the
 * tokenizer files when the model has a tokenizer. Every file is written
 * atomically.
 */
export async function saveModel(model: CausalLM, dir: string, options: SaveModelOptions = {}): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const weights = model.weightsToHost();
  if (options.dtype && options.dtype !== "F32") for (const t of weights.values()) t.dtype = options.dtype;
  const written = writeCheckpoint(dir, weights, { maxShardBytes: options.maxShardBytes });
  const cfg = { ...model.config, torchDtype: { F32: "float32", F16: "float16", BF16: "bfloat16", I32: "float32" }[options.dtype ?? "F32"] };
  writeJsonAtomic(join(dir, "config.json"), configToHf(cfg));
  written.push(join(dir, "config.json"));
  const eos = model.config.eosTokenIds;
  writeJsonAtomic(join(dir, "generation_config.json"), {
    bos_token_id: model.config.bosTokenId,
    eos_token_id: eos.length === 1 ? eos[0] : eos.length === 0 ? null : eos,
    pad_token_id: model.config.padTokenId,
  });
  written.push(join(dir, "generation_config.json"));
  if (model.tokenizer) {
    saveTokenizer(model.tokenizer, dir);
    written.push(join(dir, "tokenizer.json"), join(dir, "tokenizer_config.json"));
  }
  return written;
}
