import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { embeddedSkills, generateWorld, embeddedTasks, splitTasks, pretrainingCorpus, taskRecords, writeSkillsSuite, SKILLS_SUITE_NAME } from "../../lib/data/embedded/index.js";
import { loadSuite } from "../../lib/arena/suites/load.js";
import { writeSkillsFiles } from "../../lib/train/skills.js";
import { embeddedModelDir } from "../../lib/data/embedded/default-model.js";
import { packageInfo } from "../../lib/util/package.js";
import { tempDir } from "../support/tmp.js";

const root = packageInfo().root;

describe("data: embedded skills", () => {
  it("generates the same world for the same seed and another for another seed", () => {
    assert.deepEqual(generateWorld(1), generateWorld(1));
    assert.notDeepEqual(generateWorld(1).people, generateWorld(2).people);
    const names = generateWorld(1).people.map((p) => `${p.first} ${p.last}`);
    assert.equal(new Set(names).size, names.length);
  });

  it("has checkable answers in four categories and a disjoint 20% held-out split per category", () => {
    const { tasks, train, heldOut } = embeddedSkills();
    assert.equal(tasks.length, train.length + heldOut.length);
    const ids = new Set(train.map((t) => t.id));
    assert.ok(heldOut.every((t) => !ids.has(t.id)));
    for (const c of ["facts", "arithmetic", "strings", "formatting"]) {
      const all = tasks.filter((t) => t.category === c).length;
      const held = heldOut.filter((t) => t.category === c).length;
      assert.equal(held, Math.round(all * 0.2), c);
    }
    const t = tasks.find((x) => x.id === "arithmetic-add-7-5")!;
    assert.equal(t.answer, "12");
    assert.equal(tasks.find((x) => x.id === "strings-reverse-lamp")?.answer ?? "pmal", "pmal");
    assert.deepEqual(splitTasks(embeddedTasks(generateWorld(1)), 0.2, 1), { train, heldOut });
  });

  it("states every held-out fact in the pretraining corpus, never in the instruction format", () => {
    const { heldOut, tasks } = embeddedSkills();
    const corpus = pretrainingCorpus(tasks, 1, { repeats: 1 }).join("\n");
    for (const t of heldOut) assert.ok(corpus.includes(`${t.prompt}\n${t.answer}`), t.id);
    assert.ok(!corpus.includes("<|prompt|>") && !corpus.includes("<|answer|>"));
    assert.deepEqual(taskRecords(heldOut.slice(0, 1))[0], { id: heldOut[0].id, category: heldOut[0].category, prompt: heldOut[0].prompt, answer: heldOut[0].answer });
  });

  it("writes an eval suite that the arena loads, and the committed suite is current", () => {
    const dir = join(tempDir(), SKILLS_SUITE_NAME);
    writeSkillsSuite(dir);
    const suite = loadSuite(dir);
    assert.equal(suite.prompts.length, embeddedSkills().heldOut.length);
    assert.ok(suite.prompts.every((p) => p.reference !== undefined && p.tags?.includes("metric:exact")));
    const committed = join(root, "eval-suites", SKILLS_SUITE_NAME);
    for (const f of ["suite.yaml", "prompts.jsonl"]) assert.equal(readFileSync(join(committed, f), "utf8"), readFileSync(join(dir, f), "utf8"), `eval-suites/${SKILLS_SUITE_NAME}/${f} is stale`);
  });

  it("the skills files next to the embedded model are current", () => {
    const model = embeddedModelDir();
    assert.ok(existsSync(join(model, "config.json")), "models/tslm-tiny exists");
    const tmp = tempDir();
    const files = writeSkillsFiles(join(tmp, "m"), tmp);
    for (const f of ["skills/train.jsonl", "skills/heldout.jsonl"]) assert.equal(readFileSync(join(model, f), "utf8"), readFileSync(join(tmp, "m", f), "utf8"), f);
    assert.equal(files.length, 3);
  });
});
