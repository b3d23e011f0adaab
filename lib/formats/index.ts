/** Public API of lib/formats (re-exported from the package root). */
export {};
