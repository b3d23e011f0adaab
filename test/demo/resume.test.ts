/**
 * An interrupted demo continues where it stopped: a demo killed during
 * training keeps its finished adapters and the last checkpoint, which the
 * next demo resumes exactly (the adapter equals an uninterrupted training's,
 * byte for byte); Ctrl-C during the tournament exits 130 keeping every
 * recorded answer. Then: the LLM judge from OPENAI_BASE_URL (a
 * real HTTP server on 127.0.0.1) judges beside the reference judge, and bad
 * input fails with a clear message and a non-zero exit.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { runDemo, resolveDemoConfig } from "../../lib/demo/run.js";
import { trainAdapter } from "../../lib/demo/adapters.js";
import { folderHash } from "../../lib/demo/hash.js";
import { embeddedSkills, taskRecords } from "../../lib/data/embedded/index.js";
import { packageInfo } from "../../lib/util/package.js";
import { init } from "../../lib/tensor/init.js";
import { nativeStatus } from "../../lib/tensor/native/index.js";
import { startScriptedServer, type ScriptedRequest } from "../arena/support/openai-server.js";
import { childEnv, modelArgs, removeTempDirs, startCli, tempDir } from "./support/helpers.js";

const FAST = ["demo", "--fast"];

/** Adapter cache folders: whether each has a checkpoint and whether it is finished. */
function adapterStates(cache: string): { checkpoint: boolean; done: boolean }[] {
  const root = join(cache, "adapters");
  if (!existsSync(root)) return [];
  return readdirSync(root).map((d) => {
    const ck = join(root, d, "checkpoints");
    return {
      checkpoint: existsSync(ck) && readdirSync(ck).some((n) => n.startsWith("step-")),
      done: existsSync(join(root, d, "demo-adapter.json")),
    };
  });
}

function answersRecorded(runs: string): number {
  if (!existsSync(runs)) return 0;
  let n = 0;
  for (const d of readdirSync(runs)) {
    const j = join(runs, d, "journal.jsonl");
    if (existsSync(j)) n += readFileSync(j, "utf8").split("\n").filter((l) => l.startsWith('{"type":"answer"')).length;
  }
  return n;
}

/** Sends `signal` once `ready()` holds (polled every 25 ms), at most once. */
function interruptWhen(ready: () => boolean, signal: NodeJS.Signals): { onStderr: (all: string, child: ChildProcess) => void; fired: () => boolean } {
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  return {
    fired: () => fired,
    onStderr(_all, child) {
      timer ??= setInterval(() => {
        if (fired || child.exitCode !== null) return clearInterval(timer);
        if (ready()) {
          fired = true;
          child.kill(signal);
          clearInterval(timer);
        }
      }, 25);
    },
  };
}

describe("demo: interrupted demos resume; LLM judge; failures", function () {
  this.timeout(600_000);
  let work: string;
  let runs: string;
  let cache: string;
  after(removeTempDirs);

  before(() => {
    work = tempDir();
    runs = join(work, "runs");
    cache = join(work, "cache");
  });

  it("keeps the finished adapter and the last checkpoint when killed (SIGKILL) during training", async () => {
    // The second adapter (QLoRA) is training and has written a checkpoint, the first is finished.
    const stop = interruptWhen(() => {
      const s = adapterStates(cache);
      return s.some((a) => a.done) && s.some((a) => a.checkpoint && !a.done);
    }, "SIGKILL");
    const r = await startCli([...FAST, "--out", runs, "--cache", cache, ...modelArgs()], { onStderr: stop.onStderr });
    assert.ok(stop.fired(), `never interrupted:\n${r.stderr.slice(-2000)}`);
    assert.equal(r.signal, "SIGKILL", r.stderr.slice(-2000));
    const s = adapterStates(cache);
    assert.equal(s.filter((a) => a.done).length, 1);
    assert.equal(s.filter((a) => a.checkpoint && !a.done).length, 1);
  });

  it("resumes the training, then stops on Ctrl-C during the tournament (exit 130) keeping what was answered", async () => {
    const stop = interruptWhen(() => answersRecorded(runs) >= 10, "SIGINT");
    const r = await startCli([...FAST, "--out", runs, "--cache", cache, ...modelArgs()], { onStderr: stop.onStderr });
    assert.ok(stop.fired(), r.stderr.slice(-2000));
    assert.equal(r.code, 130, r.stderr.slice(-2000));
    assert.match(r.stderr, /run `tslm demo` again to continue/);
    assert.match(r.stderr, /train lora-r8: reused from the cache/);
    assert.match(r.stderr, /train qlora-r8-nf4: 52 steps \(resumed at step \d+\)/);
    assert.ok(answersRecorded(runs) >= 10);
  });

  it("finishes on the next run, reusing the recorded answers, with the same adapter an uninterrupted training makes", async () => {
    const before = answersRecorded(runs);
    const r = await startCli([...FAST, "--json", "--out", runs, "--cache", cache, ...modelArgs()]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const out = JSON.parse(r.stdout);
    assert.ok(out.complete);
    assert.equal(out.battles.played, 3 * 24);
    const tournament = out.timings.steps.find((s: { step: string }) => s.step === "tournament");
    const reused = Number(/(\d+) reused/.exec(tournament.note)![1]);
    assert.ok(reused >= before, `${tournament.note}; ${before} answers were recorded before`);
    assert.ok(out.separation.every((s: { above: boolean }) => s.above), JSON.stringify(out.leaderboard.ratings));

    // The resumed QLoRA adapter equals one trained without interruption, on the backend the CLI
    // chose (auto: native when the addon loads); earlier specs may have left this process on another.
    await init({ backend: (await nativeStatus()).ok ? "native" : "wasm" });
    const cfg = resolveDemoConfig({ fast: true });
    const modelDir = process.env.TSLM_TEST_DEMO_MODEL ?? join(packageInfo().root, "models/tslm-tiny");
    const fresh = await trainAdapter(
      { modelDir, modelHash: folderHash(modelDir), variant: cfg.variants[2], train: cfg.train, seed: cfg.seed, records: taskRecords(embeddedSkills().train), cacheDir: join(work, "fresh") },
      { progress: "off" },
    );
    assert.equal(fresh.cached, false);
    const a = readFileSync(join(fresh.adapterDir, "adapter_model.safetensors"));
    const b = readFileSync(join(out.dir, "adapters", "qlora-r8-nf4", "adapter_model.safetensors"));
    assert.ok(a.equals(b), "the resumed adapter differs from an uninterrupted training's");
  });

  it("adds the LLM judge from OPENAI_BASE_URL / TSLM_JUDGE_MODEL / OPENAI_API_KEY, pooled with the reference judge", async () => {
    // A judge that compares each answer with the reference shown to it (reference-guided grading).
    const section = (text: string, name: string) => new RegExp(`\\[The Start of ${name}\\]\\n([\\s\\S]*?)\\n\\[The End of ${name}\\]`).exec(text)?.[1];
    const server = await startScriptedServer((req: ScriptedRequest) => {
      const text = req.messages.map((m) => m.content).join("\n");
      const ref = section(text, "Reference Answer")?.trim();
      const a = section(text, "Assistant A's Answer")?.trim() === ref;
      const b = section(text, "Assistant B's Answer")?.trim() === ref;
      return { text: `Compared with the reference. ${a && !b ? "[[A]]" : b && !a ? "[[B]]" : "[[C]]"}` };
    });
    try {
      const lines: string[] = [];
      const r = await runDemo(
        { fast: true, out: runs, cache, ...(process.env.TSLM_TEST_DEMO_MODEL ? { model: process.env.TSLM_TEST_DEMO_MODEL } : {}) },
        { progress: "off", log: (l) => lines.push(l), env: { OPENAI_BASE_URL: server.url, TSLM_JUDGE_MODEL: "judge-test", OPENAI_API_KEY: "sk-test-secret" } },
      );
      assert.deepEqual(r.judge.llm, { baseUrl: server.url, model: "judge-test", apiKeyEnv: "OPENAI_API_KEY" });
      assert.ok(lines.some((l) => l.includes("reference + LLM judge judge-test")));
      // Every battle judged twice by the LLM (both orders) and once by the reference judge; answers all from the cache.
      const pairs = 3 * 24;
      assert.equal(server.requests.length, 2 * pairs);
      assert.ok(server.requests.every((q) => q.model === "judge-test" && q.authorization === "Bearer sk-test-secret"));
      assert.equal(r.battles.played, 2 * pairs, "pooled: the reference judge's and the LLM judge's battles");
      assert.match(r.timings.steps.find((s) => s.step === "tournament")!.note!, /, 0 new answers/);
      assert.ok(r.separation.every((s) => s.above));
      for (const f of ["config.json", "run.json", "demo.json", "report/report.json", "report/report.html"]) {
        assert.ok(!readFileSync(join(r.dir, f), "utf8").includes("sk-test-secret"), `${f} holds the API key`);
      }
      const report = JSON.parse(readFileSync(r.report.json, "utf8"));
      assert.ok(JSON.stringify(report.diagnostics).includes("judge-test"), "the report's judge diagnostics name the LLM judge");
    } finally {
      await server.close();
    }
  });

  it("fails with a clear message and a non-zero exit on bad input", async () => {
    const missing = await startCli(["demo", "--model", join(work, "no-such-model"), "--out", runs, "--cache", cache]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /tslm: ConfigError: no model in .*no-such-model \(config\.json is missing\)/);
    const badNumber = await startCli(["demo", "--prompts", "many", "--out", runs, "--cache", cache]);
    assert.equal(badNumber.code, 2, "a bad option value");
    assert.match(badNumber.stderr, /--prompts expects an integer > 0, got 'many'/);
    const usage = await startCli(["demo", "--no-such-flag"], { env: childEnv() });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option '--no-such-flag'/);
  });
});
