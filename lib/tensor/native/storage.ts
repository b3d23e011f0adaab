/**
 * Tensor storage of the `native` backend, as its kernels see it.
 *
 * Every tensor's data is a TypedArray of its own in ordinary (V8) memory,
 * bounded only by RAM, not by the 4 GiB of a wasm heap. Native kernels get the
 * arrays themselves (N-API hands them the memory in place: no copies) after a
 * base buffer that is empty here (the addon also accepts byte offsets into a
 * base buffer; see native/src/napi_util.h).
 */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";

/** What a tensor's data is on this backend. */
export type Storage = Float32Array | Int32Array | Uint8Array;

/** The parts of the native backend (lib/tensor/native/backend.ts) the kernels use. */
export interface NativeStorage {
  /** A new output tensor, contents undefined (the kernel writes them); a clear out-of-memory error when it cannot be allocated. */
  alloc(shape: number[], dtype: DataType): TensorInfo;
  /** The storage of a tensor. */
  values(t: TensorInfo): Storage;
  refCount(dataId: object): number;
  incRef(dataId: object): void;
}

/** The first argument of every addon call: tensors follow as typed arrays, so no offsets into it are used. */
export const BASE = new ArrayBuffer(0);

/** A tensor argument for the addon: its storage, from element `start` on. */
export function ref(backend: NativeStorage, t: TensorInfo, start = 0): Storage {
  const v = backend.values(t);
  return start === 0 ? v : v.subarray(start);
}

/** A float32 view of a tensor's storage. */
export function f32View(backend: NativeStorage, t: TensorInfo): Float32Array {
  const v = backend.values(t);
  if (!(v instanceof Float32Array)) throw new Error(`native kernel: expected float32 storage, got ${t.dtype}`);
  return v;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements) of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}
