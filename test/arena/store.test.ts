import { strict as assert } from "node:assert";
import { appendFileSync, readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { JournalWriter, readJournal } from "../../lib/arena/store/journal.js";
import { writeFileAtomic } from "../../lib/util/atomic.js";
import { canonicalJson, contentHash } from "../../lib/arena/store/hash.js";
import { ContentCache } from "../../lib/arena/store/cache.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { RunStore } from "../../lib/arena/store/run-store.js";
import { FormatError } from "../../lib/util/errors.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

describe("arena/store", () => {
  after(removeTempDirs);

  describe("hash", () => {
    it("is independent of key order and drops undefined fields", () => {
      assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
      assert.equal(contentHash({ x: 1, y: "z" }), contentHash({ y: "z", x: 1 }));
      assert.notEqual(contentHash({ x: 1 }), contentHash({ x: 2 }));
      assert.throws(() => canonicalJson({ x: NaN }), /non-finite/);
    });
  });

  describe("journal", () => {
    it("group-commits concurrent appends into few fsyncs and reads them back in order", async () => {
      const file = join(tempDir(), "j.jsonl");
      const w = await JournalWriter.open(file, "batch");
      await Promise.all(Array.from({ length: 500 }, (_, i) => w.append({ type: "answer", id: `a${i}` })));
      assert.ok(w.syncs < 50, `expected batched fsyncs, got ${w.syncs} for 500 records`);
      await w.close();
      const { entries, tornBytes } = readJournal(file);
      assert.equal(tornBytes, 0);
      assert.deepEqual(entries.map((e) => e.id), Array.from({ length: 500 }, (_, i) => `a${i}`));
    });

    it("always-policy syncs every record", async () => {
      const file = join(tempDir(), "j.jsonl");
      const w = await JournalWriter.open(file, "always");
      await Promise.all(Array.from({ length: 20 }, (_, i) => w.append({ type: "x", i })));
      assert.equal(w.syncs, 20);
      await w.close();
      assert.equal(readJournal(file).entries.length, 20);
    });

    it("ignores a torn last line when reading and cuts it before appending", async () => {
      const file = join(tempDir(), "j.jsonl");
      writeFileSync(file, '{"type":"a","id":1}\n{"type":"a","id":2}\n{"type":"a","i');
      const r = readJournal(file);
      assert.deepEqual(r.entries.map((e) => e.id), [1, 2]);
      assert.equal(r.tornBytes, 14);
      const w = await JournalWriter.open(file);
      assert.equal(w.repairedBytes, 14);
      await w.append({ type: "a", id: 3 });
      await w.close();
      assert.equal(readFileSync(file, "utf8"), '{"type":"a","id":1}\n{"type":"a","id":2}\n{"type":"a","id":3}\n');
    });

    it("reports a corrupt line in the middle with file and line instead of skipping it", () => {
      const file = join(tempDir(), "j.jsonl");
      writeFileSync(file, '{"type":"a"}\nnot json\n{"type":"a"}\n');
      assert.throws(() => readJournal(file), (e: unknown) => e instanceof FormatError && e.location.line === 2 && e.location.file === file);
      writeFileSync(file, '{"type":"a"}\n[1,2]\n');
      assert.throws(() => readJournal(file), /string 'type'/);
    });

    it("queues records without a promise each; one sync covers them all, in order, and a write failure sticks", async () => {
      const file = join(tempDir(), "j.jsonl");
      const w = await JournalWriter.open(file, "always");
      for (let i = 0; i < 5; i++) w.write([{ type: "x", i }]);
      await w.sync();
      assert.equal(w.syncs, 5, "always: one fdatasync per block, the sync waits for the last");
      assert.deepEqual(readJournal(file).entries.map((e) => e.i), [0, 1, 2, 3, 4]);
      await w.sync(); // nothing pending: resolves at once
      await w.close();

      // A store's records: indexed at once, journaled as {"type", ...record}, durable at the next sync.
      const dir = tempDir();
      const meta = { id: "r", format: "tslm-arena-run" as const, format_version: 1, created: "t", seed: 0, suite: "s", suiteHash: "h", configHash: "c", versions: {} };
      const store = await RunStore.create(dir, { meta, config: {}, suite: { name: "s", version: "1", description: "", categories: [], hash: "h", prompts: [] }, contestants: [] }, "batch");
      store.record("answer", { id: "a1", prompt_id: "p", model: "m", text: "hi", tokens: undefined });
      assert.equal(store.index.answers.get("a1")?.text, "hi");
      await store.sync();
      const lines = readFileSync(join(dir, "journal.jsonl"), "utf8").trim().split("\n");
      assert.equal(lines.at(-1), '{"type":"answer","id":"a1","prompt_id":"p","model":"m","text":"hi"}');
      await store.close();

      // A failed write (a full disk: /dev/full) rejects the next sync and every later one.
      const bad = await JournalWriter.open("/dev/full");
      bad.write([{ type: "x" }]);
      await assert.rejects(bad.sync(), /cannot write journal \/dev\/full: .*ENOSPC/);
      bad.write([{ type: "y" }]);
      await assert.rejects(bad.append({ type: "z" }), /ENOSPC/);
      await bad.close();
    });

    it("refuses appends after close", async () => {
      const file = join(tempDir(), "j.jsonl");
      const w = await JournalWriter.open(file);
      await w.close();
      await assert.rejects(w.append({ type: "a" }), /closed/);
    });
  });

  it("writes files atomically (no temporary file left behind)", () => {
    const dir = tempDir();
    const f = join(dir, "sub", "x.json");
    writeFileAtomic(f, "one");
    writeFileAtomic(f, "two");
    assert.equal(readFileSync(f, "utf8"), "two");
    assert.deepEqual(readdirSync(join(dir, "sub")), ["x.json"]);
  });

  it("cache keeps answers and verdicts across opens, skips torn lines and never stores twice", async () => {
    const dir = tempDir();
    const c1 = await ContentCache.open(dir);
    c1.putAnswer("k1", { text: "hello", tokens: 2 });
    c1.putAnswer("k1", { text: "other" });
    c1.putVerdict("v1", { verdict: "first" });
    await c1.close();
    appendFileSync(join(dir, "cache.jsonl"), '{"type":"answer","key":"k2","val');
    const c2 = await ContentCache.open(dir);
    assert.deepEqual(c2.getAnswer("k1"), { text: "hello", tokens: 2 });
    assert.deepEqual(c2.getVerdict("v1"), { verdict: "first" });
    assert.equal(c2.getAnswer("k2"), undefined);
    assert.equal(c2.hits, 2);
    assert.equal(c2.misses, 1);
    await c2.close();
    assert.equal(readFileSync(join(dir, "cache.jsonl"), "utf8").split("\n").filter(Boolean).length, 2);
  });

  describe("loadRun on the frozen example run", () => {
    const dir = join(import.meta.dirname, "../fixtures/arena/example-run");

    it("returns config, suite, contestants, records and meta", () => {
      assert.ok(existsSync(dir), "fixture missing: run test/arena/support/make-fixtures.ts");
      const run = loadRun(dir);
      assert.equal(run.meta.format, "tslm-arena-run");
      assert.equal(run.meta.seed, 7);
      assert.equal(run.meta.complete, true);
      assert.equal(run.suite.hash, run.meta.suiteHash);
      assert.equal(run.suite.prompts.length, 8);
      assert.deepEqual(run.contestants.map((c) => c.name), ["tiny-1", "small-2", "base-3", "large-5", "file-0"]);
      // 10 pairs x 8 prompts, each battle decided or recorded as an error.
      assert.equal(run.battles.length + run.errors.battles.length, 80);
      assert.ok(run.errors.battles.length > 0 && run.errors.judgments.length > 0 && run.errors.answers.length === 1);
      for (const b of run.battles) {
        assert.ok(["model_a", "model_b", "tie", "tie (bothbad)"].includes(b.winner));
        assert.ok(b.index !== undefined && b.prompt_id && b.judge === "llm:judge-1");
      }
      const idx = run.battles.map((b) => b.index!);
      assert.deepEqual(idx, [...idx].sort((a, b) => a - b), "battles are in schedule order");
    });

    it("never makes a battle from an error: every battle's two judgments have verdicts", () => {
      const run = loadRun(dir);
      const byPair = new Map(run.judgments.map((j) => [`${j.prompt_id}|${j.first}|${j.second}`, j]));
      for (const b of run.battles) {
        const ab = byPair.get(`${b.prompt_id}|${b.model_a}|${b.model_b}`);
        const ba = byPair.get(`${b.prompt_id}|${b.model_b}|${b.model_a}`);
        assert.ok(ab?.verdict && ba?.verdict, `battle ${b.id} lacks verdicts`);
        assert.equal(ab.error, undefined);
      }
      for (const e of run.errors.battles) assert.ok(!run.battles.some((b) => b.prompt_id === e.prompt_id && new Set([b.model_a, b.model_b, e.model_a, e.model_b]).size === 2));
    });
  });
});
