import { strict as assert } from "node:assert";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTournament } from "../../lib/arena/run.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { mergeRuns } from "../../lib/arena/store/merge.js";
import { writeReport } from "../../lib/arena/report/write.js";
import { readJournal } from "../../lib/arena/store/journal.js";
import { createHumanJudge } from "../../lib/arena/judges/human.js";
import type { Judge } from "../../lib/arena/judges/types.js";
import { ConfigError } from "../../lib/util/errors.js";
import { startScriptedServer, type ScriptedServer, type Reply, type ScriptedRequest } from "./support/openai-server.js";
import { worldReply } from "./support/world.js";
import { httpConfig, MINI_SUITE, endpoint } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";
import { fastWorld, strip } from "./support/helpers.js";

const quiet = { progress: "off" as const };

describe("arena/run: tournaments against real HTTP servers", function () {
  this.timeout(60_000);
  let server: ScriptedServer;
  let script: (r: ScriptedRequest) => Reply;
  before(async () => {
    server = await startScriptedServer((r) => script(r));
  });
  after(async () => {
    await server.close();
    removeTempDirs();
  });

  it("finishes through 429s, 5xx, timeouts, malformed bodies and garbage verdicts; errors are recorded and never become verdicts", async () => {
    script = (r) => worldReply(r, { judge: { firstBias: 0.2, garbage: 0.08 }, faults: { r429: 0.1, r5xx: 0.1, hang: 0.03, malformed: 0.05, dead: 0.03 } });
    const out = tempDir();
    const cfg = httpConfig(server.url, out, {}, ["m1", "m2", "m3", "m4", "m5"]);
    (cfg.judge as Record<string, unknown>).timeout_ms = 300;
    for (const c of cfg.contestants as Record<string, unknown>[]) c.timeout_ms = 300;
    const run = await runTournament(cfg, quiet);
    const s = server.served;
    assert.ok(s.status > 0 && s.hang > 0 && s.raw > 0, `faults injected: ${JSON.stringify(s)}`);
    assert.equal(run.meta.complete, true);
    // Every scheduled battle is either rated or recorded as undecided.
    assert.equal(run.battles.length + run.errors.battles.length, 10 * 8);
    assert.ok(run.errors.judgments.length > 0, "some judgments failed for good");
    assert.ok(run.errors.judgments.some((j) => /no parsable verdict/.test(j.error!)), "garbage verdicts recorded as errors");
    assert.ok(run.errors.judgments.some((j) => /HTTP 503/.test(j.error!)), "dead requests recorded as errors");
    assert.ok(run.judgments.some((j) => j.verdict && (j.retry_errors?.length ?? 0) > 0), "transient failures were retried into verdicts");
    // No error becomes a verdict: every battle rests on two judgments with verdicts and answers with text.
    const jBy = new Map(run.judgments.map((j) => [`${j.prompt_id}|${j.first}|${j.second}`, j]));
    const aBy = new Map(run.answers.map((a) => [`${a.prompt_id}|${a.model}`, a]));
    for (const b of run.battles) {
      for (const [f, sec] of [[b.model_a, b.model_b], [b.model_b, b.model_a]]) {
        const j = jBy.get(`${b.prompt_id}|${f}|${sec}`)!;
        assert.ok(j.verdict && j.error === undefined, `battle ${b.id} rests on judgment ${j?.id}`);
      }
      assert.ok(aBy.get(`${b.prompt_id}|${b.model_a}`)!.text !== undefined && aBy.get(`${b.prompt_id}|${b.model_b}`)!.text !== undefined);
    }
    for (const j of run.errors.judgments) {
      assert.equal(j.verdict, undefined);
      assert.ok(run.errors.battles.some((e) => e.prompt_id === j.prompt_id && new Set([e.model_a, e.model_b, j.first, j.second]).size === 2), `judgment error ${j.id} has its battle error`);
    }
    for (const a of run.errors.answers) assert.ok(!run.battles.some((b) => b.prompt_id === a.prompt_id && (b.model_a === a.model || b.model_b === a.model)));
  });

  it("limits requests in flight per endpoint", async () => {
    script = (r) => ({ ...(worldReply(r) as { text: string }), delayMs: 15 });
    const cfg = httpConfig(server.url, tempDir(), { prompts: { limit: 3 } });
    for (const c of cfg.contestants as Record<string, unknown>[]) c.concurrency = 2;
    (cfg.judge as Record<string, unknown>).concurrency = 3;
    server.maxInFlight.clear();
    await runTournament(cfg, quiet);
    const total = [...server.maxInFlight.values()];
    // One base URL: the strictest limit (2) holds for everything sent to it.
    const sum = Math.max(...total);
    assert.ok(sum <= 2, `max in flight per model ${JSON.stringify([...server.maxInFlight])}`);
  });

  it("caches answers and verdicts by content: a rerun makes no request; a new contestant costs only its own", async () => {
    script = (r) => worldReply(r);
    const out = tempDir();
    const cache = join(out, "cache");
    const first = await runTournament(httpConfig(server.url, out, { name: "a", cache, prompts: { limit: 4 } }, ["m1", "m2", "m3"]), quiet);
    const n0 = server.requests.length;
    const again = await runTournament(httpConfig(server.url, out, { name: "b", cache, prompts: { limit: 4 } }, ["m1", "m2", "m3"]), quiet);
    assert.equal(server.requests.length, n0, "rerun made no request");
    assert.ok(again.answers.every((a) => a.cached) && again.judgments.every((j) => j.cached));
    assert.deepEqual(strip(again.battles), strip(first.battles));
    const bigger = await runTournament(httpConfig(server.url, out, { name: "c", cache, prompts: { limit: 4 } }, ["m1", "m2", "m3", "m4"]), quiet);
    // New: 4 answers of m4, and 3 pairs x 4 prompts x 2 orders of judgments.
    assert.equal(server.requests.length - n0, 4 + 24);
    assert.equal(bigger.battles.length + bigger.errors.battles.length, 6 * 4);
    assert.equal(bigger.summary.cache?.hits, 12 + 24);
  });

  it("refuses to overwrite a run, and to resume one made with a different config", async () => {
    script = (r) => worldReply(r);
    const out = tempDir();
    const cfg = httpConfig(server.url, out, { prompts: { limit: 2 } }, ["m1", "m2"]);
    await runTournament(cfg, quiet);
    await assert.rejects(runTournament(cfg, quiet), (e: unknown) => e instanceof ConfigError && /already holds a run.*--resume/.test(e.message));
    const changed = httpConfig(server.url, out, { prompts: { limit: 2 } }, ["m1", "m2"]);
    (changed.judge as Record<string, unknown>).model = "judge-2";
    await assert.rejects(runTournament(changed, { ...quiet, resume: true }), /different config \(differs in: judge\)/);
    const resumed = await runTournament(cfg, { ...quiet, resume: true });
    assert.equal(resumed.summary.judgments.new + resumed.summary.answers.new, 0, "a finished run resumes to nothing");
    assert.equal(resumed.meta.sessions, 2);
  });

  it("locks a run while it is played: a second player is refused, a dead player's lock is taken over", async () => {
    script = (r) => (r.model.startsWith("judge") ? { text: "[[A]]", delayMs: 300 } : worldReply(r));
    const out = tempDir();
    const cfg = httpConfig(server.url, out, { prompts: { limit: 1 } }, ["m1", "m2"]);
    const first = runTournament(cfg, quiet);
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(runTournament(cfg, { ...quiet, resume: true }), /being played by this process/);
    await first;
    assert.ok(!existsSync(join(out, "run", "lock")), "the lock is released");
    // A lock left by a process that no longer exists.
    writeFileSync(join(out, "run", "lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname() }));
    const again = await runTournament(cfg, { ...quiet, resume: true });
    assert.equal(again.meta.complete, true);
  });

  it("retries recorded errors only when asked, and a retried error gives way to its verdict", async () => {
    let healthy = false;
    script = (r) => (r.model.startsWith("judge") && !healthy ? { status: 503 } : worldReply(r));
    const out = tempDir();
    const cfg = httpConfig(server.url, out, { prompts: { limit: 2 } }, ["m1", "m2"]);
    (cfg.judge as Record<string, unknown>).retries = 1;
    const broken = await runTournament(cfg, quiet);
    assert.equal(broken.battles.length, 0);
    assert.equal(broken.errors.battles.length, 2);
    healthy = true;
    const plain = await runTournament(cfg, { ...quiet, resume: true });
    assert.equal(plain.errors.battles.length, 2, "recorded errors stay without retryErrors");
    const fixed = await runTournament(cfg, { ...quiet, resume: true, retryErrors: true });
    assert.equal(fixed.battles.length, 2);
    assert.equal(fixed.errors.battles.length, 0);
    assert.equal(fixed.errors.judgments.length, 0);
  });

  it("plays a run in shards that merge into exactly the single-machine run", async () => {
    const names = ["m1", "m2", "m3", "m4"];
    const w = fastWorld(names);
    const base = { seed: 5, suite: MINI_SUITE, cache: false as const, contestants: names.map((n) => ({ name: n, type: "custom" as const })), judge: { type: "custom" as const, id: "fast" } };
    const out = tempDir();
    const whole = await runTournament({ ...base, name: "whole", out }, { ...w, ...quiet });
    const shards = [];
    for (let i = 0; i < 3; i++) shards.push(await runTournament({ ...base, name: `s${i}`, out, shard: { index: i, count: 3 } }, { ...w, ...quiet }));
    assert.equal(shards[0].meta.configHash, whole.meta.configHash, "the shard is not part of the config hash");
    const part = await mergeRuns([shards[0].dir, shards[1].dir], join(out, "partial"));
    assert.deepEqual([part.complete, part.missingShards], [false, [2]]);
    const merged = await mergeRuns(shards.map((s) => s.dir), join(out, "merged"));
    assert.equal(merged.complete, true);
    const m = loadRun(merged.dir);
    assert.equal(m.meta.complete, true);
    assert.deepEqual(strip(m.battles), strip(whole.battles));
    assert.deepEqual(strip(m.judgments), strip(whole.judgments));
    await assert.rejects(mergeRuns([whole.dir, join(out, "x")], join(out, "bad")), /not a tslm arena run folder/);
    const other = await runTournament({ ...base, seed: 6, name: "other", out, shard: { index: 0, count: 3 } }, { ...w, ...quiet });
    await assert.rejects(mergeRuns([shards[1].dir, other.dir], join(out, "bad2")), /configHash differ/);
    await assert.rejects(runTournament({ ...base, name: "adapt", out, schedule: { type: "adaptive", battles: 10 }, shard: { index: 0, count: 2 } }, { ...w, ...quiet }), /cannot be split into shards/);
  });

  it("runs adaptive and swiss schedules to the same battles on a rerun", async () => {
    const names = ["m1", "m2", "m3", "m4", "m5"];
    const w = fastWorld(names);
    const base = { seed: 3, suite: MINI_SUITE, cache: false as const, contestants: names.map((n) => ({ name: n, type: "custom" as const })), judge: { type: "custom" as const, id: "fast" } };
    const out = tempDir();
    const a1 = await runTournament({ ...base, name: "a1", out, schedule: { type: "adaptive", battles: 30, batch: 10 } }, { ...w, ...quiet });
    const a2 = await runTournament({ ...base, name: "a2", out, schedule: { type: "adaptive", battles: 30, batch: 10 } }, { ...w, ...quiet });
    assert.equal(a1.battles.length, 30);
    assert.deepEqual(strip(a1.battles), strip(a2.battles));
    const s1 = await runTournament({ ...base, name: "s1", out, schedule: { type: "swiss", rounds: 3, prompts_per_pairing: 2 } }, { ...w, ...quiet });
    assert.equal(s1.battles.length, 3 * 2 * 2, "3 rounds x 2 pairings (one bye) x 2 prompts");
  });

  it("pools an ensemble (LLM + reference judge) and decides by majority with custom judges", async () => {
    script = (r) => worldReply(r, { judge: { five: true } });
    const out = tempDir();
    const pooled = await runTournament(
      httpConfig(server.url, out, {
        name: "pool",
        judge: { type: "ensemble", combine: "pool", judges: [{ type: "llm", model: "judge-5", verdicts: "five", disagreement: "two-games", ...endpoint(server.url) }, { type: "reference" }] },
      }, ["m1", "m2", "m3"]),
      quiet,
    );
    const judges = new Set(pooled.battles.map((b) => b.judge));
    assert.deepEqual([...judges].sort(), ["llm:judge-5", "reference:auto"]);
    // The reference judge sits out prompts without a reference (3 of 8) instead of failing them.
    assert.equal(pooled.battles.filter((b) => b.judge === "reference:auto").length, 3 * 5);
    assert.equal(pooled.errors.battles.length, 0);
    assert.ok(pooled.battles.some((b) => b.game?.includes("#")), "strong verdicts count several times");

    const names = ["m1", "m2", "m3"];
    const w = fastWorld(names);
    const yes: Judge = { ...w.judges.fast, id: "always-first", judge: async () => ({ verdict: "first" }) };
    const maj = await runTournament(
      {
        name: "maj", out, suite: MINI_SUITE, cache: false, seed: 1,
        contestants: names.map((n) => ({ name: n, type: "custom" as const })),
        judge: { type: "ensemble", combine: "majority", judges: [{ type: "custom", id: "fast" }, { type: "custom", id: "always-first" }, { type: "reference" }] },
      },
      { contestants: w.contestants, judges: { fast: w.judges.fast, "always-first": yes }, ...quiet },
    );
    assert.ok(maj.battles.every((b) => b.judge === "ensemble:majority(fast,always-first,reference:auto)" && b.game === "majority"));
    assert.equal(maj.battles.length, 3 * 8);
  });

  it("takes human votes through the API on anonymous, seeded-order ballots, and resumes asking only for missing votes", async () => {
    const names = ["m1", "m2", "m3"];
    const w = fastWorld(names);
    const out = tempDir();
    const cfg = { name: "h", out, suite: MINI_SUITE, cache: false as const, seed: 2, prompts: { limit: 2 }, contestants: names.map((n) => ({ name: n, type: "custom" as const })), judge: { type: "human" as const } };
    const human = createHumanJudge();
    const stop = new AbortController();
    const running = runTournament(cfg, { contestants: w.contestants, judges: { human }, signal: stop.signal, ...quiet });
    for (let k = 0; k < 3; k++) {
      const b = await human.next();
      assert.deepEqual(Object.keys(b).sort(), ["a", "b", "category", "id", "messages", "prompt_id"], "a ballot carries no model name");
      human.vote(b.id, k === 0 ? "A" : k === 1 ? "tie" : "both_bad");
      await new Promise((r) => setTimeout(r, 20));
    }
    stop.abort(new Error("voter went home"));
    await assert.rejects(running, /voter went home/);
    const partial = loadRun(join(out, "h"));
    assert.equal(partial.judgments.length, 3);
    assert.equal(partial.meta.complete, false);
    const human2 = createHumanJudge();
    const resumed = runTournament(cfg, { contestants: w.contestants, judges: { human: human2 }, resume: true, ...quiet });
    for (let k = 0; k < 3; k++) human2.vote((await human2.next()).id, "B");
    const run = await resumed;
    assert.equal(run.battles.length, 6);
    assert.equal(run.judgments.length, 6, "only the missing votes were asked for");
    assert.deepEqual(run.battles.map((b) => b.game), Array(6).fill("one"));
    assert.ok(run.battles.some((b) => b.winner === "tie (bothbad)"));
  });

  it("refuses a human judge nobody can vote through", async () => {
    const w = fastWorld(["m1", "m2"]);
    await assert.rejects(
      runTournament({ out: tempDir(), suite: MINI_SUITE, contestants: [{ name: "m1", type: "custom" }, { name: "m2", type: "custom" }], judge: { type: "human" } }, { contestants: w.contestants, ...quiet }),
      /human judge 'human' has nobody to vote: run `tslm arena run CONFIG --vote`/,
    );
  });

  it("uses the suite's judge defaults under the run's judge, and names the YAML line of a bad key", async () => {
    script = (r) => worldReply(r);
    const out = tempDir();
    const cfg = httpConfig(server.url, out, { prompts: { limit: 2 } }, ["m1", "m2"]);
    delete (cfg as Record<string, unknown>).judge;
    // mini's suite.yaml declares `judge: {type: reference}`.
    const run = await runTournament(cfg, quiet);
    assert.ok(run.battles.every((b) => b.judge === "reference:auto"));
    const file = join(out, "bad.yaml");
    writeFileSync(file, `suite: ${MINI_SUITE}\ncontestants:\n  - name: a\n    type: openai\n    base_url: ${server.url}\n    model: a\n    temprature: 0.2\n  - {name: b, type: custom}\n`);
    await assert.rejects(runTournament(file, quiet), (e: unknown) => e instanceof ConfigError && e.location.file === file && e.location.line === 7 && /temprature/.test(e.message));
  });

  it("journals every record once: no id repeats in the journal", async () => {
    script = (r) => worldReply(r);
    const run = await runTournament(httpConfig(server.url, tempDir(), { prompts: { limit: 3 } }), quiet);
    const ids = readJournal(join(run.dir, "journal.jsonl")).entries.filter((e) => e.type !== "session" && e.type !== "end").map((e) => `${e.type}:${e.id}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(existsSync(join(run.dir, "config.json")) && JSON.parse(readFileSync(join(run.dir, "config.json"), "utf8")).seed === 11);
  });

  it("keeps an API key that an endpoint echoes in its errors out of journal.jsonl and report.json", async () => {
    const key = "sk-secret-4f1c9a7e2b";
    // m2's endpoint rejects every call, echoing the Authorization header it got.
    script = (r) => (r.model === "m2" ? { status: 401, body: `bad key: ${r.authorization}` } : worldReply(r));
    const out = tempDir();
    const cfg = httpConfig(server.url, out, { prompts: { limit: 2 } }, ["m1", "m2", "m3"]);
    for (const c of cfg.contestants as Record<string, unknown>[]) c.api_key_env = "ARENA_KEY";
    const run = await runTournament(cfg, { ...quiet, deps: { env: { ARENA_KEY: key } } });
    assert.ok(server.requests.some((r) => r.authorization === `Bearer ${key}`), "the key was sent");
    assert.ok(run.errors.answers.some((a) => /bad key: Bearer \[redacted\]/.test(a.error!)), JSON.stringify(run.errors.answers[0]));
    await writeReport(run.dir, { rating: { bootstrap: 10 } });
    for (const file of [join(run.dir, "journal.jsonl"), join(run.dir, "report", "report.json"), join(run.dir, "report", "report.md"), join(run.dir, "report", "report.html")]) {
      assert.ok(!readFileSync(file, "utf8").includes(key), `${file} holds the key`);
    }
  });

  it("refuses a run folder given twice to merge: the same folder, or two copies of one shard", async () => {
    const names = ["m1", "m2", "m3"];
    const w = fastWorld(names);
    const base = { seed: 5, suite: MINI_SUITE, cache: false as const, contestants: names.map((n) => ({ name: n, type: "custom" as const })), judge: { type: "custom" as const, id: "fast" } };
    const out = tempDir();
    const s0 = await runTournament({ ...base, name: "s0", out, shard: { index: 0, count: 2 } }, { ...w, ...quiet });
    const s1 = await runTournament({ ...base, name: "s1", out, shard: { index: 1, count: 2 } }, { ...w, ...quiet });
    await assert.rejects(mergeRuns([s0.dir, s0.dir], join(out, "twice")), (e: unknown) => e instanceof ConfigError && /the same run folder/.test(e.message));
    await assert.rejects(mergeRuns([s0.dir, join(s0.dir, "."), s1.dir], join(out, "twice2")), /the same run folder/);
    const copy = join(out, "s0-copy");
    cpSync(s0.dir, copy, { recursive: true });
    await assert.rejects(mergeRuns([s0.dir, copy], join(out, "copies")), /both shard 0\/2/);
    assert.ok(!existsSync(join(out, "twice")) && !existsSync(join(out, "copies")), "nothing written");
    const whole = await runTournament({ ...base, name: "w", out }, { ...w, ...quiet });
    cpSync(whole.dir, join(out, "w-copy"), { recursive: true });
    await assert.rejects(mergeRuns([whole.dir, join(out, "w-copy")], join(out, "copies2")), /both run w started/);
    assert.equal((await mergeRuns([s0.dir, s1.dir], join(out, "ok"))).complete, true);
  });

  it("refuses to replay a finished config without --resume, naming only what the config file holds", async () => {
    script = (r) => worldReply(r);
    const out = tempDir();
    const file = join(out, "arena.yaml");
    const cfg = httpConfig(server.url, out, { prompts: { limit: 1 } }, ["m1", "m2"]);
    delete (cfg as Record<string, unknown>).name;
    writeFileSync(file, JSON.stringify(cfg, null, 1));
    const run = await runTournament(file, quiet);
    await assert.rejects(runTournament(file, quiet), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.location.key, undefined, `no key 'name' in ${file}: ${e.message}`);
      assert.match(e.message, new RegExp(`run folder ${run.dir} already holds a run; continue it with --resume`));
      assert.match(e.message, /set a name in the config/);
      return true;
    });
    const text = JSON.stringify({ name: "named", ...cfg }, null, 1);
    writeFileSync(file, text);
    await runTournament(file, quiet);
    const nameLine = text.split("\n").findIndex((l) => l.includes('"name": "named"')) + 1;
    await assert.rejects(runTournament(file, quiet), (e: unknown) => e instanceof ConfigError && e.location.key === "name" && e.location.file === file && e.location.line === nameLine && /change the config's name/.test(e.message));
  });
});
