/**
 * GGUF writer as an explicit state machine (as gguf-py's GGUFWriter):
 *
 *   "metadata" --addTensorInfo--> "tensor-info" --writeTensorData--> "data" --finish--> "done"
 *
 * Key/values may only be added in "metadata"; tensor infos in "metadata" or
 * "tensor-info"; the header is written when the first tensor's data comes;
 * tensor data must follow the declared order with the declared byte length.
 * Any call out of order throws a `GgufWriterError` naming the state. The
 * file is written to a temporary path and renamed on `finish()`.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { TslmError } from "../util/errors.js";
import { tempPathFor } from "../util/atomic.js";
import {
  GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUF_MAX_NAME, GGUF_VERSION, GgufValueType, ggmlTypeName,
} from "./gguf-constants.js";
import { ggmlByteLength } from "./gguf-quant.js";

export class GgufWriterError extends TslmError {}

export type WriterState = "metadata" | "tensor-info" | "data" | "done";

/** A metadata value with its GGUF type. Arrays give the item type. */
export type GgufValue =
  | { type: Exclude<GgufValueType, GgufValueType.ARRAY | GgufValueType.STRING | GgufValueType.BOOL>; value: number | bigint }
  | { type: GgufValueType.BOOL; value: boolean }
  | { type: GgufValueType.STRING; value: string }
  | { type: GgufValueType.ARRAY; itemType: GgufValueType; value: readonly (number | bigint | boolean | string)[] };

interface TensorInfo {
  name: string;
  /** GGUF order: ne[0] is the fastest-varying dimension. */
  ne: number[];
  type: number;
  byteLength: number;
  offset: number;
}

/** Growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private need(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number) { this.need(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number) { this.need(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number) { this.need(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number) { this.need(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number) { this.need(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number) { this.need(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number) { this.need(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number) { this.need(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: number | bigint) { this.need(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: number | bigint) { this.need(8); this.buf.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  str(s: string) {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.need(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeScalar(sink: ByteSink, type: GgufValueType, v: number | bigint | boolean | string, key: string): void {
  const bad = () => new GgufWriterError(`metadata '${key}': value ${String(v)} does not fit ${GgufValueType[type]}`, { key });
  switch (type) {
    case GgufValueType.UINT8: if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xff) throw bad(); sink.u8(v); break;
    case GgufValueType.INT8: if (typeof v !== "number" || !Number.isInteger(v) || v < -128 || v > 127) throw bad(); sink.i8(v); break;
    case GgufValueType.UINT16: if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) throw bad(); sink.u16(v); break;
    case GgufValueType.INT16: if (typeof v !== "number" || !Number.isInteger(v) || v < -32768 || v > 32767) throw bad(); sink.i16(v); break;
    case GgufValueType.UINT32: if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(); sink.u32(v); break;
    case GgufValueType.INT32: if (typeof v !== "number" || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw bad(); sink.i32(v); break;
    case GgufValueType.FLOAT32: if (typeof v !== "number") throw bad(); sink.f32(v); break;
    case GgufValueType.FLOAT64: if (typeof v !== "number") throw bad(); sink.f64(v); break;
    case GgufValueType.UINT64: if (typeof v !== "number" && typeof v !== "bigint") throw bad(); sink.u64(v); break;
    case GgufValueType.INT64: if (typeof v !== "number" && typeof v !== "bigint") throw bad(); sink.i64(v); break;
    case GgufValueType.BOOL: if (typeof v !== "boolean") throw bad(); sink.u8(v ? 1 : 0); break;
    case GgufValueType.STRING: if (typeof v !== "string") throw bad(); sink.str(v); break;
    default: throw new GgufWriterError(`metadata '${key}': unsupported value type ${type}`, { key });
  }
}

export class GgufWriter {
  private state: WriterState = "metadata";
  private readonly kv = new Map<string, GgufValue>();
  private readonly tensors: TensorInfo[] = [];
  private readonly tensorNames = new Set<string>();
  private next = 0;
  private fd: number | null = null;
  private written = 0;
  private readonly tmp: string;
  readonly alignment: number;

  constructor(readonly file: string, options: { alignment?: number } = {}) {
    this.alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(this.alignment) || this.alignment <= 0 || (this.alignment & (this.alignment - 1)) !== 0) {
      throw new GgufWriterError(`alignment must be a power of two, got ${this.alignment}`);
    }
    this.tmp = tempPathFor(file);
  }

  /** Current state of the machine. */
  get currentState(): WriterState {
    return this.state;
  }

  private expect(allowed: WriterState[], call: string): void {
    if (!allowed.includes(this.state)) {
      throw new GgufWriterError(`${call} is not allowed in state '${this.state}' (allowed in: ${allowed.join(", ")})`);
    }
  }

  /** Adds a metadata key/value (state "metadata" only). */
  addKeyValue(key: string, value: GgufValue): this {
    this.expect(["metadata"], `addKeyValue('${key}')`);
    if (this.kv.has(key)) throw new GgufWriterError(`duplicate metadata key '${key}'`, { key });
    if (key === "general.alignment") throw new GgufWriterError("set the alignment with the constructor option", { key });
    this.kv.set(key, value);
    return this;
  }

  /**
   * Declares a tensor. `shape` is in row-major (PyTorch/HF) order; it is
   * reversed into GGUF's ne[] order.
   */
  addTensorInfo(name: string, shape: readonly number[], type: number): this {
    this.expect(["metadata", "tensor-info"], `addTensorInfo('${name}')`);
    if (this.tensorNames.has(name)) throw new GgufWriterError(`duplicate tensor name '${name}'`, { key: name });
    if (Buffer.byteLength(name) >= GGUF_MAX_NAME) throw new GgufWriterError(`tensor name '${name}' is ${Buffer.byteLength(name)} bytes; GGUF allows < ${GGUF_MAX_NAME}`, { key: name });
    if (shape.length < 1 || shape.length > GGUF_MAX_DIMS) throw new GgufWriterError(`tensor '${name}' has ${shape.length} dims; 1..${GGUF_MAX_DIMS} allowed`, { key: name });
    const g = GGML_BLOCK[type];
    if (!g) throw new GgufWriterError(`tensor '${name}': unknown type ${type}`, { key: name });
    const ne = [...shape].reverse();
    if (ne[0] % g.blockSize !== 0) throw new GgufWriterError(`tensor '${name}': row length ${ne[0]} is not a multiple of the ${ggmlTypeName(type)} block size ${g.blockSize}`, { key: name });
    const count = shape.reduce((a, b) => a * b, 1);
    this.state = "tensor-info";
    this.tensorNames.add(name);
    this.tensors.push({ name, ne, type, byteLength: ggmlByteLength(type, count), offset: 0 });
    return this;
  }

  private pad(n: number): number {
    return (this.alignment - (n % this.alignment)) % this.alignment;
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd!, bytes, off, bytes.byteLength - off);
    this.written += bytes.byteLength;
  }

  private writeHeader(): void {
    const sink = new ByteSink();
    sink.u32(GGUF_MAGIC);
    sink.u32(GGUF_VERSION);
    sink.u64(this.tensors.length);
    const kvs = [...this.kv];
    const extraAlignment = this.alignment !== GGUF_DEFAULT_ALIGNMENT;
    sink.u64(kvs.length + (extraAlignment ? 1 : 0));
    if (extraAlignment) {
      sink.str("general.alignment");
      sink.u32(GgufValueType.UINT32);
      sink.u32(this.alignment);
    }
    for (const [key, v] of kvs) {
      sink.str(key);
      sink.u32(v.type);
      if (v.type === GgufValueType.ARRAY) {
        sink.u32(v.itemType);
        sink.u64(v.value.length);
        for (const item of v.value) writeScalar(sink, v.itemType, item, key);
      } else writeScalar(sink, v.type, v.value, key);
    }
    let offset = 0;
    for (const t of this.tensors) {
      t.offset = offset;
      offset += t.byteLength + this.pad(t.byteLength);
      sink.str(t.name);
      sink.u32(t.ne.length);
      for (const d of t.ne) sink.u64(d);
      sink.u32(t.type);
      sink.u64(t.offset);
    }
    this.fd = openSync(this.tmp, "w");
    this.writeAll(sink.bytes());
    this.writeAll(new Uint8Array(this.pad(sink.length)));
  }

  /** Writes the next tensor's data (already encoded in its declared type). */
  writeTensorData(name: string, bytes: Uint8Array): this {
    this.expect(["metadata", "tensor-info", "data"], `writeTensorData('${name}')`);
    if (this.state !== "data") {
      if (this.tensors.length === 0) throw new GgufWriterError("writeTensorData before any addTensorInfo");
      this.writeHeader();
      this.state = "data";
    }
    const t = this.tensors[this.next];
    if (!t) throw new GgufWriterError(`tensor '${name}' was not declared (all ${this.tensors.length} tensors are written)`, { key: name });
    if (t.name !== name) throw new GgufWriterError(`tensor data out of order: expected '${t.name}' next, got '${name}'`, { key: name });
    if (bytes.byteLength !== t.byteLength) {
      throw new GgufWriterError(`tensor '${name}' data is ${bytes.byteLength} bytes; ${ggmlTypeName(t.type)} ne=${JSON.stringify(t.ne)} needs ${t.byteLength}`, { key: name });
    }
    try {
      this.writeAll(bytes);
      this.writeAll(new Uint8Array(this.pad(bytes.byteLength)));
    } catch (e) {
      this.abort();
      throw e;
    }
    this.next++;
    return this;
  }

  /** Checks every tensor was written, syncs and renames into place. Returns the file size. */
  finish(): number {
    if (this.state === "metadata" && this.tensors.length === 0) {
      this.writeHeader(); // a metadata-only file is valid GGUF
      this.state = "data";
    }
    this.expect(["data"], "finish()");
    if (this.next !== this.tensors.length) {
      throw new GgufWriterError(`finish() with ${this.tensors.length - this.next} tensors unwritten (next: '${this.tensors[this.next].name}')`);
    }
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
    renameSync(this.tmp, this.file);
    this.state = "done";
    return this.written;
  }

  /** Discards the partial file. */
  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
    this.state = "done";
  }
}
