import { strict as assert } from "node:assert";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type HostTensor } from "../../lib/formats/safetensors.js";
import { readCheckpoint, writeCheckpoint } from "../../lib/formats/checkpoint.js";
import { FormatError } from "../../lib/util/errors.js";
import { tempDir } from "../support/tmp.js";

/** Builds a safetensors file by hand: header object, then raw data bytes. */
function handMade(file: string, header: unknown, data: Uint8Array, opts: { lengthOverride?: bigint } = {}): string {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.lengthOverride ?? BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

function expectFormatError(fn: () => unknown, pattern: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

describe("formats/safetensors", () => {
  const dir = tempDir();

  it("round-trips F32, F16, BF16 and I32 tensors", () => {
    const vals = Float32Array.from([0, 1, -2.5, 3.14159, 65504, 1e-3, -7, 0.1]);
    const tensors = new Map<string, HostTensor>([
      ["a.f32", { shape: [2, 4], data: vals }],
      ["b.f16", { shape: [8], data: vals, dtype: "F16" }],
      ["c.bf16", { shape: [4, 2], data: vals, dtype: "BF16" }],
      ["d.i32", { shape: [3], data: Int32Array.from([-1, 0, 2147483647]) }],
      ["e.empty", { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const file = join(dir, "rt.safetensors");
    writeSafetensors(file, tensors, { note: "x" });
    const { tensors: back, metadata } = readSafetensors(file);
    assert.deepEqual(metadata, { format: "pt", note: "x" });
    assert.deepEqual(back.get("a.f32")!.shape, [2, 4]);
    assert.deepEqual([...back.get("a.f32")!.data], [...vals]);
    assert.deepEqual([...back.get("d.i32")!.data], [-1, 0, 2147483647]);
    assert.ok(back.get("d.i32")!.data instanceof Int32Array);
    assert.equal(back.get("e.empty")!.data.length, 0);
    // 16-bit formats: exact on representable values, relative error within half an ulp otherwise.
    const f16 = back.get("b.f16")!.data, bf16 = back.get("c.bf16")!.data;
    for (let i = 0; i < vals.length; i++) {
      assert.ok(Math.abs(f16[i] - vals[i]) <= Math.abs(vals[i]) * 2 ** -11 + 1e-7, `f16 ${vals[i]} -> ${f16[i]}`);
      assert.ok(Math.abs(bf16[i] - vals[i]) <= Math.abs(vals[i]) * 2 ** -8, `bf16 ${vals[i]} -> ${bf16[i]}`);
    }
    assert.equal(f16[4], 65504);
    // The data buffer starts 8-byte aligned, as the reference writer pads it.
    assert.equal(readSafetensorsHeader(file).dataOffset % 8, 0);
  });

  it("writes sharded checkpoints with an index and reads them back", () => {
    const d = join(dir, "sharded");
    const tensors = new Map<string, HostTensor>();
    for (let i = 0; i < 5; i++) tensors.set(`w${i}`, { shape: [16, 16], data: Float32Array.from({ length: 256 }, (_, j) => i * 1000 + j) });
    const written = writeCheckpoint(d, tensors, { maxShardBytes: 2048 });
    assert.ok(written.some((f) => f.endsWith("model.safetensors.index.json")));
    const index = JSON.parse(readFileSync(join(d, "model.safetensors.index.json"), "utf8"));
    assert.equal(index.metadata.total_size, 5 * 1024);
    assert.equal(new Set(Object.values(index.weight_map)).size, 3);
    const back = readCheckpoint(d);
    assert.equal(back.size, 5);
    assert.equal(back.get("w3")!.data[7], 3007);
    // Re-saving as one file removes the shards and the index.
    writeCheckpoint(d, tensors);
    assert.deepEqual(readdirSync(d).sort(), ["model.safetensors"]);
  });

  it("refuses a shard index whose tensor is in another shard", () => {
    const d = join(dir, "badindex");
    const tensors = new Map<string, HostTensor>([["x", { shape: [300], data: new Float32Array(300) }], ["y", { shape: [300], data: new Float32Array(300) }]]);
    writeCheckpoint(d, tensors, { maxShardBytes: 1500 });
    const idxFile = join(d, "model.safetensors.index.json");
    const idx = JSON.parse(readFileSync(idxFile, "utf8"));
    idx.weight_map.x = idx.weight_map.y;
    writeFileSync(idxFile, JSON.stringify(idx));
    expectFormatError(() => readCheckpoint(d), /tensor 'x' listed in the index is not in 'model-00002-of-00002.safetensors'/);
  });

  it("refuses pickled PyTorch checkpoints with an explanation", () => {
    const d = join(dir, "pickle");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "pytorch_model.bin"), Buffer.from([0x80, 0x02, 0x7d]));
    const e = expectFormatError(() => readCheckpoint(d), /pickled PyTorch checkpoint: unpickling can run arbitrary code/);
    assert.match(e.message, /pytorch_model\.bin/);
  });

  describe("corrupt files (one per failure mode)", () => {
    const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);

    it("truncated header: fewer than 8 bytes", () => {
      const file = join(dir, "short.safetensors");
      writeFileSync(file, Buffer.from([1, 2, 3]));
      expectFormatError(() => readSafetensors(file), /truncated safetensors header: the file has 3 bytes/);
    });

    it("header length past the end of the file", () => {
      const file = handMade(join(dir, "past.safetensors"), { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(1), { lengthOverride: 10_000n });
      const e = expectFormatError(() => readSafetensors(file), /header length 10000 runs past the end of the file/);
      assert.equal(e.location.offset, 0);
    });

    it("header length beyond the size limit (no huge allocation)", () => {
      const file = handMade(join(dir, "huge.safetensors"), {}, new Uint8Array(0), { lengthOverride: 2n ** 62n });
      expectFormatError(() => readSafetensors(file), /exceeds the 100000000-byte limit/);
    });

    it("header that is not JSON", () => {
      const file = join(dir, "notjson.safetensors");
      const body = Buffer.from("{not json", "utf8");
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(body.length));
      writeFileSync(file, Buffer.concat([len, body]));
      expectFormatError(() => readSafetensors(file), /not valid JSON/);
    });

    it("overlapping offsets", () => {
      const file = handMade(join(dir, "overlap.safetensors"), {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      }, f32(3));
      const e = expectFormatError(() => readSafetensors(file), /tensor 'b' overlaps 'a'/);
      assert.equal(e.location.key, "b");
    });

    it("out-of-range offsets", () => {
      const file = handMade(join(dir, "range.safetensors"), { a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f32(2));
      expectFormatError(() => readSafetensors(file), /data_offsets \[0, 16\] run past the data buffer \(8 bytes\)/);
    });

    it("gap between tensors and trailing bytes", () => {
      const gap = handMade(join(dir, "gap.safetensors"), {
        a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      }, f32(3));
      expectFormatError(() => readSafetensors(gap), /gap in the data buffer before tensor 'b'/);
      const tail = handMade(join(dir, "tail.safetensors"), { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(2));
      expectFormatError(() => readSafetensors(tail), /4 bytes after the last tensor/);
    });

    it("dtype/shape mismatch", () => {
      const file = handMade(join(dir, "mismatch.safetensors"), { a: { dtype: "F16", shape: [3], data_offsets: [0, 8] } }, f32(2));
      const e = expectFormatError(() => readSafetensors(file), /dtype\/shape mismatch: F16 \[3\] needs 6 bytes but data_offsets span 8/);
      assert.equal(e.location.key, "a");
    });

    it("unknown dtype and bad shape", () => {
      const file = handMade(join(dir, "dtype.safetensors"), { a: { dtype: "Q4", shape: [1], data_offsets: [0, 4] } }, f32(1));
      expectFormatError(() => readSafetensors(file), /unknown dtype "Q4"/);
      const shape = handMade(join(dir, "shape.safetensors"), { a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1));
      expectFormatError(() => readSafetensors(shape), /shape must be a list of non-negative integers/);
    });

    it("a dtype tslm does not load is named", () => {
      const file = handMade(join(dir, "f64.safetensors"), { a: { dtype: "F64", shape: [1], data_offsets: [0, 8] } }, f32(2));
      expectFormatError(() => readSafetensors(file), /has dtype F64; tslm reads F32, F16, BF16, I32/);
    });
  });
});
