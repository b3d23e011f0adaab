import assert from "node:assert/strict";
import {
  bleuAddOne, collapseWhitespace, exactMatchCollapsed, exactMatchTrimmed, meanSacreBleu, normalizedMatch, sacreBleu, tokenize13a,
} from "../../lib/data/text-metrics.js";
import { meanPerplexity } from "../../lib/train/metrics.js";

describe("data: text metrics (one module for fine-tuning evaluation and the arena)", () => {
  it("names each exact match after its normalisation", () => {
    assert.equal(exactMatchCollapsed("  Dradale \n", "Dradale"), 1);
    assert.equal(exactMatchCollapsed("dradale", "Dradale"), 0);
    assert.equal(collapseWhitespace("a \t b"), "a b");
    // Inner whitespace: collapsed matches, trimmed does not; SQuAD also ignores case and articles.
    assert.equal(exactMatchCollapsed("the  cat", "the cat"), 1);
    assert.equal(exactMatchTrimmed("the  cat", "the cat"), 0);
    assert.equal(normalizedMatch("The Cat!", "cat"), 1);
  });

  it("tokenizes like sacrebleu's 13a (punctuation split, decimals and apostrophes kept)", () => {
    assert.deepEqual(tokenize13a("Hello, world! It's 3.5 (approx)."), ["Hello", ",", "world", "!", "It's", "3.5", "(", "approx", ")", "."]);
  });

  it("computes sacrebleu's sentence BLEU (0-100) with effective order and exp smoothing", () => {
    assert.ok(Math.abs(sacreBleu("the cat sat on the mat", "the cat sat on the mat") - 100) < 1e-9);
    // Hand-computed: precisions 5/6, 3/5, 1/4 and the smoothed 4-gram 100/(2*3); brevity penalty 1.
    const want = Math.exp((Math.log(500 / 6) + Math.log(60) + Math.log(25) + Math.log(100 / 6)) / 4);
    assert.ok(Math.abs(sacreBleu("the cat sat on the mat", "the cat is on the mat") - want) < 1e-9);
    // A one-word hypothesis has only unigrams: effective order 1, with the brevity penalty.
    assert.ok(Math.abs(sacreBleu("cat", "the cat") - 100 * Math.exp(1 - 2)) < 1e-9);
    assert.equal(sacreBleu("", "the cat"), 0);
    assert.equal(meanSacreBleu(["x"], [""]), 0);
  });

  it("keeps the add-one BLEU (0-1, SQuAD tokens) apart from sacrebleu's", () => {
    // SQuAD tokens drop "the": cat sat on mat vs cat is on mat; 1-gram 3/4, 2-grams (1+1)/(3+1), 3-grams 1/3, 4-grams 1/2.
    const want = Math.exp((Math.log(3 / 4) + Math.log(2 / 4) + Math.log(1 / 3) + Math.log(1 / 2)) / 4);
    assert.ok(Math.abs(bleuAddOne("the cat sat on the mat", "the cat is on the mat") - want) < 1e-12);
    assert.ok(Math.abs(sacreBleu("the cat sat on the mat", "the cat is on the mat") / 100 - want) > 0.1, "the two BLEUs differ");
  });

  it("averages per-sample perplexities as LLM Studio does", () => {
    assert.ok(Math.abs(meanPerplexity([0, Math.log(3)]) - 2) < 1e-12);
  });
});
