/** The native backend's entry points: status, options, and what enabling registers. */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels } from "../../lib/tensor/fused.js";
import { disableNative, enableNative, nativeEnabled, nativeStatus } from "../../lib/tensor/native/index.js";
import { useNativeSuite } from "./support.js";

describe("native backend status", () => {
  useNativeSuite();

  it("reports the library, threads and the kernels it registers", async () => {
    const s = await nativeStatus();
    if (!s.ok || !/^onednn \d+\.\d+/.test(s.library ?? "") || !(s.threads! >= 1)) throw new Error(`unexpected status ${JSON.stringify(s)}`);
    for (const k of ["BatchMatMul", "_FusedMatMul", "UnsortedSegmentSum", "Softmax", "TslmAttention"]) {
      if (!s.kernels!.includes(k)) throw new Error(`${k} missing from ${s.kernels!.join(", ")}`);
      if (!tf.getKernel(k, "native")) throw new Error(`${k} is not registered`);
    }
  });

  it("falls back to tfjs-backend-cpu's kernels and clears the fused registry when disabled, then re-enables", async () => {
    disableNative();
    try {
      if (nativeEnabled() || fusedKernels().adamw) throw new Error("native kernels still enabled");
      // Still the native backend, now computing with the JavaScript kernels.
      const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync());
      if (tf.getBackend() !== "native" || y[0] !== 11) throw new Error(`fallback matmul gave ${y[0]} on ${tf.getBackend()}`);
    } finally {
      await enableNative();
    }
    if (!nativeEnabled() || !fusedKernels().attention) throw new Error("re-enabling did not register the kernels");
  });

  it("refuses a bad thread count with a reason naming it", async () => {
    const s = await enableNative({ threads: 0 });
    if (s.ok || !/thread count must be a positive integer, got 0/.test(s.reason ?? "")) throw new Error(`unexpected ${JSON.stringify(s)}`);
    if (!nativeEnabled()) throw new Error("a refused option disabled the backend");
  });
});
