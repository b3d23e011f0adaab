/**
 * `tslm demo` end to end, as `npm start` runs it (the full default
 * configuration on the embedded model): fine-tunes LoRA and QLoRA adapters,
 * plays the tournament, rates, writes the report; the fine-tuned variants
 * must rank above the base with non-overlapping intervals; a second run must
 * reuse every cache and be fast; the report must draw every chart in
 * headless Chromium.
 */
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT, childEnv, modelArgs, openInChromium, removeTempDirs, startCli, tempDir, type CliRun } from "./support/helpers.js";

interface DemoJson {
  format: string;
  id: string;
  dir: string;
  complete: boolean;
  leaderboard: { method: string; rounds: number; confidence: number; ratings: { model: string; rating: number; lower: number; upper: number; rank: number; battles: number }[] };
  separation: { model: string; base: string; gap: number; above: boolean }[];
  variants: { name: string; method: string; rank: number; quantization: string; adapter: string | null; accuracy: number | null; training: { cached: boolean; steps: number; baseRatio: number } | null }[];
  battles: { played: number; errors: number };
  report: { dir: string; html: string; markdown: string; json: string };
  timings: { steps: { step: string; seconds: number; note?: string }[]; total: number };
  suite: { name: string; prompts: number };
  judge: { reference: boolean; llm: unknown };
  warnings: string[];
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("demo: `tslm demo` end to end on the embedded model", function () {
  this.timeout(600_000);
  let work: string;
  let first: CliRun;
  let result: DemoJson;

  before(async () => {
    work = tempDir();
    first = await startCli(["demo", "--json", "--out", join(work, "runs"), "--cache", join(work, "cache"), ...modelArgs()]);
    assert.equal(first.code, 0, `demo failed (exit ${first.code}):\n${first.stderr.slice(-3000)}`);
    result = JSON.parse(first.stdout.trim().split("\n").at(-1)!);
  });
  after(removeTempDirs);

  it("prints one JSON object with the leaderboard, the paths and the timings", () => {
    assert.equal(first.stdout.trim().split("\n").length, 1, "stdout holds exactly one line");
    assert.equal(result.format, "tslm-demo");
    assert.ok(result.complete);
    assert.match(result.id, /^demo-[0-9a-f]{12}$/);
    assert.equal(result.suite.name, "embedded-skills");
    assert.deepEqual(result.judge, { reference: true, llm: null });
    assert.deepEqual(result.leaderboard.ratings.map((r) => r.model).sort(), ["base", "lora-r1", "lora-r8", "qlora-r8-nf4"]);
    assert.equal(result.leaderboard.method, "bt");
    assert.equal(result.leaderboard.rounds, 1000);
    assert.equal(result.battles.errors, 0);
    assert.ok(!result.warnings.some((w) => /also training examples/.test(w)), "no played prompt was a training example");
    assert.equal(result.battles.played, 6 * result.suite.prompts, "round robin: every pair on every prompt");
    assert.deepEqual(result.timings.steps.map((s) => s.step), ["setup", "train lora-r8", "train qlora-r8-nf4", "train lora-r1", "tournament", "report"]);
    // Progress for every step on stderr.
    for (let i = 1; i <= 6; i++) assert.ok(first.stderr.includes(`[${i}/6] `), `step ${i} announced`);
  });

  it("ranks every fine-tuned variant above the base with non-overlapping 95% intervals", () => {
    const rows = new Map(result.leaderboard.ratings.map((r) => [r.model, r]));
    const base = rows.get("base")!;
    for (const name of ["lora-r8", "qlora-r8-nf4", "lora-r1"]) {
      const r = rows.get(name)!;
      assert.ok(r.lower > base.upper, `${name} [${r.lower.toFixed(1)}, ${r.upper.toFixed(1)}] vs base [${base.lower.toFixed(1)}, ${base.upper.toFixed(1)}]`);
      assert.ok(r.rank < base.rank, `${name} rank ${r.rank} vs base rank ${base.rank}`);
    }
    assert.equal(base.rank, 4);
    assert.ok(result.separation.length === 3 && result.separation.every((s) => s.above && s.gap > 0));
    const acc = new Map(result.variants.map((v) => [v.name, v.accuracy!]));
    assert.ok(acc.get("lora-r8")! > acc.get("base")! + 0.5, `exact match lora-r8 ${acc.get("lora-r8")} vs base ${acc.get("base")}`);
    assert.ok(acc.get("qlora-r8-nf4")! > acc.get("base")! + 0.5);
    const q = result.variants.find((v) => v.name === "qlora-r8-nf4")!;
    assert.ok(q.training!.baseRatio < 0.35, `the QLoRA base takes ${q.training!.baseRatio} of its float32 memory`);
  });

  it("writes the run folder: journal, report (HTML, Markdown, JSON, figures), PEFT adapters and demo.json", () => {
    const got = files(result.dir);
    for (const f of ["run.json", "journal.jsonl", "config.json", "suite.json", "demo.json", "report/report.html", "report/report.md", "report/report.json"]) assert.ok(got.includes(f), `${f} in ${got.join(", ")}`);
    assert.ok(got.filter((f) => f.startsWith("report/figures/") && f.endsWith(".svg")).length >= 9);
    for (const v of ["lora-r8", "qlora-r8-nf4", "lora-r1"]) {
      const cfg = JSON.parse(readFileSync(join(result.dir, "adapters", v, "adapter_config.json"), "utf8"));
      assert.equal(cfg.peft_type, "LORA");
      assert.equal(cfg.r, v === "lora-r1" ? 1 : 8);
      assert.ok(statSync(join(result.dir, "adapters", v, "adapter_model.safetensors")).size > 1000);
    }
    const md = readFileSync(result.report.markdown, "utf8");
    for (const m of ["base", "lora-r8", "qlora-r8-nf4", "lora-r1"]) assert.ok(md.includes(m));
    const saved = JSON.parse(readFileSync(join(result.dir, "demo.json"), "utf8"));
    assert.deepEqual(saved.leaderboard, result.leaderboard);
    assert.ok(saved.losses["lora-r8"].length > 10, "the loss curve of each adapter is kept");
  });

  it("reruns from the caches: nothing trained, no answer generated, the same leaderboard and report", async () => {
    const html = readFileSync(result.report.html);
    const again = await startCli(["demo", "--out", join(work, "runs"), "--cache", join(work, "cache"), ...modelArgs()], { env: childEnv({ TSLM_PROGRESS: "lines" }) });
    assert.equal(again.code, 0, again.stderr.slice(-3000));
    const human = again.stdout;
    // The human summary: leaderboard with intervals, the verdict, the report's path.
    assert.match(human, /Bradley-Terry, 1000 bootstrap rounds/);
    assert.match(human, /rank\s+model\s+rating\s+95% CI\s+battles/);
    assert.match(human, /lora-r8 ranks above base: the 95% intervals do not overlap/);
    assert.ok(human.includes(join(relative(ROOT, result.dir), "report", "report.html")) || human.includes(result.report.html), human);
    assert.equal((human.match(/\(cached\)/g) ?? []).length, 3, "every adapter came from the cache");
    assert.match(again.stderr, /0 new answers/);
    assert.match(again.stderr, /arena demo-/, "the tournament drew its progress");
    assert.ok(again.seconds < first.seconds / 2, `rerun ${again.seconds.toFixed(1)} s vs first ${first.seconds.toFixed(1)} s`);
    const saved = JSON.parse(readFileSync(join(result.dir, "demo.json"), "utf8"));
    assert.deepEqual(saved.leaderboard, result.leaderboard);
    assert.ok(readFileSync(result.report.html).equals(html), "the report is byte-identical");
    console.log(`      first run ${first.seconds.toFixed(1)} s, cached rerun ${again.seconds.toFixed(1)} s`);
  });

  it("draws every chart of the report in headless Chromium, offline (screenshot in test-artifacts/)", async () => {
    const artifacts = join(ROOT, "test-artifacts");
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, "demo-report.png");
    const page = await openInChromium(result.report.html, shot);
    assert.ok(page.charts.length >= 9, `${page.charts.length} charts`);
    for (const c of page.charts) {
      assert.equal(c.rendered, "vega", `${c.id} was not drawn by vega-embed: ${c.error}`);
      assert.ok(c.marks > 0, `${c.id} has no data marks`);
      assert.ok(c.width > 100, `${c.id} is ${c.width}px wide`);
    }
    const heat = page.charts.find((c) => c.id === "spec-win-fraction");
    assert.ok(heat && heat.marks >= 4 * 3, `win-fraction heatmap: ${heat?.marks} marks`);
    assert.deepEqual(page.external, [], "no network requests");
    assert.deepEqual(page.errors, [], "no page errors");
    assert.ok(existsSync(shot));
  });
});
