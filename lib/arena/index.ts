/** Public API of lib/arena (re-exported from the package root). */
export {};
