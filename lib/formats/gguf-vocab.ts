/**
 * Tokenizer metadata for GGUF from a Hugging Face `tokenizer.json` +
 * `tokenizer_config.json`, in the form llama.cpp loads (`tokenizer.ggml.*`).
 *
 * Byte-level BPE tokenizers (GPT-2, Llama 3, Qwen2, tslm's trainer) become
 * model "gpt2" with tokens, token types, merges and a pre-tokenizer name
 * chosen by matching the split regex against the ones llama.cpp knows.
 * SentencePiece-style tokenizers are refused by name for now.
 */
import { FormatError } from "../util/errors.js";
import { GgufTokenType, GgufValueType, KEY } from "./gguf-constants.js";
import type { GgufValue } from "./gguf-writer.js";

type Json = Record<string, unknown>;

/** Split regexes of known tokenizers and llama.cpp's names for them. */
const KNOWN_PRE: { pattern: string; pre: string }[] = [
  { pattern: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", pre: "gpt-2" },
  { pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", pre: "llama-bpe" },
  { pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", pre: "qwen2" },
];

/** The split regexes a tokenizer.json pre-tokenizer applies, in order. */
function splitPatterns(pre: unknown): string[] {
  if (!pre || typeof pre !== "object") return [];
  const p = pre as Json;
  if (p.type === "Sequence" && Array.isArray(p.pretokenizers)) return p.pretokenizers.flatMap(splitPatterns);
  if (p.type === "Split") {
    const pat = p.pattern as Json | undefined;
    if (pat && typeof pat.Regex === "string") return [pat.Regex];
  }
  if (p.type === "ByteLevel" && p.use_regex !== false) return [KNOWN_PRE[0].pattern];
  return [];
}

function isByteLevel(tj: Json): boolean {
  const has = (x: unknown): boolean => {
    if (!x || typeof x !== "object") return false;
    const o = x as Json;
    if (o.type === "ByteLevel") return true;
    if (o.type === "Sequence") return ((o.pretokenizers ?? o.decoders ?? []) as unknown[]).some(has);
    return false;
  };
  return has(tj.pre_tokenizer) || has(tj.decoder);
}

function contentOf(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return null;
}

export interface GgufVocab {
  /** Key/values to add to the GGUF file. */
  entries: [string, GgufValue][];
  /** Token count written (= the model's vocab size). */
  size: number;
  /** Pre-tokenizer name given to llama.cpp. */
  pre: string;
  warnings: string[];
}

/**
 * Builds `tokenizer.ggml.*` metadata for a vocabulary of `vocabSize` ids
 * (ids the tokenizer lacks, from padded embeddings, become unused
 * placeholder tokens).
 */
export function ggufVocabFromHf(tokenizerJson: Json, tokenizerConfig: Json, vocabSize: number, extra: { eosTokenIds?: number[]; bosTokenId?: number | null } = {}): GgufVocab {
  const model = tokenizerJson.model as Json | undefined;
  if (!model || model.type !== "BPE") throw new FormatError(`GGUF export supports BPE tokenizers; this one is ${JSON.stringify(model?.type)}`, { key: "model.type" });
  if (!isByteLevel(tokenizerJson)) {
    throw new FormatError("GGUF export supports byte-level BPE tokenizers (GPT-2 / Llama 3 / Qwen2 style); SentencePiece-style (Metaspace, byte fallback) is not supported yet", { key: "pre_tokenizer" });
  }
  const warnings: string[] = [];
  const tokens = new Array<string | undefined>(vocabSize);
  const types = new Array<number>(vocabSize).fill(GgufTokenType.NORMAL);
  for (const [tok, id] of Object.entries(model.vocab as Record<string, number>)) {
    if (id >= vocabSize) throw new FormatError(`token '${tok}' has id ${id}, outside the model's vocabulary of ${vocabSize}`, { key: "model.vocab" });
    tokens[id] = tok;
  }
  for (const a of (tokenizerJson.added_tokens ?? []) as Json[]) {
    const id = a.id as number;
    if (id >= vocabSize) throw new FormatError(`added token '${a.content}' has id ${id}, outside the model's vocabulary of ${vocabSize}`, { key: "added_tokens" });
    tokens[id] = a.content as string;
    types[id] = a.special ? GgufTokenType.CONTROL : GgufTokenType.USER_DEFINED;
  }
  const seen = new Set<string>();
  let filled = 0;
  for (let i = 0; i < vocabSize; i++) {
    let t = tokens[i];
    if (t === undefined || seen.has(t)) {
      // llama.cpp aborts on missing or duplicate token strings: give each a unique placeholder.
      t = `[PAD${i}]`;
      types[i] = GgufTokenType.UNUSED;
      filled++;
    }
    tokens[i] = t;
    seen.add(t);
  }
  if (filled > 0) warnings.push(`${filled} ids without a token got placeholder tokens [PADn]`);
  const rawMerges = (model.merges ?? []) as unknown[];
  const merges = rawMerges.map((m) => (Array.isArray(m) ? m.join(" ") : String(m)));
  const patterns = splitPatterns(tokenizerJson.pre_tokenizer);
  const known = patterns.length === 1 ? KNOWN_PRE.find((k) => k.pattern === patterns[0]) : undefined;
  const pre = known?.pre ?? "default";
  if (!known) warnings.push("pre-tokenizer not recognized; llama.cpp will split text with its default rules (token ids given directly are unaffected)");

  const idOf = (v: unknown): number | undefined => {
    const s = contentOf(v);
    if (s === null) return undefined;
    const i = tokens.indexOf(s);
    return i >= 0 ? i : undefined;
  };
  const entries: [string, GgufValue][] = [
    [KEY.tokenizerModel, { type: GgufValueType.STRING, value: "gpt2" }],
    [KEY.tokenizerPre, { type: GgufValueType.STRING, value: pre }],
    [KEY.tokens, { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: tokens as string[] }],
    [KEY.tokenType, { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: types }],
    [KEY.merges, { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: merges }],
  ];
  const bos = idOf(tokenizerConfig.bos_token) ?? extra.bosTokenId ?? undefined;
  const eos = idOf(tokenizerConfig.eos_token) ?? extra.eosTokenIds?.[0];
  const pad = idOf(tokenizerConfig.pad_token);
  const unk = idOf(tokenizerConfig.unk_token);
  if (bos !== undefined) entries.push([KEY.bosId, { type: GgufValueType.UINT32, value: bos }]);
  if (eos !== undefined) entries.push([KEY.eosId, { type: GgufValueType.UINT32, value: eos }]);
  if (pad !== undefined) entries.push([KEY.padId, { type: GgufValueType.UINT32, value: pad }]);
  if (unk !== undefined) entries.push([KEY.unkId, { type: GgufValueType.UINT32, value: unk }]);
  const post = tokenizerJson.post_processor as Json | null | undefined;
  const addsBos = tokenizerConfig.add_bos_token === true || (post?.type === "TemplateProcessing" && bos !== undefined && JSON.stringify(post.single ?? "").includes("SpecialToken"));
  entries.push([KEY.addBos, { type: GgufValueType.BOOL, value: addsBos }]);
  entries.push([KEY.addEos, { type: GgufValueType.BOOL, value: tokenizerConfig.add_eos_token === true }]);
  const tpl = tokenizerConfig.chat_template;
  if (typeof tpl === "string") entries.push([KEY.chatTemplate, { type: GgufValueType.STRING, value: tpl }]);
  return { entries, size: vocabSize, pre, warnings };
}

/**
 * A placeholder vocabulary for models without a tokenizer: llama.cpp needs
 * one to load a model. Tokens are `<tN>`; text cannot be tokenized
 * meaningfully, token ids work.
 */
export function placeholderVocab(vocabSize: number): GgufVocab {
  const tokens = Array.from({ length: vocabSize }, (_, i) => `<t${i}>`);
  return {
    entries: [
      [KEY.tokenizerModel, { type: GgufValueType.STRING, value: "gpt2" }],
      [KEY.tokenizerPre, { type: GgufValueType.STRING, value: "default" }],
      [KEY.tokens, { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: tokens }],
      [KEY.tokenType, { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: tokens.map(() => GgufTokenType.NORMAL) }],
      [KEY.merges, { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: [] }],
    ],
    size: vocabSize,
    pre: "default",
    warnings: ["the model has no tokenizer: wrote placeholder tokens <tN> (token ids work, text does not)"],
  };
}
