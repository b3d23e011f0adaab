/** Public API of lib/tokenizer (re-exported from the package root). */
export {};
