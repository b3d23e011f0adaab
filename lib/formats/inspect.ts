/**
 * Header summaries of model files for `tslm inspect`: GGUF, safetensors and
 * model folders. Reads headers only; arrays in GGUF metadata (vocabularies)
 * are summarized by type, length and first items.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { FileError, FormatError } from "../util/errors.js";
import { checkpointFiles, pickleRefusal } from "./checkpoint.js";
import { GGUF_MAGIC, GgufValueType } from "./gguf-constants.js";
import { readGguf } from "./gguf-reader.js";
import { configFromHf } from "./hf-config.js";
import { readSafetensorsHeader } from "./safetensors.js";
import { fsReason, readJsonFile } from "../util/files.js";

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

/** The formats `tslm inspect` reads, with what each expects at the start of the file. */
const EXPECTED = {
  gguf: 'a GGUF file (it starts with the magic "GGUF")',
  safetensors: "a safetensors file (an 8-byte little-endian header length, then a JSON header starting with '{')",
} as const;

type FileFormat = keyof typeof EXPECTED | "pickle";

/** The first bytes of a file, shown for a message: printable ASCII as text, the rest as hex. */
function showBytes(head: Buffer): string {
  if (head.length === 0) return "nothing";
  const printable = [...head].every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(head.toString("latin1")) : `bytes ${[...head].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`;
}

/** Whether the first bytes can start a safetensors file of `size` bytes: a header length inside the file, then '{'. */
function looksLikeSafetensors(head: Buffer, size: number): boolean {
  if (head.length < 9) return false;
  const n = head.readBigUInt64LE(0);
  return n > 0n && n <= BigInt(size - 8) && head[8] === 0x7b;
}

/**
 * Picks the format from the file's extension, else from its magic. A file
 * with neither is refused naming both formats and what the file starts
 * with; a file whose extension names a format is read by that format's
 * reader, which names what is wrong (a GGUF file with another magic: "bad
 * magic", as `tslm import gguf` says).
 */
function detectFormat(file: string, head: Buffer, size: number): FileFormat {
  const pickled = /\.(bin|pt|pth|ckpt|pkl)$/i.test(file) || head.toString("latin1", 0, 4) === "PK\x03\x04" || (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5);
  if (pickled) return "pickle";
  const ext = /\.(gguf|safetensors)$/i.exec(file)?.[1].toLowerCase() as keyof typeof EXPECTED | undefined;
  const expected = ext ? EXPECTED[ext] : `${EXPECTED.gguf} or ${EXPECTED.safetensors}`;
  if (size === 0) throw new FormatError(`the file is empty; expected ${expected}`, { file, offset: 0 });
  const gguf = head.length >= 4 && head.readUInt32LE(0) === GGUF_MAGIC;
  if (ext === "safetensors" && gguf) throw new FormatError(`not ${EXPECTED.safetensors}: it starts with the GGUF magic (a GGUF file named .safetensors?)`, { file, offset: 0 });
  if (ext) return ext;
  if (gguf) return "gguf";
  if (looksLikeSafetensors(head, size)) return "safetensors";
  throw new FormatError(`not ${expected}: it starts with ${showBytes(head.subarray(0, 8))}`, { file, offset: 0 });
}

function inspectFile(file: string): Inspection {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  const head = Buffer.alloc(Math.min(9, size));
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const format = detectFormat(file, head, size);
  if (format === "pickle") throw pickleRefusal(file);
  if (format === "gguf") {
    const g = readGguf(file);
    const metadata: Record<string, unknown> = {};
    for (const [k, v] of g.metadata) metadata[k] = summarizeValue(v.type, v.value);
    const tensors = g.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.typeName, offset: t.offset, bytes: t.byteLength }));
    return { kind: "gguf", file, bytes: size, version: g.version, alignment: g.alignment, dataOffset: g.dataOffset, metadata, tensors, elements: tensors.reduce((a, t) => a + count(t.shape), 0) };
  }
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
    throw new FileError(`cannot read: ${fsReason(e)}`, { file: path }, { cause: e });
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
