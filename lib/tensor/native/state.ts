/** Settings shared by the native kernels while the backend is enabled. */
import type { NativeAddon } from "./addon.js";

export interface NativeState {
  addon: NativeAddon;
  /** Round matmul inputs to bfloat16 (float32 accumulation and outputs); opt-in. */
  bf16: boolean;
}

let state: NativeState | undefined;

export function setState(s: NativeState | undefined): void {
  state = s;
}

/** The active state; kernels are registered only while it is set. */
export function native(): NativeState {
  if (!state) throw new Error("tslm native kernels are not enabled");
  return state;
}

/** Whether the addon's kernels are enabled (the native backend's kernels fall back to cpu's otherwise). */
export function nativeActive(): boolean {
  return state !== undefined;
}
