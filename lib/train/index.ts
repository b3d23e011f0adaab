/** Public API of lib/train (re-exported from the package root). */
export {};
