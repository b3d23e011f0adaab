/** Adapts lib/tokenizer's Tokenizer to the small interface the data layer uses. */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { ChatMessage, TextTokenizer } from "./encode.js";

/**
 * Wraps a Tokenizer: encodes without adding BOS/EOS (the formats add what
 * they need), decodes keeping special tokens, exposes EOS and the chat
 * template when there is one.
 */
export function textTokenizer(tok: Tokenizer): TextTokenizer & { padTokenId: number } {
  const eos = tok.eosTokenId;
  return {
    encode: (text: string) => tok.encode(text, { addSpecialTokens: false }),
    decode: (ids: readonly number[]) => tok.decode(ids),
    eosTokenId: eos === null ? undefined : eos,
    padTokenId: tok.padTokenId,
    applyChatTemplate: tok.hasChatTemplate()
      ? (messages: ChatMessage[], o: { addGenerationPrompt: boolean }) => tok.applyChatTemplate(messages.map((m) => ({ role: m.role, content: m.content })), { addGenerationPrompt: o.addGenerationPrompt })
      : undefined,
  };
}
