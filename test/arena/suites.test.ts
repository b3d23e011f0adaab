import { strict as assert } from "node:assert";
import { mkdirSync, writeFileSync, readdirSync, existsSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { loadSuite, parsePrompts, selectPrompts, findSuite } from "../../lib/arena/suites/index.js";
import { ConfigError, DataError } from "../../lib/util/errors.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

const GOOD_YAML = "name: t\nversion: 1\ndescription: test suite\ncategories: [math, writing]\n";

function suiteDir(yaml: string, prompts: string): string {
  const dir = join(tempDir(), "suite");
  mkdirSync(dir);
  writeFileSync(join(dir, "suite.yaml"), yaml);
  writeFileSync(join(dir, "prompts.jsonl"), prompts);
  return dir;
}

describe("arena/suites", () => {
  after(removeTempDirs);

  it("loads the general suite: >= 60 prompts over the ten categories, references where checkable", () => {
    const s = loadSuite("general");
    assert.equal(s.name, "general");
    assert.ok(s.prompts.length >= 60, `${s.prompts.length} prompts`);
    const cats = new Set(s.prompts.map((p) => p.category));
    for (const c of ["knowledge", "reasoning", "math", "coding", "writing", "summarization", "recommendation", "planning", "troubleshooting", "harm"]) {
      assert.ok(cats.has(c), `no ${c} prompt`);
    }
    const withRef = s.prompts.filter((p) => p.reference !== undefined);
    assert.ok(withRef.length >= 25, `${withRef.length} references`);
    for (const p of s.prompts.filter((p) => p.category === "math")) assert.ok(p.reference, `math prompt ${p.id} has no reference`);
    for (const p of s.prompts.filter((p) => p.tags?.includes("metric:regex"))) assert.doesNotThrow(() => new RegExp(p.reference!), p.id);
    assert.match(s.hash, /^[0-9a-f]{64}$/);
    assert.equal(s.hash, loadSuite("general").hash, "hash is stable");
    assert.equal(s.category_generation?.math?.temperature, 0);
  });

  it("validates every suite shipped in eval-suites/", () => {
    const root = join(import.meta.dirname, "../../eval-suites");
    const names = readdirSync(root).filter((d) => existsSync(join(root, d, "suite.yaml")));
    assert.ok(names.includes("general"));
    for (const name of names) {
      const s = loadSuite(join(root, name));
      assert.equal(s.name, name, `suite.yaml name matches its folder ${name}`);
      assert.ok(s.prompts.length > 0);
      for (const p of s.prompts.filter((x) => x.tags?.includes("metric:regex"))) assert.doesNotThrow(() => new RegExp(p.reference!), `${name}/${p.id}`);
    }
  });

  it("loads the mini suite by folder; a prompt string becomes one user message; messages are kept", () => {
    const s = loadSuite(join(import.meta.dirname, "../fixtures/arena/suites/mini"));
    assert.equal(s.prompts.length, 8);
    assert.deepEqual(s.prompts[0].messages, [{ role: "user", content: "What is 17 * 23?" }]);
    const w2 = s.prompts.find((p) => p.id === "w2")!;
    assert.equal(w2.messages.length, 3);
    assert.deepEqual(s.prompts.find((p) => p.id === "k2")!.tags, ["metric:contains"]);
  });

  it("names the file, line and key of every bad prompt line", () => {
    const lines = [
      '{"id": "a", "category": "math", "prompt": "ok"}',
      "",
      '{"id": "b", "category": "math", "prompt": "x", "answer": "y"}',
      '{"id": "a", "category": "math", "prompt": "dup"}',
      '{"id": "c", "category": "poetry", "prompt": "x"}',
      '{"id": "d", "category": "math"}',
      '{"id": "e", "category": "math", "prompt": "x", "messages": [{"role": "user", "content": "y"}]}',
      '{"id": "f", "category": "math", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}',
      "{not json",
      '{"id": "g", "category": "math", "prompt": "x", "tags": "t"}',
    ].join("\n");
    const file = join(suiteDir(GOOD_YAML, lines), "prompts.jsonl");
    assert.throws(
      () => parsePrompts(lines, file, ["math", "writing"]),
      (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.equal(e.location.file, file);
        assert.equal(e.location.line, 3);
        assert.equal(e.location.key, "answer");
        const m = e.message;
        assert.match(m, new RegExp(`${file}:3 key 'answer': unknown key 'answer'`));
        assert.match(m, /:4 key 'id': duplicate id 'a' \(first on line 1\)/);
        assert.match(m, /:5 key 'category': category 'poetry' is not in suite.yaml's categories/);
        assert.match(m, /:6 key 'prompt': give exactly one of 'prompt' or 'messages'/);
        assert.match(m, /:7 key 'prompt': give exactly one/);
        assert.match(m, /:8 key 'messages.1.role': the last message must be from the user/);
        assert.match(m, /:9: not valid JSON/);
        assert.match(m, /:10 key 'tags'/);
        return true;
      },
    );
  });

  it("reports suite.yaml problems with file, line and key", () => {
    const dir = suiteDir("name: t\nversion: 1\ndescription: d\ncategories: [math]\njudge:\n  type: oracle\n", '{"id":"a","category":"math","prompt":"x"}\n');
    assert.throws(() => loadSuite(dir), (e: unknown) => e instanceof ConfigError && e.location.line === 6 && e.location.key === "judge.type");
    const dir2 = suiteDir("name: t\nversion: 1\ndescription: d\ncategories: [math]\ncolour: red\n", '{"id":"a","category":"math","prompt":"x"}\n');
    assert.throws(() => loadSuite(dir2), (e: unknown) => e instanceof ConfigError && e.location.line === 5 && /unknown config key 'colour'/.test(e.message));
    const dir3 = suiteDir("name: t\nversion: 1\ndescription: d\ncategories: [math]\nprompts: missing.jsonl\n", "");
    assert.throws(() => loadSuite(dir3), /missing.jsonl does not exist/);
    const dir4 = suiteDir(GOOD_YAML + "category_generation:\n  poetry: {temperature: 0}\n", '{"id":"a","category":"math","prompt":"x"}\n');
    assert.throws(() => loadSuite(dir4), (e: unknown) => e instanceof ConfigError && e.location.line === 6 && e.location.key === "category_generation.poetry");
    const dir5 = suiteDir(GOOD_YAML, "\n\n");
    assert.throws(() => loadSuite(dir5), /holds no prompts/);
  });

  it("refuses a relative prompts path that leaves the suite folder, without reading it", () => {
    const secret = join(tempDir(), "secret.jsonl");
    writeFileSync(secret, "root:x:0:0:root:/root:/bin/bash\n");
    const dir = suiteDir(GOOD_YAML, '{"id":"a","category":"math","prompt":"x"}\n');
    const escape = relative(dir, secret);
    for (const path of [escape, "../../../../../../../../etc/passwd"]) {
      writeFileSync(join(dir, "suite.yaml"), `${GOOD_YAML}prompts: ${path}\n`);
      assert.throws(
        () => loadSuite(dir),
        (e: unknown) => e instanceof ConfigError && e.location.key === "prompts" && e.location.line === 5 && /leads out of the suite folder/.test(e.message) && !/root:x/.test(e.message),
      );
    }
    // A link inside the folder that points out of it is refused the same way.
    symlinkSync(secret, join(dir, "linked.jsonl"));
    writeFileSync(join(dir, "suite.yaml"), `${GOOD_YAML}prompts: linked.jsonl\n`);
    assert.throws(() => loadSuite(dir), /leads out of the suite folder/);
    // An absolute path is an explicit choice: it is read (and this one is no prompts file).
    writeFileSync(join(dir, "suite.yaml"), `${GOOD_YAML}prompts: ${secret}\n`);
    assert.throws(() => loadSuite(dir), (e: unknown) => e instanceof DataError && e.location.file === secret);
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "p.jsonl"), '{"id":"a","category":"math","prompt":"x"}\n');
    writeFileSync(join(dir, "suite.yaml"), `${GOOD_YAML}prompts: data/../data/p.jsonl\n`);
    assert.equal(loadSuite(dir).prompts.length, 1);
  });

  it("says where it looked for an unknown suite", () => {
    assert.throws(() => findSuite("no-such-suite"), (e: unknown) => e instanceof ConfigError && /no suite 'no-such-suite'.*eval-suites/.test(e.message));
  });

  it("selects prompts by category, id and limit, in suite order, and rejects unknown ones", () => {
    const s = loadSuite("general");
    assert.ok(selectPrompts(s.prompts, { categories: ["math"] }).every((p) => p.category === "math"));
    assert.deepEqual(selectPrompts(s.prompts, { ids: ["math-02", "math-01"] }).map((p) => p.id), ["math-02", "math-01"]);
    assert.equal(selectPrompts(s.prompts, { limit: 5 }).length, 5);
    assert.throws(() => selectPrompts(s.prompts, { categories: ["astrology"] }), /no prompt has category 'astrology'/);
    assert.throws(() => selectPrompts(s.prompts, { ids: ["nope"] }), (e: unknown) => e instanceof ConfigError && e.location.key === "prompts.ids");
  });
});
