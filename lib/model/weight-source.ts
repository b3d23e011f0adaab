/**
 * Where a model's weights come from, read one tensor at a time: an in-memory
 * map (a model built in code, a GGUF import) or a checkpoint folder on disk,
 * whose tensors are read by positioned reads only when the model takes them.
 * A loader that keeps 16-bit weights 16-bit asks for the stored halves; one
 * that computes in float32 asks for float32 values.
 */
import { checkpointEntries, type CheckpointEntry } from "../formats/checkpoint.js";
import { decodeTensor, readTensorBytes, type HostTensor, type StorageDtype } from "../formats/safetensors.js";
import { FormatError } from "../util/errors.js";
import { floatToBf16, floatToHalf } from "../formats/dtype.js";

export interface WeightSource {
  /** Every tensor's shape, by HF name. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** How a tensor is stored. */
  dtype(name: string): StorageDtype;
  /** The tensor's values as float32 (16-bit values widened exactly). */
  float32(name: string): Float32Array;
  /**
   * The tensor as 16-bit values of `kind`, two per int32 word (element j in
   * bits 16*(j%2)): the stored bytes themselves when it is stored as `kind`,
   * else rounded to nearest even.
   */
  words16(name: string, kind: "bf16" | "f16"): Int32Array;
  /** File or folder the weights come from, for error messages. */
  readonly origin?: string;
  /** true when `float32()` returns arrays no one else holds, which a model may take over without copying. */
  readonly fresh: boolean;
}

/** 16-bit values packed into int32 words, rounding float32 to nearest even. */
function packHalves(values: Float32Array, kind: "bf16" | "f16"): Int32Array {
  const halves = new Uint16Array(2 * Math.ceil(values.length / 2));
  const conv = kind === "bf16" ? floatToBf16 : floatToHalf;
  for (let j = 0; j < values.length; j++) halves[j] = conv(values[j]);
  return new Int32Array(halves.buffer);
}

/** A source over tensors already in memory. */
export function hostSource(weights: ReadonlyMap<string, HostTensor>, origin?: string): WeightSource {
  const get = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new FormatError(`missing tensor '${name}'`, { file: origin, key: name });
    return t;
  };
  return {
    origin,
    fresh: false,
    shapes: new Map([...weights].map(([n, t]) => [n, t.shape])),
    dtype: (name) => get(name).dtype ?? (get(name).data instanceof Int32Array ? "I32" : "F32"),
    float32: (name) => {
      const t = get(name);
      if (!(t.data instanceof Float32Array)) throw new FormatError(`tensor '${name}' is integer; float weights expected`, { file: origin, key: name });
      return t.data;
    },
    words16: (name, kind) => packHalves(get(name).data as Float32Array, kind),
  };
}

/** A source over a checkpoint folder (single file or shards): headers now, each tensor's bytes when taken. */
export function checkpointSource(dir: string): WeightSource {
  const entries = checkpointEntries(dir);
  const get = (name: string): CheckpointEntry => {
    const e = entries.get(name);
    if (!e) throw new FormatError(`missing tensor '${name}'`, { file: dir, key: name });
    return e;
  };
  return {
    origin: dir,
    fresh: true,
    shapes: new Map([...entries].map(([n, e]) => [n, e.entry.shape])),
    dtype: (name) => get(name).entry.dtype as StorageDtype,
    float32: (name) => {
      const { file, entry } = get(name);
      const t = decodeTensor(entry, readTensorBytes(file, entry), file);
      if (!(t.data instanceof Float32Array)) throw new FormatError(`tensor '${name}' is integer; float weights expected`, { file, key: name });
      return t.data;
    },
    words16: (name, kind) => {
      const { file, entry } = get(name);
      const stored = entry.dtype === "BF16" ? "bf16" : entry.dtype === "F16" ? "f16" : null;
      if (stored !== kind) {
        return packHalves(decodeTensor(entry, readTensorBytes(file, entry), file).data as Float32Array, kind);
      }
      const bytes = readTensorBytes(file, entry);
      // The read gives memory of its own; an odd element count needs a padded last word.
      if (bytes.byteOffset === 0 && bytes.byteLength % 4 === 0 && bytes.buffer.byteLength === bytes.byteLength) return new Int32Array(bytes.buffer);
      const words = new Int32Array(Math.ceil(bytes.byteLength / 4));
      new Uint8Array(words.buffer).set(bytes);
      return words;
    },
  };
}
