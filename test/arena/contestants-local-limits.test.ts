/**
 * A local contestant and the model's context: a prompt longer than the
 * context fails alone (its answer records the error with the token counts),
 * every other answer of the contestant is kept, and `extra.truncate: "left"`
 * answers it from the prompt's last tokens instead.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { init } from "../../lib/tensor/index.js";
import { createModel, saveModel } from "../../lib/model/index.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/index.js";
import { runTournament } from "../../lib/arena/run.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

const CORPUS = Array.from({ length: 30 }, (_, i) => [`What is ${i} + ${i}? It is ${2 * i}.`, "Which planet is closest to the Sun? Mercury is.", "def add(a, b): return a + b"][i % 3]);
const CONTEXT = 64;

describe("arena/contestants: a local model's context", function () {
  this.timeout(120_000);
  after(removeTempDirs);

  it("a prompt past the context fails alone; the contestant's other answers are kept", async () => {
    await init();
    const root = tempDir();
    const modelDir = join(root, "tiny");
    const model = createModel({ vocabSize: 300, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: CONTEXT }, { seed: 3, initStd: 0.3 });
    model.tokenizer = trainBpeTokenizer(CORPUS, { vocabSize: 300 }).tokenizer;
    const longPrompt = Array.from({ length: 300 }, (_, i) => ["planet", "closest", "Mercury", "add"][i % 4]).join(" ");
    assert.ok(model.tokenizer.encode(longPrompt).length > CONTEXT);
    await saveModel(model, modelDir);
    model.dispose();

    const suite = join(root, "suite");
    mkdirSync(suite);
    writeFileSync(join(suite, "suite.yaml"), "name: limits\nversion: \"1\"\ndescription: Prompts around a small context.\ncategories: [test]\ngeneration:\n  temperature: 0\n  max_tokens: 6\njudge:\n  type: reference\n");
    const prompts = [
      { id: "short1", category: "test", prompt: "What is 2 + 2?", reference: "4" },
      { id: "long", category: "test", prompt: longPrompt, reference: "Mercury" },
      { id: "short2", category: "test", prompt: "Which planet?", reference: "Mercury" },
    ];
    writeFileSync(join(suite, "prompts.jsonl"), prompts.map((p) => JSON.stringify(p)).join("\n") + "\n");

    const run = await runTournament(
      {
        name: "limits",
        out: root,
        cache: false,
        suite,
        contestants: [
          { name: "base", type: "local" as const, model: modelDir },
          { name: "brief", type: "local" as const, model: modelDir, system: "Be brief." },
          { name: "cut", type: "local" as const, model: modelDir, params: { extra: { truncate: "left" } } },
        ],
        judge: { type: "reference" as const, metric: "rouge-l" as const },
      },
      { progress: "off" },
    );
    const failed = run.errors.answers.map((a) => `${a.model}/${a.prompt_id}`).sort();
    assert.deepEqual(failed, ["base/long", "brief/long"], JSON.stringify(run.errors.answers));
    for (const a of run.errors.answers) {
      assert.match(a.error!, /prompt has \d+ tokens and 6 new tokens were asked for: \d+ tokens, more than the model's context of 64 tokens/);
    }
    const answered = run.answers.filter((a) => a.error === undefined).map((a) => `${a.model}/${a.prompt_id}`).sort();
    assert.deepEqual(answered, ["base/short1", "base/short2", "brief/short1", "brief/short2", "cut/long", "cut/short1", "cut/short2"]);
    assert.ok(run.answers.every((a) => a.error !== undefined || typeof a.text === "string"));
    // Battles on the short prompts were played.
    assert.ok(run.battles.some((b) => b.prompt_id === "short1"));
  });
});
