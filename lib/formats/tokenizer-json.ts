/**
 * The `tokenizer.json` of a byte-level BPE tokenizer (GPT-2 / Llama 3 /
 * Qwen2 style), as the tokenizer trainer and the GGUF import build it: the
 * file format of Hugging Face tokenizers, so it lives with the other formats
 * (lib/tokenizer, above, loads and trains tokenizers).
 */
type Json = Record<string, unknown>;

export interface ByteLevelBpeParts {
  /** Token -> id of the BPE model (added tokens go in `addedTokens`). */
  vocab: Record<string, number>;
  /** "a b" merge rules, highest priority first. */
  merges: string[];
  /** tokenizer.json `added_tokens` entries. */
  addedTokens: Json[];
  normalizer?: Json | null;
  preTokenizer: Json;
  /** Token prepended to every sequence by the post-processor, or null. */
  bos?: { token: string; id: number } | null;
  /** Post-processor when no BOS is prepended (default none). */
  postProcessor?: Json | null;
  decoder: Json;
  /** Look whole pre-tokens up in the vocabulary before merging (Llama 3). */
  ignoreMerges?: boolean;
}

export function byteLevelBpeJson(p: ByteLevelBpeParts): Json {
  const bos = p.bos ?? null;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: p.addedTokens,
    normalizer: p.normalizer ?? null,
    pre_tokenizer: p.preTokenizer,
    post_processor: bos
      ? {
          type: "TemplateProcessing",
          single: [{ SpecialToken: { id: bos.token, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos.token, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
          special_tokens: { [bos.token]: { id: bos.token, ids: [bos.id], tokens: [bos.token] } },
        }
      : (p.postProcessor ?? null),
    decoder: p.decoder,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: p.ignoreMerges ?? false,
      vocab: p.vocab,
      merges: p.merges,
    },
  };
}
