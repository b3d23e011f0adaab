/** Public API of lib/data (re-exported from the package root). */
export {};
