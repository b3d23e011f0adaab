/** Training text for tokenizer and generation tests. */
/** A small corpus with prose, code, numbers and non-ASCII text. */
export function sampleCorpus(): string[] {
  const lines = [
    "The quick brown fox jumps over the lazy dog.",
    "A language model predicts the next token from the tokens before it.",
    "Fine-tuning with LoRA trains small low-rank adapters instead of every weight.",
    "function add(a, b) { return a + b; }",
    "for i in range(10):\n    print(i * i)",
    "Prices rose 12.5% in 2024; the index hit 4,321.",
    "Größe, café, naïve, São Paulo, Zürich.",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>",
  ];
  return Array.from({ length: 40 }, (_, i) => lines[i % lines.length] + " " + lines[(i * 3) % lines.length]);
}
