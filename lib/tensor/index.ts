/** Public API of lib/tensor (re-exported from the package root). */
export {};
