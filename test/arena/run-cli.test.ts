import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { main } from "../../lib/cli/main.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { startScriptedServer, type ScriptedServer, type Reply, type ScriptedRequest } from "./support/openai-server.js";
import { worldReply } from "./support/world.js";
import { httpConfig } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

/** Runs the CLI in-process, capturing stdout, stderr and the exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(args);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { code, stdout: out.join(""), stderr: err.join("") };
}

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
    assert.match(again.stderr, /already holds a run; resume it \(--resume\)/);
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
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--shard expects INDEX\/COUNT/);
  });
});
