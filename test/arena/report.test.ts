import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { openInChromium } from "../support/chromium.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { analyzeRun } from "../../lib/arena/report/analyze.js";
import { scriptSafe } from "../../lib/arena/report/html.js";
import { renderMarkdown } from "../../lib/arena/report/markdown.js";
import { buildReport, writeReport } from "../../lib/arena/report/write.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RUN = join(ROOT, "test/fixtures/arena/example-run");
const ARTIFACTS = join(ROOT, "test-artifacts");

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("arena/report: HTML, Markdown and JSON reports of a run", function () {
  this.timeout(120_000);
  let out: string;
  let files: string[];

  before(async () => {
    out = mkdtempSync(join(tmpdir(), "tslm-report-"));
    ({ files } = await writeReport(RUN, { out }));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("writes report.html, report.md, report.json and one SVG per chart", () => {
    assert.deepEqual(listFiles(out).filter((f) => !f.startsWith("figures")), ["report.html", "report.json", "report.md"]);
    const figures = listFiles(join(out, "figures"));
    assert.ok(figures.length >= 9, figures.join(", "));
    assert.equal(files.length, figures.length + 3);
    const md = readFileSync(join(out, "report.md"), "utf8");
    for (const f of figures) assert.ok(md.includes(`](figures/${f})`), `Markdown links ${f}`);
    assert.match(md, /\| rank \(UB\) \| model \| rating/);
  });

  it("puts battles, verdicts, ratings, config, seed, tool versions and the suite hash in the JSON", () => {
    const run = loadRun(RUN);
    const json = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    assert.equal(json.format, "tslm-arena-report");
    assert.equal(json.run.seed, run.meta.seed);
    assert.equal(json.run.suite.hash, run.meta.suiteHash);
    assert.deepEqual(json.run.versions, run.meta.versions);
    assert.ok(json.report.versions.vega && json.report.versions["vega-lite"] && json.report.versions.tslm);
    assert.equal(json.battles.length, run.battles.length);
    assert.equal(json.judgments.length, run.judgments.length);
    assert.deepEqual(json.config, JSON.parse(JSON.stringify(run.config)));
    assert.equal(json.ratings.ratings.length, run.contestants.length);
    assert.equal(json.ratings.rounds, 1000);
    assert.equal(json.report.rating_options.seed, run.meta.seed, "the bootstrap is seeded with the run's seed");
    assert.ok(json.diagnostics.position_bias[0].first_rate > 0.5, "the fixture's judge favours the first answer");
  });

  it("gives byte-identical files for the same run folder", async () => {
    const again = mkdtempSync(join(tmpdir(), "tslm-report-"));
    try {
      await writeReport(RUN, { out: again });
      assert.deepEqual(listFiles(again), listFiles(out));
      for (const f of listFiles(out)) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(again, f))), `${f} differs`);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it("is self-contained: scripts inlined, no external URL to fetch, an SVG fallback in every chart", () => {
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.ok(!/<script[^>]+src=/i.test(html) && !/<link[^>]+href=/i.test(html));
    assert.ok(html.includes("vegaEmbed"));
    const charts = [...html.matchAll(/<div class="chart" data-spec="([^"]+)"[^>]*>(.{0,5})/g)];
    assert.ok(charts.length >= 9);
    for (const c of charts) assert.equal(c[2], "<svg ", `fallback SVG in ${c[1]}`);
    assert.equal(scriptSafe('a="</script>"'), 'a="<\\/script>"');
  });

  it("draws every chart in headless Chromium with no network (screenshot kept in test-artifacts/)", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "arena-report.png");
    const { charts, external, errors } = await openInChromium(join(out, "report.html"), shot);
    assert.ok(charts.length >= 9);
    for (const c of charts) {
      assert.equal(c.rendered, "vega", `${c.id} was not drawn by vega-embed: ${c.error}`);
      assert.ok(c.marks > 0, `${c.id} has no data marks`);
      assert.ok(c.width > 100, `${c.id} is ${c.width}px wide`);
    }
    const heat = charts.find((c) => c.id === "spec-win-fraction")!;
    assert.ok(heat.marks >= 2 * 5 * 4, `win-fraction heatmap shows ${heat.marks} marks`);
    assert.deepEqual(external, [], "no network requests");
    assert.deepEqual(errors, [], "no page errors");
    assert.ok(existsSync(shot));
  });
});

describe("arena/report: names from the run are text, and every contestant is listed", () => {
  /** `raw` appears in Markdown `md` with its first character not escaped by a backslash. */
  const unescapedIn = (md: string, raw: string) => md.split(raw).slice(0, -1).some((before) => !before.endsWith("\\"));
  const HOSTILE = ["<img src=x onerror=alert(1)>", "</td><script>alert(1)</script>", "[x](javascript:alert(1))", "a|b", "**bold** `code` ~~gone~~"];

  /** The fixture run with its models renamed to `names` (and the judge and run id too). */
  function renamed(names: string[]) {
    const run = loadRun(RUN);
    const map = new Map(run.contestants.map((c, i) => [c.name, names[i % names.length] + (i >= names.length ? ` ${i}` : "")]));
    const rn = (m: string) => map.get(m) ?? m;
    return {
      ...run,
      meta: { ...run.meta, id: "<b>run</b> [r](javascript:x)" },
      suite: { ...run.suite, name: "<i>suite</i>" },
      contestants: run.contestants.map((c) => ({ ...c, name: rn(c.name) })),
      answers: run.answers.map((a) => ({ ...a, model: rn(a.model) })),
      judgments: run.judgments.map((j) => ({ ...j, first: rn(j.first), second: rn(j.second), judge: "<u>judge</u>" })),
      battles: run.battles.map((b) => ({ ...b, model_a: rn(b.model_a), model_b: rn(b.model_b), judge: "<u>judge</u>", category: "<s>cat</s>" })),
      errors: { ...run.errors, answers: run.errors.answers.map((a) => ({ ...a, model: rn(a.model) })) },
    };
  }

  it("escapes model, judge, suite and run names in report.md (no raw HTML, links or table breaks)", () => {
    const run = renamed(HOSTILE);
    const md = renderMarkdown(run, analyzeRun(run, { bootstrap: 20 }));
    for (const raw of ["<img", "<script", "</td>", "<b>", "<i>", "<u>", "](javascript:", "**bold**", "`code`", "~~gone~~"]) assert.ok(!unescapedIn(md, raw), `raw ${raw} in report.md`);
    assert.ok(md.includes("\\<img src=x onerror=alert(1)\\>"), "the name is still shown, as text");
    const board = md.split("## Leaderboard")[1].split("## Charts")[0].trim().split("\n");
    for (const row of board) assert.equal(row.split(/(?<!\\)\|/).length - 2, 7, `a leaderboard row keeps its 7 cells: ${row}`);
  });

  it("escapes the same names in the HTML report and the leaderboard's HTML and Markdown", async () => {
    const run = renamed(HOSTILE);
    const built = await buildReport(run, { bootstrap: 20 }, { vega: "", vegaLite: "", vegaEmbed: "" });
    const body = built.html.split("<main>")[1].split("</main>")[0];
    for (const raw of ["<img src=x", "</td><script>alert", "<b>run", "<i>suite", "<u>judge", "<s>cat"]) assert.ok(!body.includes(raw), `raw ${raw} in report.html`);
    const board = built.analysis.leaderboard;
    assert.ok(!board.toHTML().includes("<img") && board.toHTML().includes("&lt;img"));
    assert.ok(!unescapedIn(board.toMarkdown(), "<img") && !unescapedIn(board.toMarkdown(), "](javascript:"));
  });

  it("keeps a contestant whose answers all failed on the leaderboard, with a note saying why", () => {
    const run = loadRun(RUN);
    const silent = run.contestants[0].name;
    const failed = run.answers.filter((a) => a.model === silent).map((a) => ({ id: a.id, prompt_id: a.prompt_id, model: a.model, key: a.key, error: "HTTP 500: boom" }));
    const changed = {
      ...run,
      answers: [...run.answers.filter((a) => a.model !== silent), ...failed],
      battles: run.battles.filter((b) => b.model_a !== silent && b.model_b !== silent),
      errors: { ...run.errors, answers: [...run.errors.answers.filter((a) => a.model !== silent), ...failed] },
    };
    const analysis = analyzeRun(changed, { bootstrap: 20 });
    const row = analysis.leaderboard.rows().find((r) => r.model === silent);
    assert.ok(row, `${silent} is on the leaderboard`);
    assert.equal(row.status, "unrated");
    assert.equal(row.battles, 0);
    assert.ok(analysis.leaderboard.result.warnings.some((w) => w.includes(`all ${failed.length} answers of ${silent} failed`)), analysis.leaderboard.result.warnings.join("\n"));
    const md = renderMarkdown(changed, analysis);
    assert.match(md, new RegExp(`\\| ${silent} \\| - \\| - \\| - \\| 0 \\| no rated battles \\|`));
  });

  it("builds every figure of a run where one model won every battle (its rating is +inf, not a number)", async () => {
    const run = loadRun(RUN);
    const champ = run.contestants[0].name;
    const battles = run.battles.map((b) => (b.model_a === champ ? { ...b, winner: "model_a" as const } : b.model_b === champ ? { ...b, winner: "model_b" as const } : b));
    const built = await buildReport({ ...run, battles }, { bootstrap: 20 }, { vega: "", vegaLite: "", vegaEmbed: "" });
    const row = built.analysis.leaderboard.rows().find((r) => r.model === champ)!;
    assert.deepEqual([row.status, row.rating], ["above", Infinity]);
    assert.equal(built.svgs.size, built.analysis.charts.length);
    for (const [id, svg] of built.svgs) assert.ok(svg.startsWith("<svg") && !svg.includes("NaN"), `figure ${id}`);
    assert.match(built.markdown, new RegExp(`\\| 1 \\| ${champ} \\| \\+inf \\| - \\| \\+inf \\|`));
    assert.equal(JSON.parse(built.json).ratings.converged, false);
  });
});
