/**
 * Hugging Face tokenizers: `tokenizer.json` + `tokenizer_config.json`
 * through @huggingface/tokenizers, chat templates through @huggingface/jinja,
 * special tokens, and batch encoding with padding and truncation (the
 * library encodes one text at a time).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import { FormatError, TslmError } from "../util/errors.js";
import { readJsonFile, readTextFile } from "../util/files.js";
import { writeJsonAtomic } from "../util/atomic.js";

/** One chat turn, as chat templates expect it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  content: string;
  [extra: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the assistant header so the model answers next (default false). */
  addGenerationPrompt?: boolean;
  /** Tool descriptions for templates that support them. */
  tools?: unknown[];
  /** Extra template variables (e.g. `enable_thinking`). */
  extra?: Record<string, unknown>;
  /** Which named template to use when the tokenizer has several (default "default"). */
  templateName?: string;
}

export interface EncodeOptions {
  /** Add the tokenizer's BOS/EOS per its post-processor (default true). */
  addSpecialTokens?: boolean;
}

export interface EncodeBatchOptions extends EncodeOptions {
  /** "longest": pad to the longest row; "max_length": pad to `maxLength`; false: no padding. Default "longest". */
  padding?: "longest" | "max_length" | false;
  /** Truncate rows longer than this (when `truncation`), and the target of "max_length" padding. */
  maxLength?: number;
  /** Cut rows to `maxLength` tokens (default true when maxLength is given). */
  truncation?: boolean;
  /** Where padding goes: "right" (training) or "left" (batched generation). Default "right". */
  paddingSide?: "left" | "right";
  /** Which side truncation cuts from (default "right", keeping the start). */
  truncationSide?: "left" | "right";
}

export interface BatchEncoding {
  /** `[B, T]` token ids (padded with the pad id). */
  inputIds: number[][];
  /** `[B, T]` 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /** Unpadded lengths. */
  lengths: number[];
}

type JsonObject = Record<string, unknown>;

function tokenContent(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as JsonObject).content === "string") return (v as JsonObject).content as string;
  return null;
}

export class Tokenizer {
  private readonly hf: HfTokenizer;
  private readonly templates: Map<string, string>;
  private readonly compiled = new Map<string, Template>();
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param config parsed tokenizer_config.json ({} if absent)
   * @param chatTemplate overrides the config's template (e.g. from chat_template.jinja)
   */
  constructor(
    readonly tokenizerJson: JsonObject,
    readonly config: JsonObject = {},
    chatTemplate?: string | null,
    readonly source?: string,
  ) {
    try {
      this.hf = new HfTokenizer(tokenizerJson, config);
    } catch (e) {
      throw new FormatError(`cannot build tokenizer: ${(e as Error).message}`, { file: source }, { cause: e });
    }
    this.templates = new Map();
    const ct = chatTemplate ?? config.chat_template;
    if (typeof ct === "string") this.templates.set("default", ct);
    else if (Array.isArray(ct)) {
      for (const t of ct as { name?: unknown; template?: unknown }[]) {
        if (typeof t?.name === "string" && typeof t?.template === "string") this.templates.set(t.name, t.template);
      }
    }
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
    this.padToken = tokenContent(config.pad_token);
    this.unkToken = tokenContent(config.unk_token);
  }

  /** Vocabulary size including added tokens (largest id + 1). */
  get vocabSize(): number {
    let max = -1;
    for (const id of this.hf.get_vocab(true).values()) if (id > max) max = id;
    return max + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  get bosTokenId(): number | null {
    return this.bosToken === null ? null : this.hf.token_to_id(this.bosToken) ?? null;
  }

  get eosTokenId(): number | null {
    return this.eosToken === null ? null : this.hf.token_to_id(this.eosToken) ?? null;
  }

  /** The pad id: the pad token, else EOS (a common fallback), else 0. */
  get padTokenId(): number {
    const p = this.padToken === null ? undefined : this.hf.token_to_id(this.padToken);
    return p ?? this.eosTokenId ?? 0;
  }

  /** Ids of every added token marked special (BOS, EOS, chat markers...). */
  specialTokenIds(): Set<number> {
    const out = new Set<number>();
    for (const [id, tok] of this.hf.get_added_tokens_decoder()) if ((tok as { special?: boolean }).special) out.add(id);
    return out;
  }

  /** Text -> ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** Ids -> text ("" for no ids, as transformers gives). */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.hf.decode(ids as number[], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  /** Encodes several texts into a rectangular batch. */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): BatchEncoding {
    const maxLength = options.maxLength;
    const truncation = options.truncation ?? maxLength !== undefined;
    const padding = options.padding ?? "longest";
    if (padding === "max_length" && maxLength === undefined) throw new TslmError("padding 'max_length' needs maxLength");
    if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength <= 0)) throw new TslmError(`maxLength must be a positive integer, got ${maxLength}`);
    const rows = texts.map((t) => {
      let ids = this.encode(t, options);
      if (truncation && maxLength !== undefined && ids.length > maxLength) {
        ids = options.truncationSide === "left" ? ids.slice(ids.length - maxLength) : ids.slice(0, maxLength);
      }
      return ids;
    });
    const lengths = rows.map((r) => r.length);
    const target = padding === "max_length" ? maxLength! : padding === "longest" ? Math.max(0, ...lengths) : 0;
    const pad = this.padTokenId;
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    for (const r of rows) {
      const n = Math.max(0, target - r.length);
      const fill = new Array<number>(n).fill(pad);
      const ones = new Array<number>(r.length).fill(1);
      const zeros = new Array<number>(n).fill(0);
      if (options.paddingSide === "left") {
        inputIds.push([...fill, ...r]);
        attentionMask.push([...zeros, ...ones]);
      } else {
        inputIds.push([...r, ...fill]);
        attentionMask.push([...ones, ...zeros]);
      }
    }
    return { inputIds, attentionMask, lengths };
  }

  /** True when the tokenizer carries a chat template. */
  hasChatTemplate(name = "default"): boolean {
    return this.templates.has(name);
  }

  /** The chat template source (or null). */
  chatTemplate(name = "default"): string | null {
    return this.templates.get(name) ?? null;
  }

  /** Renders messages through the model's chat template. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    const name = options.templateName ?? "default";
    const src = this.templates.get(name);
    if (src === undefined) {
      throw new TslmError(`this tokenizer has no chat template${name !== "default" ? ` named '${name}'` : ""}; pass a plain prompt instead`, { file: this.source });
    }
    let tpl = this.compiled.get(name);
    if (!tpl) {
      try {
        tpl = new Template(src);
      } catch (e) {
        throw new FormatError(`chat template does not parse: ${(e as Error).message}`, { file: this.source, key: "chat_template" });
      }
      this.compiled.set(name, tpl);
    }
    const vars: Record<string, unknown> = {
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? "",
      eos_token: this.eosToken ?? "",
      pad_token: this.padToken ?? "",
      unk_token: this.unkToken ?? "",
      ...options.extra,
    };
    if (options.tools) vars.tools = options.tools;
    return tpl.render(vars);
  }

  /** Chat messages -> ids (special tokens come from the template, none added). */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }
}

/**
 * Loads `tokenizer.json` and `tokenizer_config.json` (and `chat_template.jinja`
 * or `chat_template.json` when present) from a model folder.
 */
export function loadTokenizer(dir: string): Tokenizer {
  const tj = join(dir, "tokenizer.json");
  if (!existsSync(tj)) {
    const hint = existsSync(join(dir, "tokenizer.model")) ? " (a SentencePiece tokenizer.model alone is not supported; tokenizer.json is needed)" : "";
    throw new FormatError(`no tokenizer.json in the model folder${hint}`, { file: dir });
  }
  const cfgFile = join(dir, "tokenizer_config.json");
  const config = existsSync(cfgFile) ? (readJsonFile(cfgFile) as JsonObject) : {};
  let template: string | null = null;
  const jinja = join(dir, "chat_template.jinja");
  const ctJson = join(dir, "chat_template.json");
  if (existsSync(jinja)) template = readTextFile(jinja);
  else if (existsSync(ctJson)) {
    const c = (readJsonFile(ctJson) as JsonObject).chat_template;
    if (typeof c === "string") template = c;
  }
  return new Tokenizer(readJsonFile(tj) as JsonObject, config, template, dir);
}

/**
 * Writes `tokenizer.json` and `tokenizer_config.json` (chat template
 * included) atomically into `dir`.
 */
export function saveTokenizer(tokenizer: Tokenizer, dir: string): void {
  const config: JsonObject = { ...tokenizer.config };
  const tpl = tokenizer.chatTemplate();
  if (tpl !== null && config.chat_template === undefined) config.chat_template = tpl;
  writeJsonAtomic(join(dir, "tokenizer.json"), tokenizer.tokenizerJson);
  writeJsonAtomic(join(dir, "tokenizer_config.json"), config);
}
