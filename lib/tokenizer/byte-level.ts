/**
 * GPT-2's byte-level alphabet: every byte maps to one printable Unicode
 * character, so BPE works on strings while covering arbitrary bytes
 * (Radford et al. 2019, `bytes_to_unicode` in openai/gpt-2 encoder.py).
 * Printable Latin-1 bytes map to themselves; the rest to U+0100 onward
 * (so a space becomes "Ġ" and a newline "Ċ").
 */

const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table = new Array<string>(256);
  const kept = new Set(keep);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(kept.has(b) ? b : 256 + n++);
  return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 alphabet characters, in byte order. */
export function byteAlphabet(): readonly string[] {
  return BYTE_TO_CHAR;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text` as alphabet characters. */
export function toByteLevel(text: string): string {
  let out = "";
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/** Inverse of `toByteLevel` (invalid UTF-8 decodes to U+FFFD). */
export function fromByteLevel(symbols: string): string {
  const bytes: number[] = [];
  for (const ch of symbols) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) throw new Error(`character ${JSON.stringify(ch)} is not in the byte-level alphabet`);
    bytes.push(b);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * GPT-2's pre-tokenization pattern: contractions, optional space + letters,
 * optional space + digits, optional space + other symbols, whitespace runs.
 * The same pattern the ByteLevel pre-tokenizer (`use_regex: true`) applies,
 * and llama.cpp's "gpt-2" pre-tokenizer.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Splits text into GPT-2 pre-tokens. */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}
