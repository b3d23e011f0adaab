/**
 * The `native` TF.js backend: tfjs-backend-cpu's storage model (each tensor a
 * TypedArray of its own, bounded only by RAM) with the hot kernels replaced
 * by tslm's addon, which reads and writes those arrays in place.
 *
 * Why this and not the wasm backend it replaced (measured 2026-12, see
 * docs/native.md): the wasm heap holds at most 4 GiB for all tensors
 * together, so a 0.5B model could not LoRA-train at seq 256 at any batch
 * size, and the heap never shrinks after a peak. TypedArray storage has no
 * such cap (6 GiB single tensors work in Node 20), frees each tensor with its
 * array, and N-API gives native code the memory without a copy. Kernels the
 * addon lacks run as tfjs-backend-cpu's JavaScript kernels, registered under
 * this backend's name; plain `cpu` stays untouched.
 */
import { totalmem } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { TslmError } from "../../util/errors.js";
import type { NativeStorage, Storage } from "./storage.js";

export const NATIVE_BACKEND = "native";

/** Memory for a tensor could not be had: says what was being allocated, and how much. */
export class OutOfMemoryError extends TslmError {}

const GIB = 1024 ** 3;

function bytesPer(dtype: tf.DataType): number {
  return dtype === "bool" ? 1 : 4;
}

function describe(shape: readonly number[], dtype: tf.DataType, what?: string): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = n * bytesPer(dtype);
  const size = bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${what ? `${what}: ` : ""}a ${dtype} tensor of shape [${shape.join(", ")}] (${size})`;
}

function isAllocationFailure(e: unknown): boolean {
  return e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer/i.test(e.message);
}

/** The error for a failed allocation, with what was live at the time. */
export function outOfMemory(shape: readonly number[], dtype: tf.DataType, what: string | undefined, cause: unknown): OutOfMemoryError {
  const live = tf.memory().numBytes / GIB;
  return new OutOfMemoryError(
    `out of memory allocating ${describe(shape, dtype, what)}; tensors already hold ${live.toFixed(2)} GiB. ` +
      "Lower the batch size or sequence length, quantize the base (--quantization nf4), or see `tslm estimate`",
    {},
    { cause },
  );
}

function newStorage(n: number, dtype: tf.DataType): Storage {
  if (dtype === "float32") return new Float32Array(n);
  if (dtype === "int32") return new Int32Array(n);
  if (dtype === "bool") return new Uint8Array(n);
  throw new TslmError(`native backend: cannot allocate ${dtype} storage`);
}

/**
 * Freed arrays kept for reuse, by dtype and length. A fresh array costs a
 * page fault per 4 KiB on first write (measured: an add of two 2 MiB tensors
 * 0.7-2.1 ms with fresh arrays, 0.09 ms in reused memory; a [1024, 512] x
 * [512, 1536] matmul 12-17 ms vs 9 ms), so steady-state training and decoding
 * reuse the arrays of tensors disposed a step earlier, as a malloc arena
 * would. Only arrays no one outside the backend has seen are reused: an array
 * handed out by `dataSync()`/`data()` is never recycled, nor one shared by
 * views (tfjs-backend-cpu's slices alias their input).
 */
class ArrayPool {
  private readonly free = new Map<string, Storage[]>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  private static key(dtype: tf.DataType, n: number): string {
    return `${dtype}:${n}`;
  }

  take(dtype: tf.DataType, n: number): Storage | undefined {
    const list = this.free.get(ArrayPool.key(dtype, n));
    const a = list?.pop();
    if (a) this.bytes -= a.byteLength;
    return a;
  }

  give(dtype: tf.DataType, a: Storage): void {
    if (a.byteLength === 0 || this.bytes + a.byteLength > this.limit) return;
    const k = ArrayPool.key(dtype, a.length);
    const list = this.free.get(k);
    if (list) list.push(a);
    else this.free.set(k, [a]);
    this.bytes += a.byteLength;
  }

  /** Bytes held for reuse. */
  held(): number {
    return this.bytes;
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}

/** Pool limit: TSLM_POOL_MB, else a quarter of the machine's memory. */
function poolLimit(): number {
  const mb = Number(process.env.TSLM_POOL_MB);
  return Number.isFinite(mb) && mb >= 0 ? mb * 1024 * 1024 : totalmem() / 4;
}

export class NativeBackend extends MathBackendCPU implements NativeStorage {
  private readonly pool = new ArrayPool(poolLimit());
  /** Live tensors whose data lies in each buffer (views share one). */
  private readonly owners = new Map<ArrayBufferLike, number>();
  /** Buffers whose arrays left the backend (dataSync, data): never reused. */
  private readonly escaped = new WeakSet<ArrayBufferLike>();

  constructor() {
    super();
    // Chosen on purpose: no "install tfjs-node" banner on the first write.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A new output tensor; its contents are undefined (reused memory): the kernel writes every element. */
  alloc(shape: number[], dtype: tf.DataType): tf.TensorInfo {
    const n = shape.reduce((a, b) => a * b, 1);
    let values = this.pool.take(dtype, n);
    if (!values) {
      try {
        values = newStorage(n, dtype);
      } catch (e) {
        if (!isAllocationFailure(e)) throw e;
        this.pool.clear(); // give the pooled memory back and try once more
        try {
          values = newStorage(n, dtype);
        } catch (e2) {
          throw isAllocationFailure(e2) ? outOfMemory(shape, dtype, undefined, e2) : e2;
        }
      }
    }
    return this.makeTensorInfo(shape, dtype, values);
  }

  values(t: tf.TensorInfo): Storage {
    const d = this.data.get(t.dataId);
    if (!d || d.values === undefined) throw new TslmError(`native kernel: tensor [${t.shape.join(", ")}] has no data on the native backend`);
    return d.values as Storage;
  }

  /** Bytes of freed tensor memory held for reuse. */
  pooledBytes(): number {
    return this.pool.held();
  }

  /** Returns the memory held for reuse to the system (at the next garbage collection). */
  releasePool(): void {
    this.pool.clear();
  }

  /**
   * Tensors made from user arrays (`tf.tensor(array)`) get storage of their
   * own, as on the wasm backend: native kernels update some tensors in place
   * (AdamW), which must never write into a caller's array. Kernel outputs
   * come through `makeTensorInfo` and are not copied. Loaders that hand over
   * an array they will not touch again use `adoptTensor` (no copy).
   */
  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    if (!adopting && ArrayBuffer.isView(values)) {
      try {
        values = (values as Storage).slice();
      } catch (e) {
        throw isAllocationFailure(e) ? outOfMemory(shape, dtype, "copying an array into a tensor", e) : e;
      }
    }
    const id = super.write(values, shape, dtype);
    if (ArrayBuffer.isView(values)) this.owners.set(values.buffer, (this.owners.get(values.buffer) ?? 0) + 1);
    return id;
  }

  override makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues | string[]): tf.TensorInfo {
    adopting = true;
    try {
      return super.makeTensorInfo(shape, dtype, values);
    } finally {
      adopting = false;
    }
  }

  override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    if (ArrayBuffer.isView(values)) this.owners.set(values.buffer, (this.owners.get(values.buffer) ?? 0) + 1);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const v = this.data.get(dataId)?.values;
    if (v && ArrayBuffer.isView(v)) this.escaped.add(v.buffer);
    return super.readSync(dataId);
  }

  override disposeData(dataId: object, force = false): boolean {
    const d = this.data.get(dataId);
    const values = d?.values;
    const dtype = d?.dtype;
    const gone = super.disposeData(dataId, force);
    if (gone && values && dtype && ArrayBuffer.isView(values)) {
      const buf = values.buffer;
      const left = (this.owners.get(buf) ?? 1) - 1;
      if (left > 0) this.owners.set(buf, left);
      else {
        this.owners.delete(buf);
        const whole = values.byteOffset === 0 && values.byteLength === buf.byteLength;
        if (whole && !this.escaped.has(buf) && (dtype === "float32" || dtype === "int32" || dtype === "bool")) this.pool.give(dtype, values as Storage);
      }
    }
    return gone;
  }
}

let adopting = false;

/**
 * A tensor that takes `values` as its storage without copying it, on the
 * native backend (any other backend copies as usual). The caller must not
 * read or write `values` afterwards.
 */
export function adoptTensor(values: Storage, shape: number[], dtype: tf.DataType): tf.Tensor {
  if (tf.getBackend() !== NATIVE_BACKEND) return tf.tensor(values, shape, dtype);
  adopting = true;
  try {
    return tf.tensor(values, shape, dtype);
  } finally {
    adopting = false;
  }
}

/**
 * Wraps a kernel so that an allocation failure inside it (tfjs-backend-cpu's
 * JavaScript kernels allocate their own arrays) becomes an OutOfMemoryError
 * naming the kernel and its inputs' shapes, never a bare RangeError or abort.
 */
export function guardKernel(config: tf.KernelConfig): tf.KernelConfig {
  const f = config.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    try {
      return f(args);
    } catch (e) {
      if (!isAllocationFailure(e)) throw e;
      const inputs = Object.entries(args.inputs).filter(([, t]) => t).map(([k, t]) => `${k} [${t!.shape.join(", ")}]`).join(", ");
      throw new OutOfMemoryError(`out of memory in ${config.kernelName} (inputs ${inputs}); tensors already hold ${(tf.memory().numBytes / GIB).toFixed(2)} GiB`, {}, { cause: e });
    }
  };
  return { ...config, kernelFunc };
}
