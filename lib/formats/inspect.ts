/**
 * Header summaries of model files for `tslm inspect`: GGUF, safetensors and
 * model folders. Reads headers only; arrays in GGUF metadata (vocabularies)
 * are summarized by type, length and first items.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { FormatError } from "../util/errors.js";
import { checkpointFiles, pickleRefusal } from "./checkpoint.js";
import { GGUF_MAGIC, GgufValueType } from "./gguf-constants.js";
import { readGguf } from "./gguf-reader.js";
import { configFromHf } from "./hf-config.js";
import { readSafetensorsHeader } from "./safetensors.js";
import { readJsonFile } from "../util/files.js";

export interface TensorSummary {
  name: string;
  /** Row-major shape. */
  shape: number[];
  dtype: string;
  /** Absolute byte offset in its file. */
  offset: number;
  bytes: number;
  file?: string;
}

export type Inspection =
  | { kind: "gguf"; file: string; bytes: number; version: number; alignment: number; dataOffset: number; metadata: Record<string, unknown>; tensors: TensorSummary[]; elements: number }
  | { kind: "safetensors"; file: string; bytes: number; headerBytes: number; metadata: Record<string, string> | null; tensors: TensorSummary[]; elements: number }
  | { kind: "model-folder"; dir: string; config: Record<string, unknown>; files: string[]; tensors: TensorSummary[]; elements: number };

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function summarizeValue(type: GgufValueType, value: unknown): unknown {
  if (type !== GgufValueType.ARRAY) return typeof value === "bigint" ? value.toString() : value;
  const arr = value as unknown[];
  return { array: arr.length, first: arr.slice(0, 5).map((v) => (typeof v === "bigint" ? v.toString() : v)) };
}

function inspectFile(file: string): Inspection {
  if (/\.(bin|pt|pth|ckpt)$/i.test(file)) throw pickleRefusal(file);
  const fd = openSync(file, "r");
  const head = Buffer.alloc(4);
  const n = readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  const size = statSync(file).size;
  if (n === 4 && head.readUInt32LE(0) === GGUF_MAGIC) {
    const g = readGguf(file);
    const metadata: Record<string, unknown> = {};
    for (const [k, v] of g.metadata) metadata[k] = summarizeValue(v.type, v.value);
    const tensors = g.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.typeName, offset: t.offset, bytes: t.byteLength }));
    return { kind: "gguf", file, bytes: size, version: g.version, alignment: g.alignment, dataOffset: g.dataOffset, metadata, tensors, elements: tensors.reduce((a, t) => a + count(t.shape), 0) };
  }
  if (n === 4 && head.toString("latin1", 0, 2) === "PK") throw pickleRefusal(file); // zip-packed torch.save
  const h = readSafetensorsHeader(file);
  const tensors = h.entries.map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtype, offset: e.begin, bytes: e.end - e.begin }));
  return { kind: "safetensors", file, bytes: size, headerBytes: h.headerSize, metadata: h.metadata, tensors, elements: tensors.reduce((a, t) => a + count(t.shape), 0) };
}

/** Summarizes a GGUF file, a safetensors file or a model folder. */
export function inspectPath(path: string): Inspection {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new FormatError(`cannot read: ${(e as Error).message}`, { file: path });
  }
  if (!st.isDirectory()) return inspectFile(path);
  const cfgFile = join(path, "config.json");
  const config = existsSync(cfgFile) ? (configFromHf(readJsonFile(cfgFile), cfgFile) as unknown as Record<string, unknown>) : {};
  const { files } = checkpointFiles(path);
  const tensors = files.flatMap((f) =>
    readSafetensorsHeader(f).entries.map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtype, offset: e.begin, bytes: e.end - e.begin, file: basename(f) })),
  );
  return { kind: "model-folder", dir: path, config, files: files.map((f) => basename(f)), tensors, elements: tensors.reduce((a, t) => a + count(t.shape), 0) };
}

/** Human-readable summary, listing at most `maxTensors` tensors. */
export function formatInspection(info: Inspection, maxTensors = 20): string {
  const lines: string[] = [];
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  if (info.kind === "gguf") {
    lines.push(`GGUF v${info.version}: ${info.file} (${mb(info.bytes)}), ${info.tensors.length} tensors, ${info.elements.toLocaleString("en-US")} elements, alignment ${info.alignment}, data at byte ${info.dataOffset}`);
    lines.push("metadata:");
    for (const [k, v] of Object.entries(info.metadata)) {
      const arr = typeof v === "object" && v !== null && "array" in v ? (v as unknown as { array: number; first: unknown[] }) : null;
      const s = arr ? `[${arr.array} items: ${JSON.stringify(arr.first)}...]` : JSON.stringify(v);
      lines.push(`  ${k} = ${s.length > 120 ? s.slice(0, 117) + "..." : s}`);
    }
  } else if (info.kind === "safetensors") {
    lines.push(`safetensors: ${info.file} (${mb(info.bytes)}), header ${info.headerBytes} bytes, ${info.tensors.length} tensors, ${info.elements.toLocaleString("en-US")} elements`);
    if (info.metadata) lines.push(`metadata: ${JSON.stringify(info.metadata)}`);
  } else {
    lines.push(`model folder: ${info.dir}, files ${info.files.join(", ")}, ${info.tensors.length} tensors, ${info.elements.toLocaleString("en-US")} elements`);
    const c = info.config;
    if (c.modelType) {
      lines.push(`config: ${c.modelType}, vocab ${c.vocabSize}, hidden ${c.hiddenSize}, layers ${c.numHiddenLayers}, heads ${c.numAttentionHeads}/${c.numKeyValueHeads} (q/kv), head_dim ${c.headDim}, ffn ${c.intermediateSize}, tied head ${c.tieWordEmbeddings}`);
    }
  }
  lines.push("tensors:");
  for (const t of info.tensors.slice(0, maxTensors)) lines.push(`  ${t.name}  ${t.dtype}  [${t.shape.join(", ")}]  @${t.offset}  ${t.bytes} B`);
  if (info.tensors.length > maxTensors) lines.push(`  ... ${info.tensors.length - maxTensors} more (--all lists them)`);
  return lines.join("\n");
}
