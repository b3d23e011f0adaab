/**
 * Crash safety: a run killed with SIGKILL at random moments and resumed with
 * --resume loses no acknowledged record, repeats none, and ends with exactly
 * the battles of an uninterrupted run with the same seed.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { Random } from "../../lib/util/random.js";
import { runTournament } from "../../lib/arena/run.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { readJournal } from "../../lib/arena/store/journal.js";
import { startScriptedServer, type ScriptedServer } from "./support/openai-server.js";
import { worldReply } from "./support/world.js";
import { httpConfig } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";
import { strip } from "./support/helpers.js";
import { RUN_CLI } from "../support/cli.js";

const ROOT = join(import.meta.dirname, "../..");
const MODELS = ["m1", "m2", "m3", "m4", "m5"];

/** The same deterministic world on a fresh server (first-attempt faults depend on the server's memory). */
function world(): Promise<ScriptedServer> {
  return startScriptedServer((r) => {
    const reply = worldReply(r, { judge: { firstBias: 0.2, garbage: 0.05 }, faults: { r429: 0.08, r5xx: 0.08, malformed: 0.04, dead: 0.02 } });
    return "text" in reply ? { ...reply, delayMs: 15 } : reply;
  });
}

function recordIds(journal: string): string[] {
  if (!existsSync(journal)) return [];
  return readJournal(journal).entries.filter((e) => e.type !== "session" && e.type !== "end").map((e) => `${e.type}:${e.id}`);
}

function startCli(args: string[]): { child: ChildProcess; exit: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", RUN_CLI, ...args], { cwd: ROOT, env: { ...process.env, TSLM_PROGRESS: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exit, output: () => out };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

describe("arena/run: kill -9 and resume", function () {
  this.timeout(150_000);
  after(removeTempDirs);

  it("loses and repeats nothing, and ends with the battles of an uninterrupted run", async () => {
    const out = tempDir();
    // The uninterrupted run, in-process, on its own server.
    const s1 = await world();
    let straight;
    try {
      straight = await runTournament(httpConfig(s1.url, out, { name: "straight" }, MODELS), { progress: "off" });
    } finally {
      await s1.close();
    }
    assert.ok(straight.errors.judgments.length > 0 && straight.battles.length > 40, "the world has errors to carry through");

    const s2 = await world();
    try {
      const cfgFile = join(out, "killed.yaml");
      writeFileSync(cfgFile, stringify(httpConfig(s2.url, out, { name: "killed" }, MODELS)));
      const journal = join(out, "killed", "journal.jsonl");
      const rng = new Random(2024);
      let kills = 0;
      let seen: string[] = [];
      for (let session = 0; session < 6; session++) {
        const run = startCli(["arena", "run", cfgFile, ...(session > 0 ? ["--resume"] : [])]);
        const startCount = recordIds(journal).length;
        // Kill at a random moment once this session has recorded something (or it finishes first).
        const finished = await Promise.race([run.exit.then(() => true), waitFor(() => recordIds(journal).length > startCount, 30_000).then(() => false)]);
        if (!finished && session < 4) {
          await new Promise((r) => setTimeout(r, rng.int(200)));
          run.child.kill("SIGKILL");
          const code = await run.exit;
          if (code === null) kills++;
        } else {
          const code = await run.exit;
          assert.equal(code, 0, `last session failed:\n${run.output()}`);
        }
        const now = recordIds(journal);
        // Nothing recorded before is lost; nothing is recorded twice.
        const nowSet = new Set(now);
        for (const id of seen) assert.ok(nowSet.has(id), `record ${id} was lost`);
        assert.equal(nowSet.size, now.length, `duplicate records after session ${session}`);
        seen = now;
        // Whatever survived a kill is consistent: a judgment's answers and a battle's judgments are there too.
        const partial = loadRun(join(out, "killed"));
        const answers = new Set(partial.answers.filter((a) => a.text !== undefined).map((a) => `${a.prompt_id}|${a.model}`));
        const judged = new Set(partial.judgments.map((j) => `${j.prompt_id}|${j.first}|${j.second}`));
        for (const j of partial.judgments) assert.ok(answers.has(`${j.prompt_id}|${j.first}`) && answers.has(`${j.prompt_id}|${j.second}`), `judgment ${j.id} outlived its answers`);
        for (const b of partial.battles) assert.ok(judged.has(`${b.prompt_id}|${b.model_a}|${b.model_b}`) && judged.has(`${b.prompt_id}|${b.model_b}|${b.model_a}`), `battle ${b.id} outlived its judgments`);
        if (partial.meta.complete) break;
      }
      assert.ok(kills >= 3, `only ${kills} kills landed mid-run`);
      const killed = loadRun(join(out, "killed"));
      assert.equal(killed.meta.complete, true);
      assert.ok(killed.meta.sessions >= 4);
      assert.deepEqual(strip(killed.battles), strip(straight.battles), "battles identical to the uninterrupted run");
      assert.deepEqual(
        killed.judgments.map((j) => [j.id, j.verdict ?? null, j.error === undefined]),
        straight.judgments.map((j) => [j.id, j.verdict ?? null, j.error === undefined]),
      );
      assert.deepEqual(killed.answers.map((a) => [a.id, a.text]), straight.answers.map((a) => [a.id, a.text]));
      const noPort = (es: { error: string }[]) => es.map((e) => ({ ...e, error: e.error.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT") }));
      assert.deepEqual(noPort(killed.errors.battles), noPort(straight.errors.battles));
      const text = readFileSync(join(out, "killed", "journal.jsonl"), "utf8");
      assert.ok(text.endsWith("\n"), "journal ends on a whole line");
    } finally {
      await s2.close();
    }
  });
});
