/**
 * GGUF reader. Checks, in order: magic, version, counts against the bytes
 * left, every string and array length before allocating it, duplicate keys,
 * `general.alignment`, each tensor info (name length, dims, type, row length
 * against the block size, offset alignment), duplicate tensor names, tensor
 * data inside the file and not overlapping. Errors are `FormatError`s with
 * the byte offset where the problem was found. The header is read on demand
 * (never the whole file), so a huge or corrupt file costs little.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { FormatError } from "../util/errors.js";
import {
  GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUF_MAX_NAME, GGUF_READABLE_VERSIONS, GGUF_VALUE_SIZE,
  GgufValueType, ggmlTypeName,
} from "./gguf-constants.js";
import { decodeGgml } from "./gguf-quant.js";

export type GgufScalar = number | bigint | boolean | string;
export interface GgufMetadataValue {
  type: GgufValueType;
  /** For arrays: the item type. */
  itemType?: GgufValueType;
  value: GgufScalar | GgufScalar[] | GgufScalar[][];
  /** Byte offset of the key in the file. */
  offset: number;
}

export interface GgufTensorInfo {
  name: string;
  /** GGUF order (ne[0] fastest). */
  ne: number[];
  /** Row-major order (ne reversed), as HF/PyTorch write shapes. */
  shape: number[];
  type: number;
  typeName: string;
  /** Offset relative to the data section, as stored. */
  relativeOffset: number;
  /** Absolute byte offset in the file. */
  offset: number;
  byteLength: number;
  /** Byte offset of this tensor info in the header. */
  infoOffset: number;
}

export interface GgufFile {
  file: string;
  fileSize: number;
  version: number;
  alignment: number;
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  /** Absolute offset of the data section. */
  dataOffset: number;
}

/** Reads the header bytes on demand, never past the file's end. */
class Cursor {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly fd: number, readonly size: number, private readonly file: string) {}

  fail(message: string, offset = this.pos): never {
    throw new FormatError(message, { file: this.file, offset });
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.size) this.fail(`truncated GGUF header: ${what} needs ${n} bytes at offset ${this.pos} but the file has ${this.size} bytes`);
    if (this.pos + n <= this.buf.length) return;
    const want = Math.min(this.size, Math.max(this.pos + n, this.buf.length * 2, 1 << 16));
    const next = Buffer.alloc(want);
    this.buf.copy(next);
    let got = this.buf.length;
    while (got < want) {
      const r = readSync(this.fd, next, got, want - got, got);
      if (r === 0) this.fail(`file shrank while reading (wanted ${want} bytes, got ${got})`);
      got += r;
    }
    this.buf = next;
  }

  remaining(): number {
    return this.size - this.pos;
  }

  u8(w = "u8") { this.need(1, w); return this.buf.readUInt8(this.pos++); }
  i8(w = "i8") { this.need(1, w); return this.buf.readInt8(this.pos++); }
  u16(w = "u16") { this.need(2, w); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  i16(w = "i16") { this.need(2, w); const v = this.buf.readInt16LE(this.pos); this.pos += 2; return v; }
  u32(w = "u32") { this.need(4, w); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  i32(w = "i32") { this.need(4, w); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return v; }
  f32(w = "f32") { this.need(4, w); const v = this.buf.readFloatLE(this.pos); this.pos += 4; return v; }
  f64(w = "f64") { this.need(8, w); const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
  u64big(w = "u64") { this.need(8, w); const v = this.buf.readBigUInt64LE(this.pos); this.pos += 8; return v; }
  i64big(w = "i64") { this.need(8, w); const v = this.buf.readBigInt64LE(this.pos); this.pos += 8; return v; }
  /** A u64 that must fit a JS number. */
  u64(w = "u64"): number {
    const at = this.pos;
    const v = this.u64big(w);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${w} = ${v} is implausibly large`, at);
    return Number(v);
  }
  str(what: string): string {
    const at = this.pos;
    const len = this.u64(`${what} length`);
    if (len > this.remaining()) this.fail(`${what}: string length ${len} runs past the end of the file (${this.remaining()} bytes left)`, at);
    this.need(len, what);
    const s = this.buf.toString("utf8", this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

function readScalar(c: Cursor, type: GgufValueType, what: string): GgufScalar {
  switch (type) {
    case GgufValueType.UINT8: return c.u8(what);
    case GgufValueType.INT8: return c.i8(what);
    case GgufValueType.UINT16: return c.u16(what);
    case GgufValueType.INT16: return c.i16(what);
    case GgufValueType.UINT32: return c.u32(what);
    case GgufValueType.INT32: return c.i32(what);
    case GgufValueType.FLOAT32: return c.f32(what);
    case GgufValueType.FLOAT64: return c.f64(what);
    case GgufValueType.UINT64: { const v = c.u64big(what); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
    case GgufValueType.INT64: { const v = c.i64big(what); return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v; }
    case GgufValueType.BOOL: {
      const at = c.pos;
      const b = c.u8(what);
      if (b > 1) c.fail(`${what}: bool byte is ${b}, expected 0 or 1`, at);
      return b === 1;
    }
    case GgufValueType.STRING: return c.str(what);
    default: return c.fail(`${what}: unknown value type ${type}`);
  }
}

/** Smallest encoded size of one item, to bound array counts before allocating. */
function minItemSize(type: GgufValueType): number {
  if (type === GgufValueType.STRING) return 8;
  if (type === GgufValueType.ARRAY) return 12;
  return GGUF_VALUE_SIZE[type] ?? 1;
}

function readValue(c: Cursor, type: GgufValueType, key: string, depth: number): { value: GgufMetadataValue["value"]; itemType?: GgufValueType } {
  if (type !== GgufValueType.ARRAY) return { value: readScalar(c, type, `value of '${key}'`) };
  const at = c.pos;
  const itemType = c.u32(`item type of '${key}'`);
  if (itemType > GgufValueType.FLOAT64) c.fail(`array '${key}': unknown item type ${itemType}`, at);
  const countAt = c.pos;
  const count = c.u64(`item count of '${key}'`);
  if (count * minItemSize(itemType) > c.remaining()) {
    c.fail(`array '${key}': ${count} items cannot fit in the ${c.remaining()} bytes left`, countAt);
  }
  if (itemType === GgufValueType.ARRAY) {
    if (depth >= 2) c.fail(`array '${key}': arrays nested too deep`, at);
    const items: GgufScalar[][] = [];
    // Nested arrays come back as their items; the nested item types are dropped.
    for (let i = 0; i < count; i++) items.push(readValue(c, GgufValueType.ARRAY, `${key}[${i}]`, depth + 1).value as GgufScalar[]);
    return { value: items, itemType };
  }
  const items: GgufScalar[] = new Array(count);
  for (let i = 0; i < count; i++) items[i] = readScalar(c, itemType, `'${key}'[${i}]`);
  return { value: items, itemType };
}

function parse(fd: number, file: string): GgufFile {
  const fileSize = fstatSync(fd).size;
  const c = new Cursor(fd, fileSize, file);
  if (fileSize < 4) c.fail(`truncated GGUF header: the file has ${fileSize} bytes, fewer than the 4-byte magic`, 0);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const shown = Buffer.alloc(4);
    shown.writeUInt32LE(magic);
    c.fail(`bad magic ${JSON.stringify(shown.toString("latin1"))} (0x${magic.toString(16)}); a GGUF file starts with "GGUF"`, 0);
  }
  const version = c.u32("version");
  if (!GGUF_READABLE_VERSIONS.includes(version)) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    const hint = GGUF_READABLE_VERSIONS.includes(swapped >>> 0) ? " (a big-endian GGUF file; tslm reads little-endian)" : "";
    c.fail(`unknown GGUF version ${version}${hint}; tslm reads versions ${GGUF_READABLE_VERSIONS.join(", ")}`, 4);
  }
  const tensorCountAt = c.pos;
  const tensorCount = c.u64("tensor count");
  const kvCountAt = c.pos;
  const kvCount = c.u64("metadata count");
  // Each tensor info takes at least 8 + 4 + 8 + 4 + 8 bytes; each key/value at least 8 + 4 + 1.
  if (tensorCount * 32 > c.remaining()) c.fail(`tensor count ${tensorCount} cannot fit in a ${fileSize}-byte file`, tensorCountAt);
  if (kvCount * 13 > c.remaining()) c.fail(`metadata count ${kvCount} cannot fit in a ${fileSize}-byte file`, kvCountAt);

  const metadata = new Map<string, GgufMetadataValue>();
  for (let i = 0; i < kvCount; i++) {
    const at = c.pos;
    const key = c.str(`key of metadata entry ${i}`);
    if (metadata.has(key)) c.fail(`duplicate metadata key '${key}'`, at);
    const typeAt = c.pos;
    const type = c.u32(`type of '${key}'`);
    if (type > GgufValueType.FLOAT64) c.fail(`metadata '${key}': unknown value type ${type}`, typeAt);
    const { value, itemType } = readValue(c, type, key, 0);
    metadata.set(key, { type, itemType, value, offset: at });
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get("general.alignment");
  if (al) {
    if (al.type !== GgufValueType.UINT32) c.fail(`general.alignment must be a u32, got ${GgufValueType[al.type]}`, al.offset);
    alignment = al.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) c.fail(`general.alignment ${alignment} is not a power of two`, al.offset);
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const infoOffset = c.pos;
    const name = c.str(`name of tensor ${i}`);
    if (Buffer.byteLength(name) >= GGUF_MAX_NAME) c.fail(`tensor name '${name.slice(0, 80)}' is longer than ${GGUF_MAX_NAME - 1} bytes`, infoOffset);
    if (names.has(name)) c.fail(`duplicate tensor name '${name}'`, infoOffset);
    names.add(name);
    const dimsAt = c.pos;
    const nDims = c.u32(`dims of '${name}'`);
    if (nDims < 1 || nDims > GGUF_MAX_DIMS) c.fail(`tensor '${name}' has ${nDims} dims; 1..${GGUF_MAX_DIMS} allowed`, dimsAt);
    const ne: number[] = [];
    let count = 1;
    for (let d = 0; d < nDims; d++) {
      const at = c.pos;
      const n = c.u64(`ne[${d}] of '${name}'`);
      count *= n;
      if (!Number.isSafeInteger(count)) c.fail(`tensor '${name}' has too many elements`, at);
      ne.push(n);
    }
    const typeAt = c.pos;
    const type = c.u32(`type of '${name}'`);
    const g = GGML_BLOCK[type];
    if (!g) c.fail(`tensor '${name}' has unknown type ${type}`, typeAt);
    if (ne[0] % g.blockSize !== 0) c.fail(`tensor '${name}': row length ${ne[0]} is not a multiple of the ${ggmlTypeName(type)} block size ${g.blockSize}`, dimsAt);
    const offAt = c.pos;
    const rel = c.u64(`offset of '${name}'`);
    if (rel % alignment !== 0) c.fail(`tensor '${name}' offset ${rel} is not aligned to ${alignment}`, offAt);
    tensors.push({
      name, ne, shape: [...ne].reverse(), type, typeName: ggmlTypeName(type), relativeOffset: rel, offset: 0,
      byteLength: (count / g.blockSize) * g.typeSize, infoOffset,
    });
  }
  const dataOffset = c.pos + ((alignment - (c.pos % alignment)) % alignment);
  if (tensors.length > 0 && dataOffset > fileSize) c.fail(`data section would start at ${dataOffset}, past the end of the file (${fileSize} bytes)`, c.pos);
  for (const t of tensors) {
    t.offset = dataOffset + t.relativeOffset;
    if (t.offset + t.byteLength > fileSize) {
      c.fail(`tensor '${t.name}' data [${t.offset}, ${t.offset + t.byteLength}) runs past the end of the file (${fileSize} bytes)`, t.infoOffset);
    }
  }
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (cur.offset < prev.offset + prev.byteLength) {
      c.fail(`tensor '${cur.name}' data (from ${cur.offset}) overlaps '${prev.name}' (until ${prev.offset + prev.byteLength})`, cur.infoOffset);
    }
  }
  return { file, fileSize, version, alignment, metadata, tensors, dataOffset };
}

/**
 * Reads and validates a GGUF header (metadata and tensor infos, no data).
 * @throws FormatError with the byte offset of the problem.
 */
export function readGguf(file: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new FormatError(`cannot open: ${(e as Error).message}`, { file }, { cause: e });
  }
  try {
    return parse(fd, file);
  } finally {
    closeSync(fd);
  }
}

/** A metadata value, or undefined. */
export function ggufValue(g: GgufFile, key: string): GgufMetadataValue["value"] | undefined {
  return g.metadata.get(key)?.value;
}

/** Reads one tensor's data as float32 (F32, F16, BF16, Q8_0). */
export function readGgufTensor(g: GgufFile, name: string): Float32Array {
  const t = g.tensors.find((x) => x.name === name);
  if (!t) throw new FormatError(`no tensor '${name}'`, { file: g.file, key: name });
  const fd = openSync(g.file, "r");
  try {
    const bytes = Buffer.alloc(t.byteLength);
    let got = 0;
    while (got < t.byteLength) {
      const r = readSync(fd, bytes, got, t.byteLength - got, t.offset + got);
      if (r === 0) throw new FormatError(`tensor '${name}' data is truncated`, { file: g.file, offset: t.offset + got });
      got += r;
    }
    return decodeGgml(bytes, t.type, t.ne.reduce((a, b) => a * b, 1), name);
  } finally {
    closeSync(fd);
  }
}
