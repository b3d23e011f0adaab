/** Public API of lib/model (re-exported from the package root). */
export {};
