import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { preTokenize, toByteLevel } from "../../lib/tokenizer/byte-level.js";
import { loadTokenizer } from "../../lib/tokenizer/tokenizer.js";
import { tempDir } from "../support/tmp.js";
import { sampleCorpus } from "./corpus.js";

/** Reference BPE: apply merges by rank to each pre-token (Sennrich et al.'s algorithm, written independently). */
function referenceEncode(text: string, vocab: Record<string, number>, merges: string[], specials: string[]): number[] {
  const rank = new Map(merges.map((m, i) => [m, i]));
  const out: number[] = [];
  const parts = text.split(new RegExp(`(${specials.map((s) => s.replace(/[|]/g, "\\|")).join("|")})`));
  for (const part of parts) {
    if (specials.includes(part)) {
      out.push(vocab[part]);
      continue;
    }
    for (const pre of preTokenize(part)) {
      let sym = [...toByteLevel(pre)];
      for (;;) {
        let best = -1, bestRank = Infinity;
        for (let i = 0; i + 1 < sym.length; i++) {
          const r = rank.get(`${sym[i]} ${sym[i + 1]}`);
          if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
        }
        if (best < 0) break;
        sym = [...sym.slice(0, best), sym[best] + sym[best + 1], ...sym.slice(best + 2)];
      }
      for (const s of sym) out.push(vocab[s]);
    }
  }
  return out;
}

describe("tokenizer/bpe-trainer", () => {
  it("trains a tokenizer.json that @huggingface/tokenizers loads, with the requested vocabulary", () => {
    const dir = tempDir();
    const trained = trainBpeTokenizer(sampleCorpus(), { vocabSize: 400 });
    trained.save(dir);
    const tok = loadTokenizer(dir);
    assert.equal(tok.vocabSize, 400);
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    const strings = Object.keys(json.model.vocab);
    assert.equal(new Set(strings).size, strings.length, "no duplicate token strings");
    assert.equal(tok.eosToken, "<|im_end|>");
    assert.equal(tok.padToken, "<|endoftext|>");
    assert.equal(tok.eosTokenId, 2);
  });

  it("round-trips any text, seen or not (byte-level alphabet)", () => {
    const { tokenizer } = trainBpeTokenizer(sampleCorpus(), { vocabSize: 400 });
    for (const s of ["The quick brown fox", "unseen: 日本語 😀👍🏽 Ωμέγα", "def f(x):\n\treturn x ** 2\r\n", "  spaces   and\n\nnewlines "]) {
      assert.equal(tokenizer.decode(tokenizer.encode(s)), s, JSON.stringify(s));
    }
    assert.ok(tokenizer.encode("The quick brown fox").length < "The quick brown fox".length / 2, "merges compress seen text");
  });

  it("matches an independent BPE encoder on the same vocab and merges", () => {
    const trained = trainBpeTokenizer(sampleCorpus(), { vocabSize: 420 });
    const vocab = (trained.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
    const merges = (trained.tokenizerJson.model as { merges: string[] }).merges;
    const specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
    for (const s of [...sampleCorpus().slice(0, 8), "Größe 2024 café; unseen words: zebra quixotic"]) {
      assert.deepEqual(trained.tokenizer.encode(s), referenceEncode(s, vocab, merges, specials), JSON.stringify(s));
    }
  });

  it("keeps special tokens whole and out of merges, and renders ChatML", () => {
    const { tokenizer, merges } = trainBpeTokenizer(sampleCorpus(), { vocabSize: 400 });
    assert.ok(merges.every(([a, b]) => !(a + b).includes("<|im")));
    const ids = tokenizer.encodeChat([{ role: "user", content: "Hi" }]);
    assert.equal(ids[0], 1);
    assert.equal(tokenizer.applyChatTemplate([{ role: "user", content: "Hi" }], { addGenerationPrompt: true }), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  });

  it("is deterministic and validates its options", () => {
    const a = trainBpeTokenizer(sampleCorpus(), { vocabSize: 380 });
    const b = trainBpeTokenizer(sampleCorpus(), { vocabSize: 380 });
    assert.deepEqual(a.merges, b.merges);
    assert.throws(() => trainBpeTokenizer(["x"], { vocabSize: 100 }), /vocabSize must be an integer >= 259/);
    assert.throws(() => trainBpeTokenizer(["x"], { vocabSize: 300, eosToken: "<eos>" }), /eosToken "<eos>" is not one of the special tokens/);
    const bos = trainBpeTokenizer(sampleCorpus(), { vocabSize: 300, specialTokens: ["<s>", "</s>"], bosToken: "<s>", eosToken: "</s>" });
    assert.deepEqual(bos.tokenizer.encode("hi").slice(0, 1), [0], "BOS is added by the post-processor");
  });
});
