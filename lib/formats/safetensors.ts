/**
 * safetensors read and write (https://github.com/huggingface/safetensors).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`,
 * then the data buffer; offsets are relative to the buffer's start. The
 * reader validates every header field against the file size before it
 * allocates anything for tensor data: header length within limits and inside
 * the file, offsets contiguous (no gaps, no overlaps) and covering exactly the
 * buffer, byte lengths equal to shape x dtype size. `readSafetensors` widens
 * 16-bit floats to float32; `readTensorBytes` gives one tensor's stored bytes
 * (a positioned read), for loaders that keep 16-bit weights 16-bit or read a
 * checkpoint tensor by tensor.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { FormatError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { bf16BytesToFloat32, float32ToBf16Bytes, float32ToHalfBytes, halfBytesToFloat32 } from "./dtype.js";

/** Largest JSON header accepted (the safetensors crate's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype the format defines (tslm reads the first four). */
export const SAFETENSORS_DTYPE_BYTES: Record<string, number> = {
  F32: 4, F16: 2, BF16: 2, I32: 4,
  F64: 8, I64: 8, U64: 8, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Dtypes tslm loads (to float32, or int32 for I32) and writes. */
export type StorageDtype = "F32" | "F16" | "BF16" | "I32";
const READABLE: readonly string[] = ["F32", "F16", "BF16", "I32"];

/** A tensor in memory: row-major values and shape; `dtype` chooses the storage type on write. */
export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
  /** Storage type when written (default F32 for float data, I32 for int data). */
  dtype?: StorageDtype;
}

/** One header entry, with absolute byte offsets into the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute offsets in the file: [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  /** Length of the JSON header (N). */
  headerSize: number;
  /** Absolute offset of the data buffer (8 + N). */
  dataOffset: number;
  /** Entries in file order (sorted by offset). */
  entries: SafetensorsEntry[];
  metadata: Record<string, string> | null;
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  if (got < length) throw new Error(`short read: wanted ${length} bytes at ${position}, got ${got}`);
  return buf;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses and validates the header of an open file. */
function parseHeader(fd: number, file: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) {
    throw new FormatError(`truncated safetensors header: the file has ${fileSize} bytes, fewer than the 8-byte header length`, { file, offset: 0 });
  }
  const n = readExactly(fd, 8, 0).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file, or not safetensors)`, { file, offset: 0 });
  }
  const headerSize = Number(n);
  if (8 + headerSize > fileSize) {
    throw new FormatError(`safetensors header length ${headerSize} runs past the end of the file (${fileSize} bytes)`, { file, offset: 0 });
  }
  const text = readExactly(fd, headerSize, 8).toString("utf8");
  if (!text.startsWith("{")) throw new FormatError("safetensors header does not start with '{'", { file, offset: 8 });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`safetensors header is not valid JSON: ${(e as Error).message}`, { file, offset: 8 });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new FormatError("safetensors header must be a JSON object", { file, offset: 8 });
  }
  const dataOffset = 8 + headerSize;
  const dataSize = fileSize - dataOffset;
  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== "string")) {
        throw new FormatError("safetensors __metadata__ must map strings to strings", { file, key: "__metadata__" });
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== "object") throw new FormatError(`tensor entry must be an object`, { file, key: name });
    if (typeof e.dtype !== "string" || !(e.dtype in SAFETENSORS_DTYPE_BYTES)) {
      throw new FormatError(`unknown dtype ${JSON.stringify(e.dtype)}`, { file, key: `${name}.dtype` });
    }
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new FormatError(`shape must be a list of non-negative integers, got ${JSON.stringify(e.shape)}`, { file, key: `${name}.shape` });
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0) || offs[0] > offs[1]) {
      throw new FormatError(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`, { file, key: `${name}.data_offsets` });
    }
    const [b, end] = offs as number[];
    if (end > dataSize) {
      throw new FormatError(`data_offsets [${b}, ${end}] run past the data buffer (${dataSize} bytes)`, { file, key: `${name}.data_offsets`, offset: dataOffset + b });
    }
    const shape = e.shape as number[];
    const expected = product(shape) * SAFETENSORS_DTYPE_BYTES[e.dtype];
    if (expected !== end - b) {
      throw new FormatError(
        `dtype/shape mismatch: ${e.dtype} ${JSON.stringify(shape)} needs ${expected} bytes but data_offsets span ${end - b}`,
        { file, key: name, offset: dataOffset + b },
      );
    }
    entries.push({ name, dtype: e.dtype, shape, begin: dataOffset + b, end: dataOffset + end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = dataOffset;
  for (const e of entries) {
    if (e.begin < cursor) {
      const prev = entries[entries.indexOf(e) - 1];
      throw new FormatError(`tensor '${e.name}' overlaps '${prev.name}' (starts at data byte ${e.begin - dataOffset}, previous ends at ${cursor - dataOffset})`, { file, key: e.name, offset: e.begin });
    }
    if (e.begin > cursor) {
      throw new FormatError(`gap in the data buffer before tensor '${e.name}' (data bytes ${cursor - dataOffset}..${e.begin - dataOffset} belong to no tensor)`, { file, key: e.name, offset: cursor });
    }
    cursor = e.end;
  }
  if (cursor !== fileSize) {
    throw new FormatError(`the data buffer has ${fileSize - cursor} bytes after the last tensor (file ${fileSize} bytes, tensors end at ${cursor})`, { file, offset: cursor });
  }
  return { file, fileSize, headerSize, dataOffset, entries, metadata };
}

/**
 * Reads and validates a safetensors header without touching tensor data.
 * @throws FormatError naming the bad field and byte offset.
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openFile(file);
  try {
    return parseHeader(fd, file);
  } finally {
    closeSync(fd);
  }
}

function openFile(file: string): number {
  try {
    return openSync(file, "r");
  } catch (e) {
    throw new FormatError(`cannot open: ${(e as Error).message}`, { file }, { cause: e });
  }
}

/**
 * One tensor's stored bytes, read at its offset into memory of its own (the
 * rest of the file is not read).
 */
export function readTensorBytes(file: string, entry: SafetensorsEntry): Uint8Array {
  const fd = openFile(file);
  try {
    return readExactly(fd, entry.end - entry.begin, entry.begin);
  } finally {
    closeSync(fd);
  }
}

/** Converts one entry's bytes to a host tensor (float32, or int32 for I32). */
export function decodeTensor(entry: SafetensorsEntry, bytes: Uint8Array, file: string): HostTensor {
  return decode(entry, bytes as Buffer, file);
}

function decode(entry: SafetensorsEntry, bytes: Buffer, file: string): HostTensor {
  const count = product(entry.shape);
  switch (entry.dtype) {
    case "F32": {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return { shape: entry.shape, data: out, dtype: "F32" };
    }
    case "I32": {
      const out = new Int32Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return { shape: entry.shape, data: out, dtype: "I32" };
    }
    case "F16":
      return { shape: entry.shape, data: halfBytesToFloat32(bytes, count), dtype: "F16" };
    case "BF16":
      return { shape: entry.shape, data: bf16BytesToFloat32(bytes, count), dtype: "BF16" };
    default:
      throw new FormatError(`tensor '${entry.name}' has dtype ${entry.dtype}; tslm reads ${READABLE.join(", ")}`, { file, key: entry.name, offset: entry.begin });
  }
}

/**
 * Reads every tensor of a safetensors file (or those `filter` accepts).
 * @example const { tensors } = readSafetensors("model.safetensors"); tensors.get("model.norm.weight")!.shape
 */
export function readSafetensors(file: string, filter?: (name: string) => boolean): { tensors: Map<string, HostTensor>; metadata: Record<string, string> | null } {
  const fd = openFile(file);
  try {
    const header = parseHeader(fd, file);
    const tensors = new Map<string, HostTensor>();
    for (const e of header.entries) {
      if (filter && !filter(e.name)) continue;
      if (!READABLE.includes(e.dtype)) decode(e, Buffer.alloc(0), file); // throws the named error
      tensors.set(e.name, decode(e, readExactly(fd, e.end - e.begin, e.begin), file));
    }
    return { tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

function storageDtype(t: HostTensor): StorageDtype {
  if (t.dtype) return t.dtype;
  return t.data instanceof Int32Array ? "I32" : "F32";
}

function encode(name: string, t: HostTensor): Uint8Array {
  const dtype = storageDtype(t);
  if (product(t.shape) !== t.data.length) {
    throw new FormatError(`tensor '${name}' has ${t.data.length} values but shape ${JSON.stringify(t.shape)}`, { key: name });
  }
  const isInt = t.data instanceof Int32Array;
  if (isInt !== (dtype === "I32")) throw new FormatError(`tensor '${name}': ${isInt ? "int32" : "float32"} data cannot be stored as ${dtype}`, { key: name });
  switch (dtype) {
    case "F32":
    case "I32":
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    case "F16":
      return float32ToHalfBytes(t.data as Float32Array);
    case "BF16":
      return float32ToBf16Bytes(t.data as Float32Array);
  }
}

/**
 * Writes tensors to a safetensors file atomically, in name order, with
 * `{"format": "pt"}` metadata so transformers accepts it.
 */
export function writeSafetensors(file: string, tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: "pt", ...metadata } };
  let offset = 0;
  const lengths: number[] = [];
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = SAFETENSORS_DTYPE_BYTES[storageDtype(t)] * product(t.shape);
    header[name] = { dtype: storageDtype(t), shape: t.shape, data_offsets: [offset, offset + bytes] };
    lengths.push(bytes);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data buffer starts 8-byte aligned (as the reference writer does).
  const jsonBytes = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  writeFileAtomic(file, (append) => {
    append(len);
    append(headerBytes);
    names.forEach((name, i) => {
      const bytes = encode(name, tensors.get(name)!);
      if (bytes.byteLength !== lengths[i]) throw new FormatError(`tensor '${name}' encoded to ${bytes.byteLength} bytes, expected ${lengths[i]}`, { key: name });
      append(bytes);
    });
  });
}
