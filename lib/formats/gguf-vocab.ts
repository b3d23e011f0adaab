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
import { byteLevelBpeJson } from "./tokenizer-json.js";

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

/** A Hugging Face tokenizer (tokenizer.json and tokenizer_config.json objects) rebuilt from GGUF metadata. */
export interface HfTokenizerFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
}

/**
 * Rebuilds `tokenizer.json` + `tokenizer_config.json` from a GGUF file's
 * `tokenizer.ggml.*` metadata: byte-level BPE ("gpt2" model) with one of the
 * pre-tokenizers llama.cpp names and tslm knows (gpt-2, llama-bpe, qwen2).
 * Control tokens become special added tokens, user-defined ones plain added
 * tokens; placeholder (unused) ids are left out. What GGUF does not store is
 * implied by the family: NFC normalization for qwen2, whole-word lookup
 * (ignore_merges) for llama-bpe. Returns null for a file
 * without a usable vocabulary (placeholder tokens, no merges).
 * @throws FormatError naming the key of anything it cannot rebuild.
 */
export function hfTokenizerFromGguf(get: (key: string) => unknown, file?: string): HfTokenizerFiles | null {
  const model = get(KEY.tokenizerModel);
  if (model === undefined) return null;
  if (model !== "gpt2") {
    throw new FormatError(`tokenizer model '${String(model)}' (SentencePiece-style) cannot be rebuilt yet; only byte-level BPE ('gpt2')`, { file, key: KEY.tokenizerModel });
  }
  const tokens = get(KEY.tokens);
  const merges = get(KEY.merges);
  if (!Array.isArray(tokens) || tokens.length === 0) throw new FormatError("no tokens", { file, key: KEY.tokens });
  if (!Array.isArray(merges) || merges.length === 0) return null;
  const types = (get(KEY.tokenType) as number[] | undefined) ?? [];
  const preName = String(get(KEY.tokenizerPre) ?? "default");
  const known = KNOWN_PRE.find((k) => k.pre === preName);
  if (!known) {
    throw new FormatError(`pre-tokenizer '${preName}' is not one tslm can rebuild (${KNOWN_PRE.map((k) => k.pre).join(", ")})`, { file, key: KEY.tokenizerPre });
  }
  const vocab: Record<string, number> = {};
  const added: Json[] = [];
  tokens.forEach((t, id) => {
    const type = types[id] ?? GgufTokenType.NORMAL;
    if (type === GgufTokenType.UNUSED) return;
    if (type === GgufTokenType.CONTROL || type === GgufTokenType.USER_DEFINED) {
      added.push({ id, content: String(t), single_word: false, lstrip: false, rstrip: false, normalized: false, special: type === GgufTokenType.CONTROL });
    } else vocab[String(t)] = id;
  });
  const byteLevel = (useRegex: boolean): Json => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  const preTokenizer: Json = known.pre === "gpt-2"
    ? byteLevel(true)
    : { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: known.pattern }, behavior: "Isolated", invert: false }, byteLevel(false)] };
  const tokenAt = (key: string): string | null => {
    const id = get(key);
    return typeof id === "number" && id >= 0 && id < tokens.length ? String(tokens[id]) : null;
  };
  const bos = tokenAt(KEY.bosId);
  const addBos = get(KEY.addBos) === true && bos !== null;
  const tokenizerJson = byteLevelBpeJson({
    vocab,
    merges: merges.map((m) => String(m)),
    addedTokens: added,
    // Qwen2-family tokenizers normalize to NFC first (GGUF keeps no normalizer; the family implies it).
    normalizer: known.pre === "qwen2" ? { type: "NFC" } : null,
    preTokenizer,
    bos: addBos ? { token: bos, id: get(KEY.bosId) as number } : null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    // llama.cpp's llama-bpe looks whole words up before merging, as Llama 3's tokenizer.json asks.
    ignoreMerges: known.pre === "llama-bpe",
  });
  const tokenizerConfig: Json = { add_bos_token: addBos, add_eos_token: get(KEY.addEos) === true, clean_up_tokenization_spaces: false };
  for (const [name, key] of [["bos_token", KEY.bosId], ["eos_token", KEY.eosId], ["pad_token", KEY.padId], ["unk_token", KEY.unkId]] as const) {
    const t = tokenAt(key);
    if (t !== null) tokenizerConfig[name] = t;
  }
  const tpl = get(KEY.chatTemplate);
  if (typeof tpl === "string") tokenizerConfig.chat_template = tpl;
  return { tokenizerJson, tokenizerConfig };
}
