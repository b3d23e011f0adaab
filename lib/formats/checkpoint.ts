/**
 * Hugging Face checkpoint folders: `model.safetensors`, or shards
 * `model-00001-of-0000N.safetensors` listed by `model.safetensors.index.json`
 * (`{"metadata": {"total_size": n}, "weight_map": {tensor: shard}}`).
 *
 * Pickled PyTorch checkpoints (`pytorch_model.bin`, `*.pt`) are refused: the
 * pickle format can run arbitrary code when loaded, so tslm never opens one.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { FormatError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { decodeTensor, readSafetensorsHeader, readTensorBytes, writeSafetensors, SAFETENSORS_DTYPE_BYTES, type HostTensor, type SafetensorsEntry } from "./safetensors.js";
import { readJsonFile } from "../util/files.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

const PICKLE_NAMES = /^(pytorch_model.*\.bin|.*\.pt|.*\.pth|.*\.ckpt)$/;

/** The explanation given whenever a pickled checkpoint is found. */
export function pickleRefusal(file: string): FormatError {
  return new FormatError(
    "refusing to load a pickled PyTorch checkpoint: unpickling can run arbitrary code. " +
      "Convert it to safetensors first, for example with Python: " +
      "`AutoModelForCausalLM.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`",
    { file },
  );
}

/** Files of a checkpoint folder, in the order they should be read. */
export function checkpointFiles(dir: string): { files: string[]; weightMap: Map<string, string> | null } {
  const index = join(dir, INDEX_FILE);
  if (existsSync(index)) {
    const json = readJsonFile(index) as { weight_map?: unknown };
    const wm = json.weight_map;
    if (wm === null || typeof wm !== "object" || Array.isArray(wm)) throw new FormatError("shard index lacks a 'weight_map' object", { file: index, key: "weight_map" });
    const weightMap = new Map<string, string>();
    for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
      if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\") || shard.startsWith(".")) {
        throw new FormatError(`shard name must be a plain file name, got ${JSON.stringify(shard)}`, { file: index, key: `weight_map.${name}` });
      }
      weightMap.set(name, shard);
    }
    const files = [...new Set(weightMap.values())].sort();
    for (const f of files) {
      if (!existsSync(join(dir, f))) throw new FormatError(`shard '${f}' listed in the index is missing`, { file: index });
    }
    return { files: files.map((f) => join(dir, f)), weightMap };
  }
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) return { files: [single], weightMap: null };
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new FormatError(`cannot read model folder: ${(e as Error).message}`, { file: dir });
  }
  const pickle = names.find((n) => PICKLE_NAMES.test(n));
  if (pickle) throw pickleRefusal(join(dir, pickle));
  const other = names.filter((n) => n.endsWith(".safetensors")).sort();
  if (other.length > 0) return { files: other.map((n) => join(dir, n)), weightMap: null };
  throw new FormatError(`no ${SINGLE_FILE} or ${INDEX_FILE} in the model folder`, { file: dir });
}

/** Where one tensor of a checkpoint lies: its file and header entry. */
export interface CheckpointEntry {
  file: string;
  entry: SafetensorsEntry;
}

/**
 * Every tensor of a checkpoint folder (single file or sharded) by name, from
 * the headers alone: no tensor data is read. With an index, every listed
 * tensor must be in the shard it names, and no tensor may appear twice.
 */
export function checkpointEntries(dir: string, filter?: (name: string) => boolean): Map<string, CheckpointEntry> {
  const { files, weightMap } = checkpointFiles(dir);
  const out = new Map<string, CheckpointEntry>();
  for (const file of files) {
    for (const entry of readSafetensorsHeader(file).entries) {
      const name = entry.name;
      if (filter && !filter(name)) continue;
      if (out.has(name)) throw new FormatError(`tensor '${name}' appears in more than one shard`, { file, key: name });
      if (weightMap && weightMap.get(name) !== basename(file)) {
        throw new FormatError(`tensor '${name}' is in shard '${basename(file)}' but the index says '${weightMap.get(name) ?? "(not listed)"}'`, { file, key: name });
      }
      out.set(name, { file, entry });
    }
  }
  if (weightMap) {
    for (const [name, shard] of weightMap) {
      if ((!filter || filter(name)) && !out.has(name)) throw new FormatError(`tensor '${name}' listed in the index is not in '${shard}'`, { file: join(dir, INDEX_FILE), key: name });
    }
  }
  return out;
}

/**
 * Reads all tensors of a checkpoint folder (single file or sharded), widened
 * to float32 (int32 for I32). Loaders of large models read tensor by tensor
 * through `checkpointEntries` instead.
 */
export function readCheckpoint(dir: string, filter?: (name: string) => boolean): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, { file, entry }] of checkpointEntries(dir, filter)) out.set(name, decodeTensor(entry, readTensorBytes(file, entry), file));
  return out;
}

/** Tensor names, dtypes and shapes of a checkpoint without reading data. */
export function checkpointSummary(dir: string): { name: string; dtype: string; shape: number[]; file: string }[] {
  const { files } = checkpointFiles(dir);
  return files.flatMap((file) => readSafetensorsHeader(file).entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, file })));
}

export interface WriteCheckpointOptions {
  /** Largest shard in bytes before a new one starts (transformers' default is 5 GB). */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
}

/**
 * Writes tensors as a checkpoint folder: one `model.safetensors`, or shards
 * plus an index when they exceed `maxShardBytes`. Stale files of the other
 * layout are removed so the folder never holds both.
 */
export function writeCheckpoint(dir: string, tensors: Map<string, HostTensor>, options: WriteCheckpointOptions = {}): string[] {
  const maxShard = options.maxShardBytes ?? 5_000_000_000;
  const names = [...tensors.keys()].sort();
  const sizeOf = (t: HostTensor) => SAFETENSORS_DTYPE_BYTES[t.dtype ?? (t.data instanceof Int32Array ? "I32" : "F32")] * t.data.length;
  const shards: string[][] = [[]];
  let current = 0;
  let total = 0;
  for (const name of names) {
    const size = sizeOf(tensors.get(name)!);
    total += size;
    if (current > 0 && current + size > maxShard) {
      shards.push([]);
      current = 0;
    }
    shards[shards.length - 1].push(name);
    current += size;
  }
  const written: string[] = [];
  mkdirSync(dir, { recursive: true });
  const oldShards = existsSync(dir) ? readdirSync(dir).filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n)) : [];
  if (shards.length === 1) {
    const file = join(dir, SINGLE_FILE);
    writeSafetensors(file, tensors, options.metadata);
    written.push(file);
    rmSync(join(dir, INDEX_FILE), { force: true });
    for (const n of oldShards) rmSync(join(dir, n), { force: true });
    return written;
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  const weightMap: Record<string, string> = {};
  shards.forEach((group, i) => {
    const shardName = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    const sub = new Map(group.map((n) => [n, tensors.get(n)!]));
    writeSafetensors(join(dir, shardName), sub, options.metadata);
    for (const n of group) weightMap[n] = shardName;
    written.push(join(dir, shardName));
  });
  writeJsonAtomic(join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: weightMap });
  written.push(join(dir, INDEX_FILE));
  rmSync(join(dir, SINGLE_FILE), { force: true });
  const keep = new Set(Object.values(weightMap));
  for (const n of oldShards) if (!keep.has(n)) rmSync(join(dir, n), { force: true });
  return written;
}
