/**
 * `UnsortedSegmentSum` (the gradient of `gather`, i.e. of an embedding
 * lookup), which the wasm backend lacks. Semantics of TF.js's cpu kernel:
 * `segmentIds` covers the leading axes of `x`; ids outside
 * [0, numSegments) are skipped.
 */
import { UnsortedSegmentSum, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { native } from "../state.js";
import { f32View, BASE, ref, sizeOf, type NativeStorage } from "../storage.js";

interface Args {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: NativeStorage;
  attrs: { numSegments: number };
}

export function makeUnsortedSegmentSum(original?: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args) => {
    const { x, segmentIds } = args.inputs;
    const { numSegments } = args.attrs;
    if (x.dtype !== "float32" || segmentIds.dtype !== "int32") {
      if (original) return original(args as never);
      throw new Error(`UnsortedSegmentSum: x must be float32 and segmentIds int32 (got ${x.dtype}, ${segmentIds.dtype})`);
    }
    const idRank = segmentIds.shape.length;
    if (idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape ${JSON.stringify(segmentIds.shape)} must be a prefix of x shape ${JSON.stringify(x.shape)}`);
    }
    const innerShape = x.shape.slice(idRank);
    const out = args.backend.alloc([numSegments, ...innerShape], "float32");
    const n = sizeOf(segmentIds.shape), inner = sizeOf(innerShape);
    if (numSegments * inner === 0) return out;
    if (n === 0) {
      f32View(args.backend, out).fill(0);
      return out;
    }
    native().addon.segmentSum(BASE, ref(args.backend, x), ref(args.backend, segmentIds), ref(args.backend, out), n, inner, numSegments);
    return out;
  };
  return { kernelName: UnsortedSegmentSum, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}
