/** Public API of lib/align (re-exported from the package root). */
export {};
