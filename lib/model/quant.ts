/**
 * Quantized frozen weights for QLoRA-style fine-tuning (Dettmers et al. 2023).
 *
 * Layouts are those of `PackedWeight` in lib/tensor/fused.ts, so native
 * kernels and this file agree bit for bit:
 * - bf16 / f16: the checkpoint's own 16-bit values, two per int32 (no scales):
 *   a frozen 16-bit base stays 16-bit in memory.
 * - int8: per-row absmax, q = round(w / absmax * 127), four bytes per int32.
 * - int4: blocks of 64 along a row, scale = absmax / 7, code = round(w / scale) + 8 in 1..15.
 * - nf4: blocks of 64, value = NF4_TABLE[code] * absmax, code = nearest table entry.
 * Codes are packed little-endian into int32 words over the row-major
 * element index (word k holds elements 4k..4k+3, or 8k..8k+7 for 4-bit).
 *
 * Dequantization runs on the fly in every forward pass: with the fused
 * kernel when the backend has one, otherwise with TF.js ops (split each word
 * into two 16-bit halves, look both up in a 65,536-row table of decoded
 * codes, scale per block). The backward pass dequantizes again instead of
 * keeping float weights alive (tf.customGrad), so the float32 copy of a
 * weight exists only during its own matmul.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels, type PackedWeight } from "../tensor/fused.js";
import { quantizeWithAddon } from "../tensor/native/index.js";
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from "../formats/dtype.js";
import { TslmError } from "../util/errors.js";
import type { Linear } from "./linear.js";

export type QuantKind = PackedWeight["kind"];

/**
 * The 16 NormalFloat-4 levels: quantiles of N(0, 1) rescaled to [-1, 1], with
 * an exact zero (QLoRA paper, Appendix E; bitsandbytes' NF4 table).
 */
export const NF4_TABLE: readonly number[] = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

/** Default block size of the 4-bit kinds (QLoRA's 64). */
export const QUANT_BLOCK = 64;

function nearestNf4(x: number): number {
  // Midpoints between neighbouring levels decide the code (bitsandbytes does the same).
  let code = 0;
  for (let c = 1; c < 16; c++) if (x > (NF4_TABLE[c - 1] + NF4_TABLE[c]) / 2) code = c;
  return code;
}

/** Whether a kind stores 16-bit floats (no scales). */
export function isSixteenBit(kind: QuantKind): kind is "bf16" | "f16" {
  return kind === "bf16" || kind === "f16";
}

/**
 * Quantizes a float32 `[rows, cols]` weight (row-major) on the host.
 * @throws when a 4-bit kind's cols are not a multiple of blockSize.
 */
export function quantizeHost(w: Float32Array, rows: number, cols: number, kind: QuantKind, blockSize = QUANT_BLOCK): { packed: Int32Array; scales: Float32Array; blockSize: number } {
  if (w.length !== rows * cols) throw new TslmError(`quantize: ${w.length} values for a [${rows}, ${cols}] weight`);
  const n = rows * cols;
  if (isSixteenBit(kind)) {
    const halves = new Uint16Array(2 * Math.ceil(n / 2));
    const conv = kind === "bf16" ? floatToBf16 : floatToHalf;
    for (let j = 0; j < n; j++) halves[j] = conv(w[j]);
    return { packed: new Int32Array(halves.buffer), scales: new Float32Array(0), blockSize: cols };
  }
  const bs = kind === "int8" ? cols : blockSize;
  if (kind === "int8" || (cols % blockSize === 0 && blockSize % 2 === 0)) {
    const fast = quantizeWithAddon(w, rows, cols, kind, bs);
    if (fast) return { ...fast, blockSize: bs };
  }
  return quantizePortable(w, rows, cols, kind, blockSize);
}

/** quantizeHost in JavaScript alone: the reference the addon's quantizer matches bit for bit. */
export function quantizePortable(w: Float32Array, rows: number, cols: number, kind: Exclude<QuantKind, "bf16" | "f16">, blockSize = QUANT_BLOCK): { packed: Int32Array; scales: Float32Array; blockSize: number } {
  const n = rows * cols;
  if (kind === "int8") {
    const packed = new Int32Array(Math.ceil(n / 4));
    const scales = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let amax = 0;
      for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));
      const scale = amax / 127;
      scales[r] = scale;
      for (let c = 0; c < cols; c++) {
        const j = r * cols + c;
        const q = scale > 0 ? Math.max(-127, Math.min(127, Math.round(w[j] / scale))) : 0;
        packed[j >> 2] |= (q & 0xff) << (8 * (j & 3));
      }
    }
    return { packed, scales, blockSize: cols };
  }
  if (cols % blockSize !== 0) throw new TslmError(`${kind} quantization needs the input width (${cols}) to be a multiple of the block size ${blockSize}`);
  const blocks = n / blockSize;
  const packed = new Int32Array(n / 8);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < blockSize; i++) amax = Math.max(amax, Math.abs(w[b * blockSize + i]));
    const scale = kind === "int4" ? amax / 7 : amax;
    scales[b] = scale;
    for (let i = 0; i < blockSize; i++) {
      const j = b * blockSize + i;
      let code: number;
      if (scale === 0) code = kind === "int4" ? 8 : 7;
      else if (kind === "int4") code = Math.max(-7, Math.min(7, Math.round(w[j] / scale))) + 8;
      else code = nearestNf4(w[j] / scale);
      packed[j >> 3] |= code << (4 * (j & 7));
    }
  }
  return { packed, scales, blockSize };
}

/** Host-side dequantization (reference implementation for tests and export). */
export function dequantizeHost(p: { packed: Int32Array; scales: Float32Array; blockSize: number }, rows: number, cols: number, kind: QuantKind): Float32Array {
  const n = rows * cols;
  const out = new Float32Array(n);
  if (isSixteenBit(kind)) {
    const halves = new Uint16Array(p.packed.buffer, p.packed.byteOffset, 2 * p.packed.length);
    const conv = kind === "bf16" ? bf16ToFloat : halfToFloat;
    for (let j = 0; j < n; j++) out[j] = conv(halves[j]);
    return out;
  }
  for (let j = 0; j < n; j++) {
    if (kind === "int8") {
      const q = (p.packed[j >> 2] << (24 - 8 * (j & 3))) >> 24; // sign-extend the byte
      out[j] = q * p.scales[Math.floor(j / cols)];
    } else {
      const code = (p.packed[j >> 3] >>> (4 * (j & 7))) & 15;
      const s = p.scales[Math.floor(j / p.blockSize)];
      out[j] = kind === "int4" ? (code - 8) * s : NF4_TABLE[code] * s;
    }
  }
  return out;
}

/** Packs a host weight into a PackedWeight (tensors owned by the caller). */
export function packWeight(w: Float32Array, rows: number, cols: number, kind: QuantKind, blockSize = QUANT_BLOCK): PackedWeight {
  const q = quantizeHost(w, rows, cols, kind, blockSize);
  return { kind, rows, cols, blockSize: q.blockSize, packed: tf.tensor1d(q.packed, "int32"), scales: tf.tensor1d(q.scales, "float32") };
}

// 65,536-row lookup tables: a 16-bit half-word -> its 2 bytes (int8) or 4 nibbles (4-bit), decoded.
const tables = new Map<string, tf.Tensor2D>();

function lookupTable(kind: QuantKind): tf.Tensor2D {
  const key = `${kind}/${tf.getBackend()}`;
  let t = tables.get(key);
  if (t && !t.isDisposed) return t;
  const per = isSixteenBit(kind) ? 1 : kind === "int8" ? 2 : 4;
  const data = new Float32Array(65536 * per);
  for (let h = 0; h < 65536; h++) {
    for (let k = 0; k < per; k++) {
      if (kind === "bf16") data[h] = bf16ToFloat(h);
      else if (kind === "f16") data[h] = halfToFloat(h);
      else if (kind === "int8") data[h * 2 + k] = ((h >> (8 * k)) << 24) >> 24;
      else {
        const code = (h >> (4 * k)) & 15;
        data[h * 4 + k] = kind === "int4" ? code - 8 : NF4_TABLE[code];
      }
    }
  }
  t = tf.keep(tf.tensor2d(data, [65536, per]));
  tables.set(key, t);
  return t;
}

/** Dequantizes with TF.js ops only (the portable path). `[rows, cols]` float32. */
export function dequantizeOps(w: PackedWeight): tf.Tensor2D {
  return tf.tidy(() => {
    const table = lookupTable(w.kind);
    const words = w.packed.shape[0];
    const base = tf.scalar(65536, "int32");
    const lo = tf.mod(w.packed, base); // [W], low half (floored mod: 0..65535)
    // (word - lo) is a multiple of 65536 below 2^31 in magnitude, so dividing it is exact even
    // on backends whose integer division goes through float32 (wasm's FloorDiv does).
    const hi = tf.mod(tf.floorDiv(tf.sub(w.packed, lo), base), base); // [W], high half
    const per = isSixteenBit(w.kind) ? 2 : w.kind === "int8" ? 4 : 8;
    const codes = tf.reshape(tf.concat([tf.gather(table, lo), tf.gather(table, hi)], 1), [words * per]); // [W * per]
    const n = w.rows * w.cols;
    const vals = words * per === n ? codes : tf.slice(codes, [0], [n]);
    if (isSixteenBit(w.kind)) return tf.reshape(vals, [w.rows, w.cols]) as tf.Tensor2D;
    const blocks = n / w.blockSize;
    const scaled = tf.mul(tf.reshape(vals, [blocks, w.blockSize]), tf.reshape(w.scales, [blocks, 1])); // [blocks, block]
    return tf.reshape(scaled, [w.rows, w.cols]) as tf.Tensor2D;
  });
}

/** Dequantizes with the fused kernel when present, else with TF.js ops. */
export function dequantize(w: PackedWeight): tf.Tensor2D {
  return fusedKernels().dequantize?.(w) ?? dequantizeOps(w);
}

/** Rows `ids` (int32, any shape) of a packed weight: `[...ids.shape, cols]` float32, an embedding lookup. */
export function packedRows(w: PackedWeight, ids: tf.Tensor): tf.Tensor {
  return fusedKernels().dequantizeRows?.(w, ids) ?? tf.tidy(() => tf.gather(dequantize(w), ids));
}

/** Bytes held by a packed weight (codes + scales). */
export function packedBytes(w: PackedWeight): number {
  return w.packed.size * 4 + w.scales.size * 4;
}

/**
 * A frozen linear layer whose weight is stored packed (16-bit or quantized)
 * and read in that form by the matmul.
 */
export class QuantizedLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;

  /**
   * @param shared true when the packed weight belongs to someone else (a tied
   *   LM head reads the packed embedding): `dispose()` leaves it.
   */
  constructor(
    readonly name: string,
    readonly weight: PackedWeight,
    readonly bias: tf.Variable<tf.Rank.R1> | null = null,
    readonly shared = false,
  ) {
    this.inFeatures = weight.cols;
    this.outFeatures = weight.rows;
  }

  /** Quantizes a dense weight `[out, in]` (and keeps its bias as a frozen variable). */
  static fromDense(name: string, weight: tf.Tensor2D, bias: tf.Tensor1D | undefined, kind: QuantKind, blockSize = QUANT_BLOCK): QuantizedLinear {
    const [rows, cols] = weight.shape;
    const packed = packWeight(weight.dataSync() as Float32Array, rows, cols, kind, blockSize);
    const b = bias ? (tf.tidy(() => tf.variable(tf.clone(bias), false)) as tf.Variable<tf.Rank.R1>) : null;
    return new QuantizedLinear(name, packed, b);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const w = this.weight;
    const lead = x.shape.slice(0, -1);
    const body = (xi: tf.Tensor) => {
      const x2 = tf.reshape(xi, [-1, w.cols]) as tf.Tensor2D; // [N, in]
      const fused = fusedKernels().dequantMatMul?.(x2, w);
      const y2 =
        fused ??
        tf.tidy(() => {
          const W = dequantize(w); // [out, in], transient
          return tf.matMul(x2, W, false, true); // [N, out]
        });
      const value = tf.reshape(y2, [...lead, w.rows]);
      // dx = dy @ W, dequantizing again rather than keeping W alive for the backward pass.
      const gradFunc = (dy: tf.Tensor, _saved: tf.Tensor[]) => {
        const W = dequantize(w);
        return tf.reshape(tf.matMul(tf.reshape(dy, [-1, w.rows]), W), xi.shape);
      };
      return { value, gradFunc };
    };
    // customGrad's type wants every argument typed as Tensor | GradSaveFunc.
    const f = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]);
    return tf.tidy(() => {
      const y = f(x);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.bias] : [];
  }

  /** The dequantized weight (for export). */
  dense(): { weight: tf.Tensor2D; bias?: tf.Tensor1D } {
    const weight = dequantize(this.weight);
    return this.bias ? { weight, bias: this.bias } : { weight };
  }

  /** Bytes of the packed weight. */
  bytes(): number {
    return packedBytes(this.weight);
  }

  dispose(): void {
    if (!this.shared) {
      this.weight.packed.dispose();
      this.weight.scales.dispose();
    }
    this.bias?.dispose();
  }
}
