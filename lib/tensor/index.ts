/** Public API of lib/tensor (re-exported from the package root). */
// Chained ops (`t.mul(2).sum()`): installed on import, typed by tfjs-core's declarations.
import "./chained.js";
export * as tf from "@tensorflow/tfjs-core";
export { init, ensureBackend, backendReport, BACKEND_ORDER, BackendError, type BackendName, type BackendRequest, type BackendReport, type BackendAttempt, type InitOptions } from "./init.js";
export { nativeStatus, type NativeStatus } from "./native/index.js";
export { enableNative, disableNative, nativeEnabled, adoptTensor, OutOfMemoryError, type NativeOptions } from "./native/index.js";
export { fusedKernels, type FusedKernels, type AdamWStep, type PackedWeight } from "./fused.js";
