import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadRun } from "../../lib/arena/store/load.js";
import { startScriptedServer, type ScriptedServer, type Reply, type ScriptedRequest } from "./support/openai-server.js";
import { worldReply } from "./support/world.js";
import { httpConfig } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";
import { oneErrorLine, startTslm, tslmInProcess as cli } from "../support/cli.js";

describe("arena/run: the tslm arena run and merge commands", function () {
  this.timeout(60_000);
  let server: ScriptedServer;
  let script: (r: ScriptedRequest) => Reply = (r) => worldReply(r);
  before(async () => {
    process.env.TSLM_PROGRESS = "0";
    server = await startScriptedServer((r) => script(r));
  });
  after(async () => {
    await server.close();
    removeTempDirs();
  });

  it("runs a YAML config and prints one JSON object with --json; resumes with --resume", async () => {
    const dir = tempDir();
    const file = join(dir, "arena.yaml");
    writeFileSync(file, stringify(httpConfig(server.url, "runs", { name: "cli", prompts: { limit: 3 } }, ["m1", "m2", "m3"])));
    const r = await cli(["arena", "run", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    assert.equal(j.dir, join(dir, "runs", "cli"), "out resolves from the config file's folder");
    assert.equal(j.complete, true);
    assert.equal(j.battles + j.errors.battles, 9);
    assert.equal(loadRun(j.dir).battles.length, j.battles);
    const again = await cli(["arena", "run", file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a run; (resume|continue) it .*--resume/);
    const resumed = await cli(["arena", "run", file, "--resume"]);
    assert.equal(resumed.code, 0);
    assert.match(resumed.stdout, /run cli complete: \d+ battles/);
    assert.match(resumed.stdout, /0 answers and 0 verdicts made/);
  });

  it("fails with the file and line of a bad config", async () => {
    const file = join(tempDir(), "bad.yaml");
    writeFileSync(file, "suite: general\nseed: lots\ncontestants: []\n");
    const r = await cli(["arena", "run", file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`ConfigError: config key 'seed'.*${file.replace(/[.]/g, "\\.")}:2`));
  });

  it("exits 3 with --fail-on-errors when battles could not be decided", async () => {
    script = (r) => (r.model.startsWith("judge") ? { status: 503 } : worldReply(r));
    const file = join(tempDir(), "arena.yaml");
    const cfg = httpConfig(server.url, "runs", { name: "broken", prompts: { limit: 1 } }, ["m1", "m2"]);
    (cfg.judge as Record<string, unknown>).retries = 0;
    writeFileSync(file, stringify(cfg));
    const r = await cli(["arena", "run", file, "--fail-on-errors"]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /1 undecided battles/);
    script = (r2) => worldReply(r2);
  });

  it("plays shards with --shard and merges them with `tslm arena merge`", async () => {
    const dir = tempDir();
    const file = join(dir, "arena.yaml");
    writeFileSync(file, stringify(httpConfig(server.url, "runs", { name: "sharded", prompts: { limit: 2 } }, ["m1", "m2", "m3"])));
    const a = await cli(["arena", "run", file, "--shard", "0/2", "--dir", join(dir, "s0"), "--json"]);
    const b = await cli(["arena", "run", file, "--shard", "1/2", "--dir", join(dir, "s1"), "--json"]);
    assert.equal(a.code + b.code, 0, a.stderr + b.stderr);
    assert.equal(JSON.parse(a.stdout).battles + JSON.parse(b.stdout).battles, 6);
    const m = await cli(["arena", "merge", join(dir, "merged"), join(dir, "s0"), join(dir, "s1"), "--json"]);
    assert.equal(m.code, 0, m.stderr);
    assert.deepEqual([JSON.parse(m.stdout).complete, JSON.parse(m.stdout).counts.battles], [true, 6]);
    const bad = await cli(["arena", "run", file, "--shard", "2/2"]);
    assert.equal(bad.code, 2, "a bad option value");
    assert.match(oneErrorLine(bad), /--shard expects INDEX\/COUNT/);
  });

  it("stops on Ctrl-C keeping what it recorded, exits 130 like tslm demo, and resumes", async () => {
    let requests = 0;
    script = (r) => {
      requests++;
      return { ...(worldReply(r) as { text: string }), delayMs: 100 };
    };
    const file = join(tempDir(), "arena.yaml");
    writeFileSync(file, stringify(httpConfig(server.url, "runs", { name: "stopped", prompts: { limit: 4 } }, ["m1", "m2", "m3"])));
    let child: ChildProcess | undefined;
    const running = startTslm(["arena", "run", file], { onStart: (c) => (child = c) });
    const t0 = Date.now();
    while (requests < 3 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    child!.kill("SIGINT");
    const stopped = await running;
    script = (r) => worldReply(r);
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /SIGINT: stopping; recorded work is kept, continue with --resume/);
    assert.doesNotMatch(stopped.stderr, /\n\s+at /, "no stack trace");
    const resumed = await cli(["arena", "run", file, "--resume", "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).complete, true);
  });
});
