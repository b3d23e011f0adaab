/**
 * From examples to token ids and labels.
 *
 * A conversation is first laid out as segments (text pieces with a "train"
 * flag: answers yes, prompts no), either in LLM Studio's marker style
 * (`<|prompt|>question</s><|answer|>answer</s>`) or through the tokenizer's
 * chat template. Segments are tokenized separately, as LLM Studio does, so
 * label masking follows segment boundaries exactly. Labels use the Hugging
 * Face convention: `labels[i]` is the target of position i before the shift
 * (the loss compares logits at i with labels at i + 1), -100 is ignored.
 */
import { DataError } from "../util/errors.js";
import type { DataConfig } from "./config.js";
import type { ChatExample, Example, RowLocation, TextExample } from "./conversations.js";
import { rowError } from "./conversations.js";

/** Label value the loss ignores (PyTorch's CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/** What the data layer needs from a tokenizer (lib/tokenizer's Tokenizer provides it). */
export interface TextTokenizer {
  /** Token ids of `text`, without adding BOS/EOS. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** End-of-sequence id, appended after prompts/answers when configured. */
  eosTokenId?: number;
  /** Renders chat messages with the model's template. */
  applyChatTemplate?(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A piece of a formatted example. `eos` appends the end-of-sequence id. */
export interface Segment {
  text: string;
  eos: boolean;
  /** True when these tokens are loss targets. */
  train: boolean;
  role: "system" | "prompt" | "answer" | "text";
}

/** A tokenized training sample. */
export interface Sample {
  inputIds: number[];
  /** Same length as inputIds; IGNORE_INDEX where no loss is taken. */
  labels: number[];
  /** Ids of everything before the last answer (the generation prompt for evaluation). */
  promptIds: number[];
  /** The last answer's text (the reference for exact match and BLEU); empty for text samples. */
  reference: string;
  source: RowLocation;
}

/** Converts a chat example to the chat-message list templates expect. */
export function toMessages(ex: ChatExample): ChatMessage[] {
  const msgs: ChatMessage[] = [];
  if (ex.system) msgs.push({ role: "system", content: ex.system });
  for (const t of ex.turns) msgs.push({ role: "user", content: t.prompt }, { role: "assistant", content: t.answer });
  return msgs;
}

/** Lays a conversation out in LLM Studio's marker style. */
export function llmStudioSegments(ex: ChatExample, cfg: DataConfig): Segment[] {
  const segs: Segment[] = [];
  const trainPrompt = !cfg.maskPromptLabels && !cfg.onlyLastAnswer;
  if (ex.system) segs.push({ text: cfg.textSystemStart + ex.system, eos: cfg.addEosTokenToSystem, train: trainPrompt, role: "system" });
  ex.turns.forEach((t, i) => {
    const last = i === ex.turns.length - 1;
    segs.push({ text: cfg.textPromptStart + t.prompt, eos: cfg.addEosTokenToPrompt, train: trainPrompt, role: "prompt" });
    segs.push({ text: cfg.textAnswerSeparator, eos: false, train: trainPrompt, role: "prompt" });
    segs.push({ text: t.answer, eos: cfg.addEosTokenToAnswer, train: last || !cfg.onlyLastAnswer, role: "answer" });
  });
  return segs;
}

/**
 * Lays a conversation out with the tokenizer's chat template. Each answer's
 * span is found by rendering the conversation up to that answer with and
 * without it; the template must render prefixes consistently.
 */
export function chatTemplateSegments(ex: ChatExample, cfg: DataConfig, tok: TextTokenizer): Segment[] {
  if (!tok.applyChatTemplate) throw new DataError("format 'chat-template' needs a tokenizer with a chat template; this one has none (use format 'llm-studio')");
  const msgs = toMessages(ex);
  const trainPrompt = !cfg.maskPromptLabels && !cfg.onlyLastAnswer;
  const segs: Segment[] = [];
  let done = "";
  const nAnswers = ex.turns.length;
  let answerIndex = 0;
  for (let k = 0; k < msgs.length; k++) {
    if (msgs[k].role !== "assistant") continue;
    const before = tok.applyChatTemplate(msgs.slice(0, k), { addGenerationPrompt: true });
    const through = tok.applyChatTemplate(msgs.slice(0, k + 1), { addGenerationPrompt: false });
    if (!before.startsWith(done) || !through.startsWith(before)) {
      throw rowError(ex.source, "the chat template does not render conversation prefixes consistently, so answer spans cannot be found (use format 'llm-studio')");
    }
    answerIndex++;
    segs.push({ text: before.slice(done.length), eos: false, train: trainPrompt, role: "prompt" });
    segs.push({ text: through.slice(before.length), eos: false, train: answerIndex === nAnswers || !cfg.onlyLastAnswer, role: "answer" });
    done = through;
  }
  return segs;
}

function segmentIds(seg: Segment, tok: TextTokenizer): number[] {
  const ids = seg.text === "" ? [] : tok.encode(seg.text);
  if (seg.eos) {
    if (tok.eosTokenId === undefined) throw new DataError("the format asks for an end-of-sequence token but the tokenizer has none (set addEosTokenTo* to false)");
    ids.push(tok.eosTokenId);
  }
  return ids;
}

/**
 * Tokenizes an example into a training sample, truncating to cfg.maxLength.
 * Returns a reason string instead when nothing trainable is left.
 */
export function encodeExample(ex: Example, cfg: DataConfig, tok: TextTokenizer): Sample | string {
  const segs: Segment[] =
    ex.kind === "text"
      ? [{ text: ex.text, eos: cfg.addEosTokenToAnswer, train: true, role: "text" }]
      : cfg.format === "chat-template"
        ? chatTemplateSegments(ex, cfg, tok)
        : llmStudioSegments(ex, cfg);
  let inputIds: number[] = [];
  let labels: number[] = [];
  let promptEnd = 0;
  const lastAnswer = segs.map((s) => s.role).lastIndexOf("answer");
  segs.forEach((seg, k) => {
    const ids = segmentIds(seg, tok);
    if (k === lastAnswer) promptEnd = inputIds.length;
    inputIds = inputIds.concat(ids);
    labels = labels.concat(seg.train ? ids : ids.map(() => IGNORE_INDEX));
  });
  if (lastAnswer < 0) promptEnd = 0;
  let promptIds = inputIds.slice(0, promptEnd);
  if (inputIds.length > cfg.maxLength) {
    if (cfg.truncation === "left") {
      inputIds = inputIds.slice(-cfg.maxLength);
      labels = labels.slice(-cfg.maxLength);
    } else {
      inputIds = inputIds.slice(0, cfg.maxLength);
      labels = labels.slice(0, cfg.maxLength);
    }
  }
  if (promptIds.length > cfg.maxLength - 1) promptIds = promptIds.slice(-(cfg.maxLength - 1));
  // The first position has no predecessor, so its label never counts.
  if (!labels.slice(1).some((l) => l !== IGNORE_INDEX)) {
    return inputIds.length < 2 ? "the sample has fewer than 2 tokens" : `no answer tokens left after truncating to maxLength ${cfg.maxLength}`;
  }
  const reference = ex.kind === "chat" ? ex.turns[ex.turns.length - 1].answer : "";
  return { inputIds, labels, promptIds, reference, source: ex.source };
}

/** Cuts a long token stream into fixed-length blocks for pretraining (the tail shorter than 2 tokens is dropped). */
export function packTokens(ids: readonly number[], blockLength: number, source: RowLocation): Sample[] {
  const out: Sample[] = [];
  for (let s = 0; s + 1 < ids.length; s += blockLength) {
    const block = ids.slice(s, s + blockLength);
    if (block.length < 2) break;
    out.push({ inputIds: block, labels: block.slice(), promptIds: [], reference: "", source });
  }
  return out;
}

export type { TextExample };
