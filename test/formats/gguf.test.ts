import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GgmlType, GgufValueType, GGUF_MAGIC } from "../../lib/formats/gguf-constants.js";
import { decodeGgml, encodeGgml } from "../../lib/formats/gguf-quant.js";
import { readGguf, readGgufTensor } from "../../lib/formats/gguf-reader.js";
import { GgufWriter, GgufWriterError } from "../../lib/formats/gguf-writer.js";
import { FormatError } from "../../lib/util/errors.js";
import { tempDir } from "../support/tmp.js";

/** Little-endian builder for hand-made corrupt files. */
class Bytes {
  private parts: Buffer[] = [];
  u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); return this; }
  u64(v: number | bigint) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); return this; }
  str(s: string) { const b = Buffer.from(s); this.u64(b.length); this.parts.push(b); return this; }
  raw(b: Uint8Array) { this.parts.push(Buffer.from(b)); return this; }
  pad(to: number) { const n = this.size() % to ? to - (this.size() % to) : 0; this.parts.push(Buffer.alloc(n)); return this; }
  size() { return this.parts.reduce((a, b) => a + b.length, 0); }
  build() { return Buffer.concat(this.parts); }
}

/** Header start: magic, version, counts. */
function header(tensors: number, kvs: number, version = 3): Bytes {
  return new Bytes().u32(GGUF_MAGIC).u32(version).u64(tensors).u64(kvs);
}

/** One tensor info: name, dims (GGUF order), type, offset. */
function info(b: Bytes, name: string, ne: number[], type: number, offset: number): Bytes {
  b.str(name).u32(ne.length);
  for (const d of ne) b.u64(d);
  return b.u32(type).u64(offset);
}

function expectFormatError(file: string, pattern: RegExp): FormatError {
  try {
    readGguf(file);
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, pattern);
    assert.equal(typeof e.location.offset, "number", "the error names a byte offset");
    return e;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

describe("formats/gguf", () => {
  const dir = tempDir();

  it("writes and reads back metadata of every type and F32/F16/Q8_0 tensors", () => {
    const file = join(dir, "rt.gguf");
    const w = new GgufWriter(file);
    w.addKeyValue("general.architecture", { type: GgufValueType.STRING, value: "llama" });
    w.addKeyValue("t.u8", { type: GgufValueType.UINT8, value: 200 });
    w.addKeyValue("t.i16", { type: GgufValueType.INT16, value: -300 });
    w.addKeyValue("t.u32", { type: GgufValueType.UINT32, value: 4000000000 });
    w.addKeyValue("t.i64", { type: GgufValueType.INT64, value: -5n });
    w.addKeyValue("t.u64", { type: GgufValueType.UINT64, value: 2n ** 60n });
    w.addKeyValue("t.f32", { type: GgufValueType.FLOAT32, value: 0.5 });
    w.addKeyValue("t.f64", { type: GgufValueType.FLOAT64, value: Math.PI });
    w.addKeyValue("t.bool", { type: GgufValueType.BOOL, value: true });
    w.addKeyValue("t.strs", { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ["a", "Ġb", "日本", ""] });
    w.addKeyValue("t.ints", { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: [1, -2, 3] });
    const a = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i) * 3);
    const b = Float32Array.from({ length: 10 }, (_, i) => i / 7);
    w.addTensorInfo("a.q8", [3, 64], GgmlType.Q8_0);
    w.addTensorInfo("b.f16", [10], GgmlType.F16);
    w.addTensorInfo("c.f32", [2, 5], GgmlType.F32);
    w.writeTensorData("a.q8", encodeGgml(a, GgmlType.Q8_0));
    w.writeTensorData("b.f16", encodeGgml(b, GgmlType.F16));
    w.writeTensorData("c.f32", encodeGgml(b, GgmlType.F32));
    w.finish();

    const g = readGguf(file);
    assert.equal(g.version, 3);
    assert.equal(g.metadata.get("t.u8")!.value, 200);
    assert.equal(g.metadata.get("t.i16")!.value, -300);
    assert.equal(g.metadata.get("t.u32")!.value, 4000000000);
    assert.equal(g.metadata.get("t.i64")!.value, -5);
    assert.equal(g.metadata.get("t.u64")!.value, 2n ** 60n);
    assert.equal(g.metadata.get("t.f64")!.value, Math.PI);
    assert.equal(g.metadata.get("t.bool")!.value, true);
    assert.deepEqual(g.metadata.get("t.strs")!.value, ["a", "Ġb", "日本", ""]);
    assert.deepEqual(g.metadata.get("t.ints")!.value, [1, -2, 3]);
    const t = g.tensors.find((x) => x.name === "a.q8")!;
    assert.deepEqual(t.ne, [64, 3]);
    assert.deepEqual(t.shape, [3, 64]);
    assert.equal(t.byteLength, 6 * 34);
    for (const x of g.tensors) assert.equal(x.offset % 32, 0, `${x.name} aligned`);
    // Q8_0: error within half a quantization step of each block.
    const aq = readGgufTensor(g, "a.q8");
    for (let blk = 0; blk < 6; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(a[blk * 32 + j]));
      for (let j = 0; j < 32; j++) assert.ok(Math.abs(aq[blk * 32 + j] - a[blk * 32 + j]) <= (amax / 127) * 0.5 + amax * 1e-3);
    }
    const bf = readGgufTensor(g, "b.f16");
    b.forEach((v, i) => assert.ok(Math.abs(bf[i] - v) <= Math.abs(v) * 2 ** -11 + 1e-7));
    assert.deepEqual([...readGgufTensor(g, "c.f32")], [...b]);
  });

  it("Q8_0 matches ggml's reference on a hand-computed block", () => {
    const x = new Float32Array(32);
    x[0] = 1.27; x[1] = -0.635; x[2] = 0.005; x[3] = 0.0149;
    const bytes = encodeGgml(x, GgmlType.Q8_0);
    const d = new DataView(bytes.buffer);
    assert.equal(d.getInt8(2), 127);
    assert.equal(d.getInt8(3), -64); // -0.635 / 0.01 = -63.5 -> roundf away from zero
    assert.equal(d.getInt8(4), 1); // 0.5 -> 1
    assert.equal(d.getInt8(5), 1);
    const back = decodeGgml(bytes, GgmlType.Q8_0, 32);
    assert.ok(Math.abs(back[0] - 1.27) < 1e-3);
  });

  describe("writer state machine", () => {
    it("refuses out-of-order calls, naming the state", () => {
      const w = new GgufWriter(join(dir, "sm.gguf"));
      w.addKeyValue("a", { type: GgufValueType.UINT32, value: 1 });
      assert.throws(() => w.addKeyValue("a", { type: GgufValueType.UINT32, value: 2 }), /duplicate metadata key 'a'/);
      w.addTensorInfo("x", [4], GgmlType.F32);
      assert.throws(() => w.addKeyValue("b", { type: GgufValueType.UINT32, value: 1 }), (e: unknown) => e instanceof GgufWriterError && /not allowed in state 'tensor-info'/.test(e.message));
      w.addTensorInfo("y", [2], GgmlType.F32);
      assert.throws(() => w.writeTensorData("y", new Uint8Array(8)), /out of order: expected 'x' next, got 'y'/);
      assert.throws(() => w.writeTensorData("x", new Uint8Array(12)), /'x' data is 12 bytes; F32 ne=\[4\] needs 16/);
      w.writeTensorData("x", new Uint8Array(16));
      assert.throws(() => w.addTensorInfo("z", [2], GgmlType.F32), /not allowed in state 'data'/);
      assert.throws(() => w.finish(), /1 tensors unwritten \(next: 'y'\)/);
      w.writeTensorData("y", new Uint8Array(8));
      assert.throws(() => w.writeTensorData("y", new Uint8Array(8)), /was not declared/);
      w.finish();
      assert.throws(() => w.finish(), /not allowed in state 'done'/);
      assert.equal(readGguf(join(dir, "sm.gguf")).tensors.length, 2);
    });

    it("checks values and tensor geometry, and leaves no file when aborted", () => {
      const file = join(dir, "bad.gguf");
      const w = new GgufWriter(file);
      assert.throws(() => new GgufWriter(file, { alignment: 24 }), /power of two/);
      w.addKeyValue("u8", { type: GgufValueType.UINT8, value: 300 });
      assert.throws(() => w.addTensorInfo("q", [2, 31], GgmlType.Q8_0), /row length 31 is not a multiple of the Q8_0 block size 32/);
      assert.throws(() => w.addTensorInfo("x".repeat(64), [1], GgmlType.F32), /GGUF allows < 64/);
      w.addTensorInfo("ok", [1], GgmlType.F32);
      assert.throws(() => w.writeTensorData("ok", new Uint8Array(4)), /value 300 does not fit UINT8/);
      w.abort();
      assert.equal(existsSync(file), false);
      assert.deepEqual(readdirSync(dir).filter((n) => n.includes(".bad.gguf.tmp")), []);
    });
  });

  describe("corrupt files (one per failure mode)", () => {
    const write = (name: string, b: Buffer | Bytes) => {
      const file = join(dir, name);
      writeFileSync(file, b instanceof Bytes ? b.build() : b);
      return file;
    };

    it("truncated header", () => {
      expectFormatError(write("trunc0.gguf", Buffer.from("GG")), /fewer than the 4-byte magic/);
      expectFormatError(write("trunc1.gguf", header(0, 0).build().subarray(0, 12)), /truncated GGUF header: tensor count needs 8 bytes at offset 8/);
      // A key/value cut in the middle of its string.
      const full = header(0, 1).str("general.architecture").u32(GgufValueType.STRING).str("llama").build();
      expectFormatError(write("trunc2.gguf", full.subarray(0, full.length - 3)), /string length 5 runs past the end of the file/);
    });

    it("bad magic", () => {
      const e = expectFormatError(write("magic.gguf", new Bytes().raw(Buffer.from("GGML")).u32(3).u64(0).u64(0)), /bad magic "GGML".*starts with "GGUF"/);
      assert.equal(e.location.offset, 0);
    });

    it("unknown version (and big-endian files)", () => {
      const e = expectFormatError(write("v9.gguf", header(0, 0, 9)), /unknown GGUF version 9; tslm reads versions 2, 3/);
      assert.equal(e.location.offset, 4);
      expectFormatError(write("v1.gguf", header(0, 0, 1)), /unknown GGUF version 1/);
      expectFormatError(write("be.gguf", header(0, 0, 0x03000000)), /big-endian/);
    });

    it("counts that cannot fit the file (no huge allocation)", () => {
      expectFormatError(write("tcount.gguf", header(2 ** 40, 0)), /tensor count 1099511627776 cannot fit/);
      expectFormatError(write("kvcount.gguf", header(0, 2 ** 50)), /metadata count .* cannot fit/);
      const arr = header(0, 1).str("tokens").u32(GgufValueType.ARRAY).u32(GgufValueType.STRING).u64(2 ** 40);
      expectFormatError(write("array.gguf", arr), /array 'tokens': 1099511627776 items cannot fit/);
      expectFormatError(write("strlen.gguf", header(0, 1).u64(2 ** 52).raw(new Uint8Array(16))), /string length 4503599627370496 runs past the end/);
    });

    it("duplicate metadata keys and bad value types", () => {
      const dup = header(0, 2).str("a").u32(GgufValueType.UINT32).u32(1).str("a").u32(GgufValueType.UINT32).u32(2);
      expectFormatError(write("dupkey.gguf", dup), /duplicate metadata key 'a'/);
      expectFormatError(write("vtype.gguf", header(0, 1).str("a").u32(77).u32(1)), /metadata 'a': unknown value type 77/);
      expectFormatError(write("bool.gguf", header(0, 1).str("a").u32(GgufValueType.BOOL).raw(Uint8Array.of(2))), /bool byte is 2/);
      const al = header(0, 1).str("general.alignment").u32(GgufValueType.UINT32).u32(24);
      expectFormatError(write("align.gguf", al), /general.alignment 24 is not a power of two/);
    });

    it("duplicate tensor names", () => {
      const b = header(2, 0);
      info(b, "t", [4], GgmlType.F32, 0);
      info(b, "t", [4], GgmlType.F32, 32);
      b.pad(32).raw(new Uint8Array(64));
      expectFormatError(write("duptensor.gguf", b), /duplicate tensor name 't'/);
    });

    it("misaligned offsets", () => {
      const b = header(1, 0);
      info(b, "t", [4], GgmlType.F32, 4);
      b.pad(32).raw(new Uint8Array(64));
      expectFormatError(write("misaligned.gguf", b), /tensor 't' offset 4 is not aligned to 32/);
    });

    it("out-of-range tensor data", () => {
      const b = header(1, 0);
      info(b, "t", [64], GgmlType.F32, 0);
      b.pad(32).raw(new Uint8Array(100));
      expectFormatError(write("range.gguf", b), /tensor 't' data \[\d+, \d+\) runs past the end of the file/);
    });

    it("overlapping tensor data", () => {
      const b = header(2, 0);
      info(b, "a", [16], GgmlType.F32, 0);
      info(b, "b", [16], GgmlType.F32, 32);
      b.pad(32).raw(new Uint8Array(128));
      expectFormatError(write("overlap.gguf", b), /tensor 'b' data .* overlaps 'a'/);
    });

    it("dtype/shape mismatch and bad dims", () => {
      const q = header(1, 0);
      info(q, "q", [48, 2], GgmlType.Q8_0, 0);
      q.pad(32).raw(new Uint8Array(256));
      expectFormatError(write("qrow.gguf", q), /row length 48 is not a multiple of the Q8_0 block size 32/);
      const t = header(1, 0);
      info(t, "x", [4], 99, 0);
      expectFormatError(write("ttype.gguf", t), /tensor 'x' has unknown type 99/);
      const d = header(1, 0);
      info(d, "x", [1, 1, 1, 1, 1], GgmlType.F32, 0);
      expectFormatError(write("dims.gguf", d), /has 5 dims; 1..4 allowed/);
      const n = header(1, 0);
      info(n, "x", [2 ** 40, 2 ** 40], GgmlType.F32, 0);
      expectFormatError(write("count.gguf", n), /too many elements/);
    });
  });

  it("reads a file its own writer produced byte for byte the same way twice", () => {
    const file = join(dir, "rt.gguf");
    const a = readFileSync(file);
    const g1 = readGguf(file), g2 = readGguf(file);
    assert.deepEqual(g1.tensors, g2.tensors);
    assert.equal(g1.fileSize, a.length);
  });
});
