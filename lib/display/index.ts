/** Public API of lib/display (re-exported from the package root). */
export {};
