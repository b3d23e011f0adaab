/**
 * The embedded default model has one home (lib/data/embedded/default-model.ts):
 * its folder, its suite and the corpus it is pretrained on; the demo, the
 * skills recipe and `tslm pretrain` take them from there, and pretraining
 * takes its corpus as an argument.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EMBEDDED_MODEL_DIR, EMBEDDED_SUITE, defaultModelCorpus, embeddedModelDir } from "../../lib/data/embedded/default-model.js";
import { DemoConfigSchema } from "../../lib/demo/config.js";
import { pretrain } from "../../lib/train/pretrain.js";
import { DataError } from "../../lib/util/errors.js";
import { packageInfo } from "../../lib/util/package.js";

const root = packageInfo().root;

describe("demo: the embedded default model's one home", () => {
  it("names the model folder and the suite the package ships", () => {
    assert.equal(embeddedModelDir(), join(root, EMBEDDED_MODEL_DIR));
    assert.ok(existsSync(join(embeddedModelDir(), "config.json")), `${EMBEDDED_MODEL_DIR}/config.json`);
    assert.match(readFileSync(join(root, "eval-suites", EMBEDDED_SUITE, "suite.yaml"), "utf8"), new RegExp(`^name: ${EMBEDDED_SUITE}$`, "m"));
    // The demo's default, as its config documents it.
    assert.match(DemoConfigSchema.shape.model.description ?? "", new RegExp(EMBEDDED_MODEL_DIR));
  });

  it("makes the default corpus from the embedded world: the same for the same seed, repeats shuffled apart", () => {
    const one = defaultModelCorpus({ corpusRepeats: 1 });
    assert.deepEqual(defaultModelCorpus({ corpusRepeats: 1 }), one);
    const three = defaultModelCorpus({ corpusRepeats: 3 });
    const sentences = (docs: string[]) => docs.flatMap((d) => d.split("\n"));
    assert.equal(sentences(three.documents).length, 3 * sentences(one.documents).length);
    assert.deepEqual(new Set(sentences(three.documents)), new Set(sentences(one.documents)));
    // The tokenizer's sample holds every sentence twice, whatever the repeats.
    assert.deepEqual(three.tokenizerSample, one.tokenizerSample);
    assert.equal(sentences(one.tokenizerSample).length, 2 * sentences(one.documents).length);
    assert.notDeepEqual(defaultModelCorpus({ corpusRepeats: 1, worldSeed: 2 }).documents, one.documents);
    assert.throws(() => defaultModelCorpus({ corpusRepeats: 0 }), /corpusRepeats/);
  });

  it("pretrains on the corpus it is given, and refuses an empty one", async () => {
    await assert.rejects(pretrain([], { out: "unused" }), (e: unknown) => e instanceof DataError && /no documents/.test(e.message));
  });
});
