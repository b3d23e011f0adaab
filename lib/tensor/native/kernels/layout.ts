/**
 * Layout kernels as strided copies on the native pool: `Identity` shares
 * the input's data, `Slice`/`SplitV`/`Concat`/`Transpose`/`PadV2` are one
 * strided copy each, `Cast` and the
 * float32 reductions `Sum`/`Mean`/`Max`/`Min` over a contiguous block of axes
 * run natively. Anything else (strings, complex, other reductions) goes to
 * the original kernel.
 */
import { backend_util, slice_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { native } from "../state.js";
import { BASE, ref, sizeOf, stridesOf, type NativeStorage } from "../storage.js";

interface Args {
  inputs: Record<string, TensorInfo> | TensorInfo[];
  backend: NativeStorage;
  attrs: Record<string, unknown>;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const DTYPE_CODE: Record<string, number> = { float32: 0, int32: 1, bool: 2 };

/** Copies `shape` elements from src (strides srcStrides, base element srcBase) to dst (dstStrides, dstBase). */
function copy(backend: NativeStorage, src: TensorInfo, srcBase: number, dst: TensorInfo, dstBase: number, shape: number[], srcStrides: number[], dstStrides: number[]): void {
  if (sizeOf(shape) === 0) return;
  const eb = BYTES[src.dtype];
  const desc = new Float64Array([shape.length, ...shape, ...srcStrides, ...dstStrides]);
  native().addon.copy(BASE, ref(backend, src, srcBase), ref(backend, dst, dstBase), eb, desc);
}

function sliceInfo(backend: NativeStorage, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.alloc(size, x.dtype);
  const strides = stridesOf(x.shape);
  const base = begin.reduce((a, b, i) => a + b * strides[i], 0);
  copy(backend, x, base, out, 0, size, strides, stridesOf(size));
  return out;
}

function identity({ inputs, backend }: Args, original: KernelFunc) {
  const x = (inputs as Record<string, TensorInfo>).x;
  if (!(x.dtype in BYTES)) return original({ inputs, backend, attrs: {} } as never);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function slice(args: Args, original: KernelFunc) {
  const x = (args.inputs as Record<string, TensorInfo>).x;
  if (!(x.dtype in BYTES)) return original(args as never);
  const [begin, size] = slice_util.parseSliceParams(x as never, args.attrs.begin as number[], args.attrs.size as number[]);
  return sliceInfo(args.backend, x, begin, size);
}

function splitV(args: Args, original: KernelFunc) {
  const x = (args.inputs as Record<string, TensorInfo>).x;
  if (!(x.dtype in BYTES)) return original(args as never);
  const axis = util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, args.attrs.numOrSizeSplits as number[], axis);
  const begin = new Array(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const out = sliceInfo(args.backend, x, begin, size);
    begin[axis] += s;
    return out;
  });
}

function concat(args: Args, original: KernelFunc) {
  const inputs = args.inputs as TensorInfo[];
  const dtype = inputs[0].dtype;
  if (!(dtype in BYTES) || inputs.some((t) => t.dtype !== dtype)) return original(args as never);
  const axis = util.parseAxisParam(args.attrs.axis as number, inputs[0].shape)[0];
  const shape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const out = args.backend.alloc(shape, dtype);
  const outStrides = stridesOf(shape);
  let at = 0;
  for (const t of inputs) {
    if (sizeOf(t.shape) === 0) continue;
    copy(args.backend, t, 0, out, at * outStrides[axis], t.shape, stridesOf(t.shape), outStrides);
    at += t.shape[axis];
  }
  return out;
}

function transpose(args: Args, original: KernelFunc) {
  const x = (args.inputs as Record<string, TensorInfo>).x;
  if (!(x.dtype in BYTES)) return original(args as never);
  const perm = args.attrs.perm as number[];
  const shape = perm.map((p) => x.shape[p]);
  const out = args.backend.alloc(shape, x.dtype);
  const xs = stridesOf(x.shape);
  copy(args.backend, x, 0, out, 0, shape, perm.map((p) => xs[p]), stridesOf(shape));
  return out;
}

/** PadV2 (the gradient of every slice): the constant, then the input copied into the interior in one strided copy. */
function pad(args: Args, original: KernelFunc) {
  const x = (args.inputs as Record<string, TensorInfo>).x;
  if (!(x.dtype in BYTES)) return original(args as never);
  const paddings = args.attrs.paddings as Array<[number, number]>;
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = args.backend.alloc(shape, x.dtype);
  args.backend.values(out).fill(Number(args.attrs.constantValue ?? 0));
  const outStrides = stridesOf(shape);
  const base = paddings.reduce((acc, [before], i) => acc + before * outStrides[i], 0);
  copy(args.backend, x, 0, out, base, x.shape, stridesOf(x.shape), outStrides);
  return out;
}

function cast(args: Args, original: KernelFunc) {
  const x = (args.inputs as Record<string, TensorInfo>).x;
  const to = args.attrs.dtype as string;
  if (!(x.dtype in DTYPE_CODE) || !(to in DTYPE_CODE)) return original(args as never);
  if (x.dtype === to) return identity(args, original);
  const out = args.backend.alloc(x.shape, to as never);
  const n = sizeOf(x.shape);
  if (n > 0) native().addon.cast(BASE, ref(args.backend, x), ref(args.backend, out), n, DTYPE_CODE[x.dtype], DTYPE_CODE[to]);
  return out;
}

const REDUCE = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;

function reduction(name: keyof typeof REDUCE) {
  return (args: Args, original: KernelFunc) => {
    const x = (args.inputs as Record<string, TensorInfo>).x;
    if (x.dtype !== "float32") return original(args as never);
    const axisAttr = (name === "Max" ? args.attrs.reductionIndices : args.attrs.axis) as number | number[];
    const axes = util.parseAxisParam(axisAttr, x.shape).sort((a, b) => a - b);
    const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
    if (axes.length === 0 || !contiguous) return original(args as never);
    const a0 = axes[0], a1 = axes[axes.length - 1];
    const outer = sizeOf(x.shape.slice(0, a0)), r = sizeOf(x.shape.slice(a0, a1 + 1)), inner = sizeOf(x.shape.slice(a1 + 1));
    if (r === 0) return original(args as never);
    const keep = Boolean(args.attrs.keepDims);
    const shape = x.shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d)).filter((_, i) => keep || i < a0 || i > a1);
    const out = args.backend.alloc(shape, "float32");
    if (outer * inner > 0) native().addon.reduce(BASE, REDUCE[name], ref(args.backend, x), ref(args.backend, out), outer, r, inner);
    return out;
  };
}

type Impl = (args: Args, original: KernelFunc) => unknown;

/** Kernel configs to register, built over the original kernels they fall back to. */
export function layoutKernels(original: (name: string) => KernelFunc | undefined): KernelConfig[] {
  const impls: Record<string, Impl> = {
    Identity: identity,
    Slice: slice,
    SplitV: splitV,
    Concat: concat,
    Transpose: transpose,
    PadV2: pad,
    Cast: cast,
    Sum: reduction("Sum"),
    Mean: reduction("Mean"),
    Max: reduction("Max"),
    Min: reduction("Min"),
  };
  const out: KernelConfig[] = [];
  for (const [name, impl] of Object.entries(impls)) {
    const o = original(name);
    if (!o) continue;
    out.push({ kernelName: name, backendName: "native", kernelFunc: ((args: Args) => impl(args, o)) as unknown as KernelFunc });
  }
  return out;
}
