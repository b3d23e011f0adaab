/**
 * The `native` backend: TF.js's wasm backend with hot kernels replaced by
 * native CPU code (native/, an N-API addon on OpenBLAS/oneDNN).
 *
 * `enableNative()` loads the addon and registers its kernels; when the addon
 * is missing or fails to load it reports why, and the caller falls back to
 * plain wasm.
 */

export interface NativeStatus {
  ok: boolean;
  /** Why the addon is unavailable, when `ok` is false. */
  reason?: string;
  /** Kernels this backend replaced or added, when `ok` is true. */
  kernels?: string[];
  /** Library the addon links (e.g. "openblas 0.3.21", "onednn 2.6.3"). */
  library?: string;
}

/** Probes the addon without registering anything. */
export async function nativeStatus(): Promise<NativeStatus> {
  return { ok: false, reason: "the native addon is not built (native/ has no kernels yet)" };
}

/** Loads the addon and registers its kernels on the (already active) wasm backend. */
export async function enableNative(): Promise<NativeStatus> {
  return nativeStatus();
}
