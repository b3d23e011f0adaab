/**
 * Tensor data encodings for GGUF: F32, F16, BF16 and Q8_0 in both
 * directions. Q8_0 (ggml's `block_q8_0`): blocks of 32 values, each an f16
 * scale d = max|x| / 127 followed by 32 int8 codes round(x / d), rounded
 * half away from zero as C's roundf (ggml's quantize_row_q8_0_ref).
 */
import { FormatError } from "../util/errors.js";
import { GGML_BLOCK, GgmlType, ggmlTypeName } from "./gguf-constants.js";
import { bf16BytesToFloat32, float32ToBf16Bytes, float32ToHalfBytes, floatToHalf, halfBytesToFloat32, halfToFloat } from "./dtype.js";

export const Q8_0_BLOCK = 32;

/** Bytes a tensor of `count` elements takes in `type` (count must fill whole blocks). */
export function ggmlByteLength(type: number, count: number): number {
  const g = GGML_BLOCK[type];
  if (!g) throw new FormatError(`unknown ggml tensor type ${type}`);
  return (count / g.blockSize) * g.typeSize;
}

/** Encodes float32 values (row-major, rows of `rowLength`) as `type`. */
export function encodeGgml(values: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case GgmlType.F16:
      return float32ToHalfBytes(values);
    case GgmlType.BF16:
      return float32ToBf16Bytes(values);
    case GgmlType.Q8_0: {
      if (values.length % Q8_0_BLOCK !== 0) throw new FormatError(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${values.length}`);
      const blocks = values.length / Q8_0_BLOCK;
      const out = new Uint8Array(blocks * 34);
      const dv = new DataView(out.buffer);
      for (let b = 0; b < blocks; b++) {
        let amax = 0;
        for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(values[b * Q8_0_BLOCK + j]));
        const d = Math.fround(amax / 127);
        const id = d ? Math.fround(1 / d) : 0;
        dv.setUint16(b * 34, floatToHalf(d), true);
        for (let j = 0; j < Q8_0_BLOCK; j++) {
          const x = Math.fround(values[b * Q8_0_BLOCK + j] * id);
          const q = Math.sign(x) * Math.floor(Math.abs(x) + 0.5); // roundf
          dv.setInt8(b * 34 + 2 + j, Math.max(-128, Math.min(127, q)));
        }
      }
      return out;
    }
    default:
      throw new FormatError(`tslm does not encode ${ggmlTypeName(type)}`);
  }
}

/** Decodes `count` elements of `type` to float32. */
export function decodeGgml(bytes: Uint8Array, type: number, count: number, name = ""): Float32Array {
  switch (type) {
    case GgmlType.F32: {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      return out;
    }
    case GgmlType.F16:
      return halfBytesToFloat32(bytes, count);
    case GgmlType.BF16:
      return bf16BytesToFloat32(bytes, count);
    case GgmlType.Q8_0: {
      const out = new Float32Array(count);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let b = 0; b < count / Q8_0_BLOCK; b++) {
        const d = halfToFloat(dv.getUint16(b * 34, true));
        for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * dv.getInt8(b * 34 + 2 + j);
      }
      return out;
    }
    default:
      throw new FormatError(`tslm does not decode ${ggmlTypeName(type)} tensors${name ? ` ('${name}')` : ""}; it reads F32, F16, BF16 and Q8_0`, { key: name || undefined });
  }
}
