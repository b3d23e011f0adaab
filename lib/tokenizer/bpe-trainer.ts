/**
 * A small byte-level BPE trainer (Sennrich et al. 2016; GPT-2's byte-level
 * variant) that produces a real Hugging Face `tokenizer.json` (ByteLevel
 * pre-tokenizer and decoder, BPE model) plus a `tokenizer_config.json` with a
 * ChatML chat template. Made for small vocabularies (hundreds to a few
 * thousand tokens) and corpora of a few megabytes.
 *
 * Vocabulary layout: special tokens first (ids 0..S-1), then the 256 byte
 * symbols in byte order, then one token per merge in merge order.
 * Merge choice: the most frequent adjacent pair; ties go to the pair with
 * the smaller (left id, right id), so training is deterministic.
 */
import { mkdirSync } from "node:fs";
import { TslmError } from "../util/errors.js";
import { byteAlphabet, preTokenize, toByteLevel } from "./byte-level.js";
import { byteLevelBpeJson } from "../formats/tokenizer-json.js";
import { Tokenizer, saveTokenizer } from "./tokenizer.js";

/** ChatML, as Qwen and many small chat models use it. */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export interface BpeTrainerOptions {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** Special tokens, given ids 0..S-1 (default `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`). */
  specialTokens?: string[];
  /** Pairs seen fewer times are never merged (default 2). */
  minFrequency?: number;
  /** End-of-sequence token (default `<|im_end|>` when present, else the first special token). */
  eosToken?: string;
  /** Padding token (default `<|endoftext|>` when present, else the EOS token). */
  padToken?: string;
  /** Beginning-of-sequence token, or null for none (default null: no BOS is added). */
  bosToken?: string | null;
  /** Chat template (default ChatML, `CHATML_TEMPLATE`). */
  chatTemplate?: string;
  /** `model_max_length` written to tokenizer_config.json (default 2048). */
  modelMaxLength?: number;
}

export interface TrainedBpe {
  tokenizer: Tokenizer;
  /** tokenizer.json content. */
  tokenizerJson: Record<string, unknown>;
  /** tokenizer_config.json content. */
  tokenizerConfig: Record<string, unknown>;
  merges: [string, string][];
  /** Saves both files into `dir` (created if missing). */
  save(dir: string): void;
}

/** Max-heap of (count, pair key) with lazy deletion. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private better(i: number, j: number): boolean {
    const ci = this.counts[i], cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } | undefined {
    if (this.keys.length === 0) return undefined;
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastC = this.counts.pop()!, lastK = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.keys.length && this.better(l, m)) m = l;
        if (r < this.keys.length && this.better(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

const SHIFT = 2 ** 20; // pair key = left * SHIFT + right; ids stay below 2^20

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Trains a byte-level BPE tokenizer on `texts`.
 * @example const { tokenizer } = trainBpeTokenizer(["hello world"], { vocabSize: 300 }); tokenizer.decode(tokenizer.encode("hello")) === "hello"
 */
export function trainBpeTokenizer(texts: Iterable<string>, options: BpeTrainerOptions): TrainedBpe {
  const specials = options.specialTokens ?? ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
  if (new Set(specials).size !== specials.length) throw new TslmError("special tokens must be distinct");
  const alphabet = byteAlphabet();
  const base = specials.length + alphabet.length;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base) {
    throw new TslmError(`vocabSize must be an integer >= ${base} (${specials.length} special tokens + 256 bytes), got ${options.vocabSize}`);
  }
  if (options.vocabSize >= SHIFT) throw new TslmError(`vocabSize must be below ${SHIFT}`);
  const minFrequency = options.minFrequency ?? 2;

  // Count pre-tokens (as byte-level strings), keeping special tokens out of the statistics.
  const splitter = specials.length ? new RegExp(specials.map(escapeRegExp).join("|"), "g") : null;
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of splitter ? text.split(splitter) : [text]) {
      for (const pre of preTokenize(piece)) {
        const w = toByteLevel(pre);
        wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      }
    }
  }

  const tokens: string[] = [...specials, ...alphabet];
  const tokenIndex = new Map(tokens.map((t, i) => [t, i]));
  const byteId = new Map(alphabet.map((c, i) => [c, specials.length + i]));
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push([...w].map((ch) => byteId.get(ch)!));
    freq.push(c);
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const sym = words[wi];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = sym[i] * SHIFT + sym[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[wi]);
      if (sign > 0) {
        let s = pairWords.get(key);
        if (!s) pairWords.set(key, (s = new Set()));
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: [string, string][] = [];
  while (tokens.length < options.vocabSize) {
    let best: { count: number; key: number } | undefined;
    while ((best = heap.pop())) {
      if (pairCount.get(best.key) === best.count) break; // skip stale entries
    }
    if (!best || best.count < minFrequency) break;
    const a = Math.floor(best.key / SHIFT), b = best.key % SHIFT;
    // Two merge paths can spell the same string ("ab"+"c", "a"+"bc"): reuse its id
    // (as the reference trainer does), so no token string appears twice.
    const merged = tokens[a] + tokens[b];
    let newId = tokenIndex.get(merged);
    if (newId === undefined) {
      newId = tokens.length;
      tokens.push(merged);
      tokenIndex.set(merged, newId);
    }
    merges.push([tokens[a], tokens[b]]);
    const touched = new Set<number>();
    for (const wi of pairWords.get(best.key) ?? []) {
      const sym = words[wi];
      let has = false;
      for (let i = 0; i + 1 < sym.length; i++) if (sym[i] === a && sym[i + 1] === b) { has = true; break; }
      if (!has) continue;
      addPairs(wi, -1);
      const next: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
          next.push(newId!);
          i++;
        } else next.push(sym[i]);
      }
      words[wi] = next;
      addPairs(wi, 1);
      for (let i = 0; i + 1 < next.length; i++) touched.add(next[i] * SHIFT + next[i + 1]);
    }
    pairCount.delete(best.key);
    pairWords.delete(best.key);
    for (const key of touched) {
      const c = pairCount.get(key);
      if (c !== undefined && c > 0) heap.push(c, key);
    }
  }

  return buildTokenizer(tokens, merges, specials, options);
}

function buildTokenizer(tokens: string[], merges: [string, string][], specials: string[], options: BpeTrainerOptions): TrainedBpe {
  const has = (t: string) => specials.includes(t);
  const eos = options.eosToken ?? (has("<|im_end|>") ? "<|im_end|>" : specials[0] ?? null);
  const pad = options.padToken ?? (has("<|endoftext|>") ? "<|endoftext|>" : eos);
  const bos = options.bosToken ?? null;
  for (const [what, t] of [["eosToken", eos], ["padToken", pad], ["bosToken", bos]] as const) {
    if (t !== null && !has(t)) throw new TslmError(`${what} ${JSON.stringify(t)} is not one of the special tokens ${JSON.stringify(specials)}`);
  }
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (vocab[t] === undefined) vocab[t] = i;
  });
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = byteLevelBpeJson({
    vocab,
    merges: merges.map(([a, b]) => `${a} ${b}`),
    addedTokens: added,
    preTokenizer: byteLevel,
    bos: bos === null ? null : { token: bos, id: specials.indexOf(bos) },
    postProcessor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
  });
  const addedDecoder: Record<string, unknown> = {};
  for (const a of added) addedDecoder[String(a.id)] = { content: a.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: bos !== null,
    add_eos_token: false,
    added_tokens_decoder: addedDecoder,
    bos_token: bos,
    eos_token: eos,
    pad_token: pad,
    unk_token: null,
    chat_template: options.chatTemplate ?? CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength ?? 2048,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  return {
    tokenizer,
    tokenizerJson,
    tokenizerConfig,
    merges,
    save(dir: string) {
      mkdirSync(dir, { recursive: true });
      saveTokenizer(tokenizer, dir);
    },
  };
}
