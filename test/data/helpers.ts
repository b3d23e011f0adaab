/** Test helpers for lib/data: a real tokenizer (Llama 3's tokenizer.json) with a ChatML template. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageInfo } from "../../lib/util/package.js";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import type { TextTokenizer, ChatMessage } from "../../lib/data/encode.js";


const CHATML =
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/** Llama 3's real tokenizer; EOS is `<|end_of_text|>`; a ChatML chat template. */
export function testTokenizer(): TextTokenizer & { tokenizer: Tokenizer } {
  const dir = join(packageInfo().root, "node_modules", "@lenml", "tokenizer-llama3", "models");
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  const tokenizer = new Tokenizer(json, config);
  const template = new Template(CHATML);
  return {
    tokenizer,
    encode: (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids: readonly number[]) => tokenizer.decode([...ids]),
    eosTokenId: tokenizer.token_to_id("<|end_of_text|>"),
    applyChatTemplate: (messages: ChatMessage[], o: { addGenerationPrompt: boolean }) =>
      template.render({ messages, add_generation_prompt: o.addGenerationPrompt }),
  };
}
