/**
 * Access to the TF.js wasm backend's heap for native kernels.
 *
 * Rules (ARCHITECTURE.md): allocate every output with `backend.makeOutput`
 * before taking the heap (`heap()`), because an allocation may grow the wasm
 * memory and detach an ArrayBuffer taken earlier. Native calls receive the
 * heap ArrayBuffer and byte offsets, never views kept across allocations.
 */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";

/** The parts of `BackendWasm` (tfjs-backend-wasm 4.22, pinned) the kernels use. */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: DataType; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  refCount(dataId: object): number;
  incRef(dataId: object): void;
}

/** The current wasm heap; take it after the last `makeOutput` of a kernel. */
export function heap(backend: WasmBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offset(backend: WasmBackend, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error(`native kernel: tensor ${JSON.stringify(t.shape)} is not on the wasm backend`);
  return d.memoryOffset;
}

/** A float32 view of a tensor (valid until the next allocation). */
export function f32View(backend: WasmBackend, t: TensorInfo): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(heap(backend), offset(backend, t), n);
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
