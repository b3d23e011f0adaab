/**
 * `GatherV2` (batchDims 0) and `ScatterNd` (float32 updates): the embedding
 * lookup and its scatter-add gradient, one native pass each instead of the
 * wasm backend's single-threaded loops.
 */
import { GatherV2, ScatterNd, util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { native } from "../state.js";
import { BASE, ref, sizeOf, type NativeStorage } from "../storage.js";

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: NativeStorage;
  attrs: Record<string, unknown>;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

export function makeGather(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args) => {
    const { x, indices } = args.inputs;
    const batchDims = Number(args.attrs.batchDims ?? 0);
    if (!(x.dtype in BYTES) || indices.dtype !== "int32" || batchDims !== 0) return original(args as never);
    const axis = util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const out = args.backend.alloc(shape, x.dtype);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1)), n = sizeOf(indices.shape);
    if (outer * n * inner === 0) return out;
    const b = args.backend;
    native().addon.gather(BASE, ref(b, x), ref(b, indices), ref(b, out), outer, x.shape[axis], inner, n, BYTES[x.dtype]);
    return out;
  };
  return { kernelName: GatherV2, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function makeScatterNd(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args) => {
    const { indices, updates } = args.inputs;
    const shape = args.attrs.shape as number[];
    if (updates.dtype !== "float32" || indices.dtype !== "int32") return original(args as never);
    const k = indices.shape[indices.shape.length - 1];
    const out = args.backend.alloc(shape, "float32");
    const slice = sizeOf(shape.slice(k)), numSlices = sizeOf(shape.slice(0, k));
    const n = k === 0 ? 0 : sizeOf(indices.shape) / k;
    if (slice * numSlices === 0) return out;
    const strides = new Float64Array(k);
    let acc = 1;
    for (let j = k - 1; j >= 0; j--) {
      strides[j] = acc;
      acc *= shape[j];
    }
    const b = args.backend;
    native().addon.scatterNd(BASE, ref(b, indices), ref(b, updates), ref(b, out), n, k, strides, slice, numSlices);
    return out;
  };
  return { kernelName: ScatterNd, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}
