import { strict as assert } from "node:assert";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { rateBattles, ratingRows } from "../../lib/arena/ratings/rate.js";
import { simulateBattles } from "../../lib/arena/ratings/simulate.js";
import { ROOT, oneErrorLine, oneJson, tslm } from "../support/cli.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

const RUN = join(ROOT, "test/fixtures/arena/example-run");

describe("arena CLI: rate, leaderboard, report", function () {
  this.timeout(120_000);
  const dir = tempDir("tslm-cli-rate-");
  const battles = simulateBattles({ battles: 800, ratings: { alpha: 1150, beta: 1050, gamma: 950, delta: 850 }, rng: 12 });
  const jsonl = join(dir, "battles.jsonl");
  writeFileSync(jsonl, battles.map((b) => JSON.stringify({ ...b, tstamp: 1700000000 + b.index!, language: "English" })).join("\n") + "\n");
  after(removeTempDirs);

  it("rate --json prints {ratings: [{model, rating, lower, upper, rank, battles}]} equal to the library's", () => {
    const r = tslm("arena", "rate", jsonl, "--json", "--bootstrap", "200", "--seed", "5", "--anchor", "gamma=1000");
    assert.equal(r.status, 0, r.stderr);
    const out = oneJson(r.stdout) as { ratings: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(out.ratings[0]).slice(0, 6), ["model", "rating", "lower", "upper", "rank", "battles"]);
    const lib = ratingRows(rateBattles(battles, { bootstrap: 200, seed: 5, anchor: { model: "gamma", rating: 1000 } }));
    assert.deepEqual(out.ratings, JSON.parse(JSON.stringify(lib)));
    assert.equal((out.ratings as { model: string; rating: number }[]).find((x) => x.model === "gamma")!.rating, 1000);
  });

  it("rate reads a JSON array and runs online Elo", () => {
    const file = join(dir, "battles.json");
    writeFileSync(file, JSON.stringify(battles.slice(0, 300)));
    const r = tslm("arena", "rate", file, "--method", "elo", "--bootstrap", "0", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = oneJson(r.stdout) as { method: string; ratings: unknown[] };
    assert.equal(out.method, "elo");
    assert.equal(out.ratings.length, 4);
  });

  it("rate names bad lines with file and line and exits non-zero; --skip-bad rates the rest", () => {
    const file = join(dir, "bad.jsonl");
    const lines = battles.slice(0, 50).map((b) => JSON.stringify(b));
    lines.splice(6, 0, '{"model_a": "alpha", "model_b": "beta", "winner": "draw"}');
    lines.splice(10, 0, "{not json");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = tslm("arena", "rate", file);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.jsonl:7: 'winner' must be one of/);
    assert.match(r.stderr, /bad\.jsonl:11: invalid JSON/);
    assert.equal(r.stdout, "");
    const skipped = tslm("arena", "rate", file, "--skip-bad", "--bootstrap", "20", "--json");
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.equal((oneJson(skipped.stdout) as { skipped: number }).skipped, 2);
    assert.match(skipped.stderr, /skipped .*bad\.jsonl:7/);
  });

  it("rate rejects bad flags by name (exit 2)", () => {
    for (const [flag, value, pattern] of [
      ["--anchor", "gamma", /--anchor expects MODEL=RATING/],
      ["--method", "glicko", /--method must be bt or elo, got 'glicko'/],
      ["--bootstrap", "1.5", /--bootstrap expects an integer >= 0/],
      ["--confidence", "1", /--confidence expects a number > 0 and < 1, got '1'/],
    ] as const) {
      const r = tslm("arena", "rate", jsonl, flag, value);
      assert.equal(r.status, 2, r.stderr);
      assert.match(oneErrorLine(r), pattern);
    }
    const missing = tslm("arena", "rate", join(dir, "nope.jsonl"));
    assert.equal(missing.status, 1);
    assert.match(oneErrorLine(missing), /cannot read battle log: no such file or folder .*nope\.jsonl/);
  });

  it("rate reads a log with a byte-order mark like any other, and counts a repeated key as a bad record", () => {
    const file = join(dir, "bom.jsonl");
    const lines = battles.slice(0, 40).map((b) => JSON.stringify(b));
    lines.splice(3, 0, '{"model_a": "alpha", "model_b": "beta", "winner": "model_a", "winner": "model_b"}');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join("\n") + "\n")]));
    const r = tslm("arena", "rate", file, "--bootstrap", "0");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bom\.jsonl:4: invalid JSON: duplicate key "winner"/);
    const skipped = tslm("arena", "rate", file, "--skip-bad", "--bootstrap", "0", "--json");
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.equal(oneJson(skipped.stdout).skipped, 1);
  });

  it("leaderboard prints a run's leaderboard (text and --json)", () => {
    const text = tslm("arena", "leaderboard", RUN, "--bootstrap", "100");
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /run example-run: 70 battles/);
    assert.match(text.stdout, /rank\s+model\s+rating\s+95% CI\s+battles/);
    const out = oneJson(tslm("arena", "leaderboard", RUN, "--json", "--bootstrap", "100").stdout) as { run: string; ratings: { model: string }[] };
    assert.equal(out.run, "example-run");
    assert.equal(out.ratings.length, 5);
  });

  it("leaderboard keeps a contestant whose answers all failed, unrated, with a note saying why", () => {
    const run = join(dir, "silent-run");
    cpSync(RUN, run, { recursive: true });
    const journal = join(run, "journal.jsonl");
    const lines = readFileSync(journal, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const silent = "file-0";
    const kept = lines
      .filter((r) => !((r.type === "battle" || r.type === "battle_error" || r.type === "judgment") && (r.model_a === silent || r.model_b === silent)))
      .map((r) => (r.type === "answer" && r.model === silent ? { ...r, text: undefined, error: "HTTP 500: boom" } : r));
    writeFileSync(journal, kept.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const r = tslm("arena", "leaderboard", run, "--json", "--bootstrap", "20");
    assert.equal(r.status, 0, r.stderr);
    const out = oneJson(r.stdout) as { ratings: { model: string; status: string }[]; warnings: string[] };
    assert.equal(out.ratings.find((x) => x.model === silent)?.status, "unrated", JSON.stringify(out.ratings));
    assert.ok(out.warnings.some((w) => w.includes(silent) && /failed/.test(w)), out.warnings.join("; "));
    const text = tslm("arena", "leaderboard", run, "--bootstrap", "20");
    assert.match(text.stdout, new RegExp(`note: .*${silent}.*failed`));
  });

  it("report writes byte-identical files from two separate processes", () => {
    const a = join(dir, "report-a");
    const b = join(dir, "report-b");
    const ra = tslm("arena", "report", RUN, "--out", a, "--json");
    const rb = tslm("arena", "report", RUN, "--out", b);
    assert.equal(ra.status, 0, ra.stderr);
    assert.equal(rb.status, 0, rb.stderr);
    assert.match(rb.stdout, /report: .*report\.html/);
    const files = (d: string) => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(d, join(e.parentPath, e.name))).sort();
    assert.deepEqual(files(a), files(b));
    for (const f of files(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
    assert.equal((oneJson(ra.stdout) as { files: string[] }).files.length, files(a).length);
  });
});
