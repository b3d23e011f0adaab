/// <reference types="@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops" preserve="true" />
/**
 * Chained ops: `t.mul(2).sum()` as well as `tf.sum(tf.mul(t, 2))`.
 *
 * tfjs-core declares these methods on `Tensor` (the reference above brings
 * its type augmentations in) but its Node bundle, which tslm loads, does not
 * install them: only the `@tensorflow/tfjs` union package does, through
 * tfjs-core's ES module files, which Node cannot load from a CommonJS
 * package. So they are installed here, on the same Tensor class, each one
 * calling the op of the same name with the tensor as its first argument
 * (the exceptions are listed in `SPECIAL`). Importing tslm installs them.
 */
import * as tf from "@tensorflow/tfjs-core";

type Op = (t: tf.Tensor, ...args: never[]) => unknown;

/** Methods of tfjs-core's chained-op declarations that call the op `tf[name](this, ...args)`. */
export const CHAINED_OPS = (
  "abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchNorm batchToSpaceND broadcastTo cast ceil clipByValue " +
  "conv1d conv2d conv2dTranspose cos cosh cumprod cumsum depthToSpace depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm " +
  "exp expandDims expm1 fft floor floorDiv gather greater greaterEqual ifft irfft isFinite isInf isNaN leakyRelu less lessEqual " +
  "localResponseNormalization log log1p logSigmoid logSoftmax logSumExp logicalAnd logicalNot logicalOr logicalXor matMul max maxPool maximum " +
  "mean min minimum mirrorPad mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod reciprocal relu relu6 reshape reverse rfft round " +
  "rsqrt selu separableConv2d sigmoid sign sin sinh slice softmax softplus spaceToBatchND split sqrt square squaredDifference squeeze step " +
  "stridedSlice sub sum tan tanh tile topk transpose unique unsortedSegmentSum unstack zerosLike"
).split(" ");

const list = (x: tf.Tensor | tf.Tensor[]) => (x instanceof tf.Tensor ? [x] : x);

/** Methods whose op takes other arguments than `(this, ...args)`, as tfjs-core's own chained ops define them. */
export const SPECIAL: Record<string, Op> = {
  as1D: (t) => tf.reshape(t, [t.size]),
  flatten: (t) => tf.reshape(t, [t.size]),
  as2D: (t, rows: number, columns: number) => tf.reshape(t, [rows, columns]),
  as3D: (t, rows: number, columns: number, depth: number) => tf.reshape(t, [rows, columns, depth]),
  as4D: (t, rows: number, columns: number, depth: number, depth2: number) => tf.reshape(t, [rows, columns, depth, depth2]),
  as5D: (t, rows: number, columns: number, depth: number, depth2: number, depth3: number) => tf.reshape(t, [rows, columns, depth, depth2, depth3]),
  asScalar: (t) => {
    if (t.size !== 1) throw new Error(`asScalar: the tensor must have exactly 1 element, it has ${t.size} (shape [${t.shape.join(", ")}])`);
    return tf.reshape(t, []);
  },
  asType: (t, dtype: tf.DataType) => tf.cast(t, dtype),
  toBool: (t) => tf.cast(t, "bool"),
  toFloat: (t) => tf.cast(t, "float32"),
  toInt: (t) => tf.cast(t, "int32"),
  reshapeAs: (t, x: tf.Tensor) => tf.reshape(t, x.shape),
  resizeBilinear: (t, size: [number, number], alignCorners?: boolean, halfPixelCenters?: boolean) => tf.image.resizeBilinear(t as tf.Tensor3D, size, alignCorners, halfPixelCenters),
  resizeNearestNeighbor: (t, size: [number, number], alignCorners?: boolean, halfPixelCenters?: boolean) =>
    tf.image.resizeNearestNeighbor(t as tf.Tensor3D, size, alignCorners, halfPixelCenters),
  concat: (t, x: tf.Tensor | tf.Tensor[], axis?: number) => tf.concat([t, ...list(x)], axis),
  stack: (t, x: tf.Tensor | tf.Tensor[], axis?: number) => tf.stack([t, ...list(x)], axis),
  where: (t, condition: tf.Tensor, x: tf.Tensor) => tf.where(condition, t, x),
};

/**
 * Installs the chained ops on `tensorClass` (default: tfjs-core's Tensor).
 * Methods the class already has are left alone. Idempotent.
 * @returns the names installed now.
 */
export function installChainedOps(tensorClass: { prototype: object } = tf.Tensor): string[] {
  const proto = tensorClass.prototype as Record<string, unknown>;
  const ops = tf as unknown as Record<string, Op>;
  const installed: string[] = [];
  const install = (name: string, op: Op) => {
    if (name in proto) return;
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: function (this: tf.Tensor, ...args: never[]) {
        (this as unknown as { throwIfDisposed(): void }).throwIfDisposed();
        return op(this, ...args);
      },
    });
    installed.push(name);
  };
  for (const name of CHAINED_OPS) {
    const op = ops[name];
    if (typeof op === "function") install(name, op);
  }
  for (const [name, op] of Object.entries(SPECIAL)) install(name, op);
  return installed;
}

installChainedOps();
