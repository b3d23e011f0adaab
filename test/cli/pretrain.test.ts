/** `tslm pretrain` from the command line: every pretraining key is a flag, and --corpus-file reads through lib/data. */
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { oneErrorLine, oneJson, tslm, tslmInProcess } from "../support/cli.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

const TINY = ["--steps", "2", "--warmup-steps", "1", "--hidden-size", "32", "--num-hidden-layers", "1", "--intermediate-size", "64", "--vocab-size", "300", "--seq-length", "32", "--batch-size", "2", "--checkpoint-every", "0", "--backend", "wasm"];

describe("cli: pretrain", function () {
  this.timeout(180_000);
  after(removeTempDirs);

  it("trains a tiny model on a --corpus-file (documents separated by blank lines)", () => {
    const dir = tempDir();
    const corpus = join(dir, "corpus.txt");
    writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `Document ${i}: the river ${i % 7} runs past the mill ${i % 5}.`).join("\n\n") + "\n");
    const r = tslm("pretrain", "--out", join(dir, "model"), "--work-dir", join(dir, "work"), "--corpus-file", corpus, ...TINY, "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = oneJson(r.stdout);
    assert.deepEqual([j.dir, j.steps], [join(dir, "model"), 2]);
    assert.ok(j.vocabSize > 260 && j.vocabSize <= 300, `vocabulary ${j.vocabSize}: bytes, special tokens and the merges this corpus has`);
  });

  it("names a bad corpus line, and a missing --out", async () => {
    const dir = tempDir();
    const corpus = join(dir, "corpus.jsonl");
    writeFileSync(corpus, '{"text": "one"}\n{"body": "two"}\n');
    const bad = await tslmInProcess(["pretrain", "--out", join(dir, "model"), "--corpus-file", corpus]);
    assert.equal(bad.code, 1);
    assert.match(oneErrorLine(bad), /each line needs a string 'text' field .*corpus\.jsonl:2/);
    const missing = await tslmInProcess(["pretrain", "--corpus-file", corpus]);
    assert.equal(missing.code, 2);
    assert.match(oneErrorLine(missing), /--out is required/);
  });
});
