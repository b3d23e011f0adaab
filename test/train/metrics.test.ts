import assert from "node:assert/strict";
import { exactMatch, sentenceBleu, meanBleu, meanPerplexity, tokenize13a, normalizeAnswer } from "../../lib/train/metrics.js";

describe("train: metrics", () => {
  it("matches answers exactly after trimming and collapsing whitespace", () => {
    assert.equal(exactMatch("  Dradale \n", "Dradale"), 1);
    assert.equal(exactMatch("dradale", "Dradale"), 0);
    assert.equal(normalizeAnswer("a \t b"), "a b");
  });

  it("tokenizes like sacrebleu's 13a (punctuation split, decimals and apostrophes kept)", () => {
    assert.deepEqual(tokenize13a("Hello, world! It's 3.5 (approx)."), ["Hello", ",", "world", "!", "It's", "3.5", "(", "approx", ")", "."]);
  });

  it("computes sentence BLEU with effective order and exp smoothing", () => {
    assert.ok(Math.abs(sentenceBleu("the cat sat on the mat", "the cat sat on the mat") - 100) < 1e-9);
    // Hand-computed: precisions 5/6, 3/5, 1/4 and the smoothed 4-gram 100/(2*3); brevity penalty 1.
    const want = Math.exp((Math.log(500 / 6) + Math.log(60) + Math.log(25) + Math.log(100 / 6)) / 4);
    assert.ok(Math.abs(sentenceBleu("the cat sat on the mat", "the cat is on the mat") - want) < 1e-9);
    // A one-word hypothesis has only unigrams: effective order 1, with the brevity penalty.
    assert.ok(Math.abs(sentenceBleu("cat", "the cat") - 100 * Math.exp(1 - 2)) < 1e-9);
    assert.equal(sentenceBleu("", "the cat"), 0);
    assert.equal(meanBleu(["x"], [""]), 0);
  });

  it("averages per-sample perplexities as LLM Studio does", () => {
    assert.ok(Math.abs(meanPerplexity([0, Math.log(3)]) - 2) < 1e-12);
  });
});
