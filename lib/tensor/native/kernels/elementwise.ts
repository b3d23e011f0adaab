/**
 * Float32 elementwise kernels on the native thread pool: broadcasting binary
 * ops, unary ops (activations included) and softmax over the last axis.
 * Other dtypes go to the original (tfjs-backend-cpu) kernel.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { native } from "../state.js";
import { BASE, ref, sizeOf, type NativeStorage } from "../storage.js";

/** Binary op codes (native/src/elementwise.cc, BinaryOp). */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, squaredDifference: 6, prelu: 7 } as const;
export type BinaryOpName = keyof typeof BINARY_OPS;

/** Unary op codes (native/src/elementwise.cc, UnaryOp). */
export const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, square: 5, abs: 6, relu: 7, relu6: 8, elu: 9, sigmoid: 10, tanh: 11,
  leakyrelu: 12, reciprocal: 13,
} as const;
export type UnaryOpName = keyof typeof UNARY_OPS;

/** out = a (op) b with broadcasting; `out` must already have the broadcast shape (it may alias a or b). */
export function binaryInto(backend: NativeStorage, op: BinaryOpName, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
  if (sizeOf(out.shape) === 0) return;
  // Leading 1s of a higher-rank operand (a bias [1, 1, N] on a [B, M, N] output) carry no data.
  const trim = (s: number[]) => {
    let i = 0;
    while (s.length - i > out.shape.length && s[i] === 1) i++;
    return s.slice(i);
  };
  const as = trim(a.shape), bs = trim(b.shape);
  const shapes = new Int32Array([as.length, ...as, bs.length, ...bs]);
  native().addon.binary(BASE, BINARY_OPS[op], ref(backend, a), ref(backend, b), ref(backend, out), shapes);
}

/** out = op(x) elementwise; out may alias x. */
export function unaryInto(backend: NativeStorage, op: UnaryOpName, x: TensorInfo, out: TensorInfo, alpha = 0): void {
  const n = sizeOf(x.shape);
  if (n === 0) return;
  native().addon.unary(BASE, UNARY_OPS[op], ref(backend, x), ref(backend, out), n, alpha);
}

/** Applies a `_FusedMatMul` activation to `out` in place. */
export function applyActivationInPlace(backend: NativeStorage, out: TensorInfo, activation: string, leakyreluAlpha: number, prelu?: TensorInfo): void {
  switch (activation) {
    case "linear":
      return;
    case "relu":
    case "relu6":
    case "elu":
    case "sigmoid":
      return unaryInto(backend, activation, out, out);
    case "leakyrelu":
      return unaryInto(backend, "leakyrelu", out, out, leakyreluAlpha);
    case "prelu":
      if (!prelu) throw new Error("_FusedMatMul: prelu activation needs preluActivationWeights");
      return binaryInto(backend, "prelu", out, prelu, out);
    default:
      throw new Error(`_FusedMatMul: unknown activation '${activation}'`);
  }
}

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: NativeStorage;
  attrs?: Record<string, unknown>;
}

function binaryKernel(kernelName: string, op: BinaryOpName, names: [string, string], original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args) => {
    const a = args.inputs[names[0]], b = args.inputs[names[1]];
    if (a.dtype !== "float32" || b.dtype !== "float32") return original(args as never);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = args.backend.alloc(shape, "float32");
    binaryInto(args.backend, op, a, b, out);
    return out;
  };
  return { kernelName, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}

function unaryKernel(kernelName: string, op: UnaryOpName, original: KernelFunc, alphaAttr?: string): KernelConfig {
  const kernelFunc = (args: Args) => {
    const x = args.inputs.x;
    if (x.dtype !== "float32") return original(args as never);
    const out = args.backend.alloc(x.shape, "float32");
    unaryInto(args.backend, op, x, out, alphaAttr ? Number(args.attrs?.[alphaAttr]) : 0);
    return out;
  };
  return { kernelName, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}

function softmaxKernel(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args) => {
    const x = args.inputs.logits;
    const dim = Number(args.attrs?.dim ?? -1);
    const rank = x.shape.length;
    if (x.dtype !== "float32" || rank === 0 || (dim !== -1 && dim !== rank - 1)) return original(args as never);
    const out = args.backend.alloc(x.shape, "float32");
    const cols = x.shape[rank - 1];
    const rows = cols === 0 ? 0 : sizeOf(x.shape) / cols;
    if (rows > 0) native().addon.softmax(BASE, ref(args.backend, x), ref(args.backend, out), rows, cols);
    return out;
  };
  return { kernelName: "Softmax", backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Kernel configs to register, built over the original kernels they fall back to. */
export function elementwiseKernels(original: (name: string) => KernelFunc | undefined): KernelConfig[] {
  const out: KernelConfig[] = [];
  const bin: Array<[string, BinaryOpName, [string, string]]> = [
    ["Add", "add", ["a", "b"]],
    ["Sub", "sub", ["a", "b"]],
    ["Multiply", "mul", ["a", "b"]],
    ["RealDiv", "div", ["a", "b"]],
    ["Maximum", "max", ["a", "b"]],
    ["Minimum", "min", ["a", "b"]],
    ["SquaredDifference", "squaredDifference", ["a", "b"]],
    ["Prelu", "prelu", ["x", "alpha"]],
  ];
  for (const [name, op, names] of bin) {
    const o = original(name);
    if (o) out.push(binaryKernel(name, op, names, o));
  }
  const un: Array<[string, UnaryOpName, string?]> = [
    ["Neg", "neg"], ["Exp", "exp"], ["Log", "log"], ["Sqrt", "sqrt"], ["Rsqrt", "rsqrt"], ["Square", "square"],
    ["Abs", "abs"], ["Relu", "relu"], ["Relu6", "relu6"], ["Elu", "elu"], ["Sigmoid", "sigmoid"], ["Tanh", "tanh"],
    ["LeakyRelu", "leakyrelu", "alpha"], ["Reciprocal", "reciprocal"],
  ];
  for (const [name, op, alpha] of un) {
    const o = original(name);
    if (o) out.push(unaryKernel(name, op, o, alpha));
  }
  const sm = original("Softmax");
  if (sm) out.push(softmaxKernel(sm));
  return out;
}
