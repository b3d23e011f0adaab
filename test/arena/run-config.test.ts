import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runTournament } from "../../lib/arena/run.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { analyzeRun, runRatingOptions } from "../../lib/arena/report/analyze.js";
import { ConfigError } from "../../lib/util/errors.js";
import { MINI_SUITE } from "./support/arena-config.js";
import { fastWorld } from "./support/helpers.js";
import { removeTempDirs, tempDir } from "./support/tmp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const quiet = { progress: "off" as const };
const models = ["m1", "m2", "m3"];

/** A run config in YAML with in-process contestants and judge; `rating` is the YAML of its rating section. */
function writeConfig(dir: string, rating: string): string {
  const file = join(dir, "arena.yaml");
  const contestants = models.map((m) => `  - {name: ${m}, type: custom}`).join("\n");
  writeFileSync(file, `name: rated\nout: runs\nseed: 5\nsuite: ${MINI_SUITE}\ncache: false\ncontestants:\n${contestants}\njudge: {type: custom, id: fast}\n${rating}`);
  return file;
}

describe("arena/run: the run config's rating section, and errors located in the config file", function () {
  this.timeout(60_000);
  after(removeTempDirs);

  it("is recorded with the run and rates it in analyzeRun, reports and the leaderboard; flags go over it", async () => {
    const dir = tempDir();
    const file = writeConfig(dir, "rating:\n  bootstrap: 40\n  anchor: {model: m2, rating: 1500}\n");
    const run = await runTournament(file, { ...fastWorld(models), ...quiet });
    const loaded = loadRun(run.dir);
    // Defaults filled in, except the seed, which stays the run's.
    assert.equal(loaded.config.rating?.bootstrap, 40);
    assert.equal(loaded.config.rating?.method, "bt");
    assert.equal(loaded.config.rating?.seed, undefined);

    const analysis = analyzeRun(loaded);
    const result = analysis.leaderboard.result;
    assert.equal(result.rounds, 40);
    assert.equal(result.options.seed, 5);
    assert.equal(result.rating[result.models.indexOf("m2")], 1500);
    const over = analyzeRun(loaded, { bootstrap: 7 }).leaderboard.result;
    assert.equal(over.rounds, 7);
    assert.equal(over.rating[over.models.indexOf("m2")], 1500, "a flag replaces only its own option");

    // The CLI leaderboard reads the same section; its flags go over it.
    const code = 'const { main } = await import("./lib/cli/main.ts"); await main(process.argv.slice(1));';
    const cli = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code, "arena", "leaderboard", run.dir, "--json", "--seed", "9"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(cli.status, 0, cli.stderr);
    const board = JSON.parse(cli.stdout.trim()) as { rounds: number; ratings: { model: string; rating: number }[] };
    assert.equal(board.rounds, 40);
    assert.equal(board.ratings.find((r) => r.model === "m2")!.rating, 1500);
    assert.deepEqual(runRatingOptions(loaded, { seed: 9 }), { seed: 9, ...stripped(loaded.config.rating!) });
  });

  it("takes a changed rating section on resume (it decides no battle)", async () => {
    const dir = tempDir();
    let file = writeConfig(dir, "rating: {bootstrap: 30}\n");
    const first = await runTournament(file, { ...fastWorld(models), ...quiet });
    file = writeConfig(dir, "rating: {method: elo, k: 8, bootstrap: 20}\n");
    const again = await runTournament(file, { ...fastWorld(models), ...quiet, resume: true });
    assert.equal(again.dir, first.dir);
    assert.equal(again.summary.battles.new, 0, "nothing replayed");
    const recorded = JSON.parse(readFileSync(join(again.dir, "config.json"), "utf8")).rating;
    assert.equal(recorded.method, "elo");
    assert.equal(recorded.k, 8);
    const result = analyzeRun(loadRun(again.dir)).leaderboard.result;
    assert.equal(result.method, "elo");
    assert.equal(result.rounds, 20);
  });

  it("names the file, line and key of a bad rating option", async () => {
    const dir = tempDir();
    const bad = writeConfig(dir, "rating:\n  method: bt\n  bootstrap: -3\n");
    await assert.rejects(runTournament(bad, { ...fastWorld(models), ...quiet }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.location.file, bad);
      assert.equal(e.location.line, 13);
      assert.equal(e.location.key, "rating.bootstrap");
      return true;
    });
    const unknown = writeConfig(dir, "rating: {bootsrap: 3}\n");
    await assert.rejects(runTournament(unknown, { ...fastWorld(models), ...quiet }), /unknown config key 'rating.bootsrap'.*known keys here: method, bootstrap/);
  });

  it("names the file and line of problems found while setting the run up (contestants, prompts, schedule, shard)", async () => {
    const dir = tempDir();
    const at = async (yaml: string, line: number, key: string, message: RegExp) => {
      const file = join(dir, "setup.yaml");
      writeFileSync(file, yaml);
      await assert.rejects(runTournament(file, { ...fastWorld(models), ...quiet }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.deepEqual([e.location.file, e.location.line, e.location.key], [file, line, key], e.message);
        assert.match(e.message, message);
        return true;
      });
    };
    const head = `suite: ${MINI_SUITE}\ncache: false\nout: runs\n`;
    const judge = "judge: {type: custom, id: fast}\n";
    await at(`${head}contestants:\n  - {name: m1, type: custom}\n  - {name: m1, type: custom}\n${judge}`, 6, "contestants.1.name", /two contestants are named 'm1'/);
    await at(`${head}contestants:\n  - {name: m1, type: custom}\n  - {name: zz, type: custom}\n${judge}`, 6, "contestants.1.name", /custom contestant 'zz' was not given/);
    await at(`${head}prompts:\n  ids: [nope]\ncontestants: [{name: m1, type: custom}, {name: m2, type: custom}]\n${judge}`, 5, "prompts.ids", /no prompt with id 'nope'/);
    await at(`${head}schedule: {type: sample, battles: 100000}\ncontestants: [{name: m1, type: custom}, {name: m2, type: custom}]\n${judge}`, 4, "schedule.battles", /exceeds/);
    await at(`${head}schedule: {type: swiss}\nshard: {index: 0, count: 2}\ncontestants: [{name: m1, type: custom}, {name: m2, type: custom}]\n${judge}`, 5, "shard", /cannot be split into shards/);
    // A shard given apart from the file (the CLI's --shard) keeps the file's lines for everything else.
    const file = join(dir, "swiss.yaml");
    writeFileSync(file, `${head}schedule: {type: swiss}\ncontestants: [{name: m1, type: custom}, {name: m2, type: custom}]\n${judge}`);
    await assert.rejects(runTournament(file, { ...fastWorld(models), ...quiet, shard: { index: 1, count: 2 } }), (e: unknown) => e instanceof ConfigError && e.location.file === file && /cannot be split/.test(e.message));
  });
});

function stripped(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
