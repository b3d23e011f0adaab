/**
 * The voting page for human judges: its HTTP API on 127.0.0.1 driving a real
 * tournament, and `tslm arena run --vote` voted through by a person's stand-in
 * clicking in headless Chromium (Debian's, through playwright-core).
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { runTournament } from "../../lib/arena/run.js";
import { loadRun } from "../../lib/arena/store/load.js";
import { loadSuite } from "../../lib/arena/suites/index.js";
import { startVotingServer } from "../../lib/arena/judges/voting.js";
import { MINI_SUITE } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";
import { fastWorld } from "./support/helpers.js";
import { ROOT } from "../support/cli.js";

const quiet = { progress: "off" as const };

async function call(url: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers["x-tslm-token"] = token;
  const r = await fetch(new URL(path, url), body === undefined ? { headers } : { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}

describe("arena: the voting page for human judges", function () {
  this.timeout(120_000);
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });
  after(() => removeTempDirs());

  it("serves ballots over HTTP to whoever holds the token, records each vote, and says when the tournament is over", async () => {
    const w = fastWorld(["m1", "m2", "m3"]);
    const server = await startVotingServer({ waitMs: 2000 });
    try {
      const token = new URL(server.url).searchParams.get("token")!;
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
      const cfg = { name: "v", out: tempDir(), suite: MINI_SUITE, cache: false as const, seed: 3, prompts: { limit: 2 }, contestants: ["m1", "m2", "m3"].map((name) => ({ name, type: "custom" as const })), judge: { type: "human" as const, id: "alice" } };
      const running = runTournament(cfg, { contestants: w.contestants, onHumanJudge: (j) => server.add(j), ...quiet });

      // No token, a wrong token: refused, nothing shown.
      assert.equal((await call(server.url, "/api/next", null)).status, 403);
      assert.equal((await call(server.url, "/api/next", "0".repeat(48))).status, 403);
      const page = await fetch(server.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);

      const votes = ["A", "B", "tie", "both_bad", "A", "B"] as const;
      for (const [k, v] of votes.entries()) {
        const next = await call(server.url, "/api/next", token);
        assert.equal(next.status, 200);
        assert.ok(next.json.ballot, `ballot ${k}: ${JSON.stringify(next.json)}`);
        const b = next.json.ballot;
        assert.equal(next.json.judge, "alice");
        assert.deepEqual(Object.keys(b).sort(), ["a", "b", "category", "id", "messages", "prompt_id"], "no model names on a ballot");
        if (k === 0) {
          // Bad votes are refused with a reason, and leave the ballot open.
          const bad = await call(server.url, "/api/vote", token, { judge: "alice", ballot: b.id, vote: "C" });
          assert.equal(bad.status, 400);
          assert.match(bad.json.error, /vote must be one of A, B, tie, both_bad/);
          assert.equal((await call(server.url, "/api/vote", token, "{not json")).status, 400);
          assert.equal((await call(server.url, "/api/vote", token, { ballot: b.id, vote: "A" })).status, 400, "no judge");
          assert.equal((await call(server.url, "/api/vote", token, { judge: "bob", ballot: b.id, vote: "A" })).status, 404);
          assert.equal((await call(server.url, "/api/next?judge=bob", token)).status, 404, "unknown judge");
          const big = await call(server.url, "/api/vote", token, { judge: "alice", ballot: b.id, vote: "A", pad: "x".repeat(200_000) });
          assert.equal(big.status, 413);
          assert.match(big.json.error, /over 65536 bytes/);
          assert.equal((await call(server.url, "/api/vote", null, { judge: "alice", ballot: b.id, vote: "A" })).status, 403);
        }
        const ok = await call(server.url, "/api/vote", token, { judge: "alice", ballot: b.id, vote: v });
        assert.equal(ok.status, 200, JSON.stringify(ok.json));
        // The same ballot cannot be voted twice.
        assert.equal((await call(server.url, "/api/vote", token, { judge: "alice", ballot: b.id, vote: v })).status, 409);
      }
      const run = await running;
      // A page waiting when the server closes hears that the run is over.
      const waiting = call(server.url, "/api/next", token);
      await new Promise((r) => setTimeout(r, 100));
      const closing = server.close();
      assert.deepEqual((await waiting).json, { done: true, voted: 6 });
      await closing;
      assert.equal(run.judgments.length, 6);
      const count = (v: string) => run.judgments.filter((j) => j.verdict === v).length;
      assert.deepEqual([count("first"), count("second"), count("tie"), count("both_bad")], [2, 2, 1, 1]);
      assert.ok(run.judgments.every((j) => j.judge === "alice"));
    } finally {
      await server.close();
    }
  });

  it("puts up a ballot for every pairing even when two pairings show the same two answers", async () => {
    // Three models that answer every prompt alike: their three pairings look the same on each prompt.
    const same = Object.fromEntries(["m1", "m2", "m3"].map((n) => [n, { name: n, type: "custom" as const, identity: { n }, cacheable: false, generate: async () => ({ text: "4" }) }]));
    const server = await startVotingServer({ waitMs: 2000 });
    try {
      const token = new URL(server.url).searchParams.get("token")!;
      const cfg = { name: "s", out: tempDir(), suite: MINI_SUITE, cache: false as const, seed: 6, prompts: { limit: 1 }, contestants: ["m1", "m2", "m3"].map((name) => ({ name, type: "custom" as const })), judge: { type: "human" as const } };
      const running = runTournament(cfg, { contestants: same, onHumanJudge: (j) => server.add(j), ...quiet });
      const ids = new Set<string>();
      for (let k = 0; k < 3; k++) {
        const next = await call(server.url, "/api/next", token);
        ids.add(next.json.ballot.id);
        assert.equal((await call(server.url, "/api/vote", token, { judge: "human", ballot: next.json.ballot.id, vote: "tie" })).status, 200);
      }
      assert.equal(ids.size, 3);
      assert.equal((await running).judgments.length, 3);
    } finally {
      await server.close();
    }
  });

  it("gives each person of an ensemble of human judges their own ballots (?judge=ID)", async () => {
    const w = fastWorld(["m1", "m2", "m3"]);
    const server = await startVotingServer({ waitMs: 2000 });
    try {
      const token = new URL(server.url).searchParams.get("token")!;
      const judge = { type: "ensemble" as const, combine: "pool" as const, judges: [{ type: "human" as const, id: "alice" }, { type: "human" as const, id: "bob" }] };
      const cfg = { name: "e", out: tempDir(), suite: MINI_SUITE, cache: false as const, seed: 4, prompts: { limit: 1 }, contestants: ["m1", "m2", "m3"].map((name) => ({ name, type: "custom" as const })), judge };
      const running = runTournament(cfg, { contestants: w.contestants, onHumanJudge: (j) => server.add(j), ...quiet });
      for (const [who, vote] of [["bob", "B"], ["alice", "A"]] as const) {
        for (let k = 0; k < 3; k++) {
          const next = await call(server.url, `/api/next?judge=${who}`, token);
          assert.equal(next.json.judge, who, JSON.stringify(next.json));
          assert.equal((await call(server.url, "/api/vote", token, { judge: who, ballot: next.json.ballot.id, vote })).status, 200);
        }
      }
      const run = await running;
      const of = (who: string) => run.judgments.filter((j) => j.judge === who).map((j) => j.verdict);
      assert.deepEqual(of("alice"), ["first", "first", "first"]);
      assert.deepEqual(of("bob"), ["second", "second", "second"]);
    } finally {
      await server.close();
    }
  });

  it("tslm arena run --vote: a person votes in the browser; answers show as text; the run completes with those votes", async () => {
    const dir = tempDir();
    const prompts = loadSuite(MINI_SUITE).prompts.slice(0, 2);
    const names = ["alpha", "beta", "gamma"];
    for (const n of names) {
      // One answer carries markup: the page must show it as text, never run it.
      const lines = prompts.map((p) => JSON.stringify({ prompt_id: p.id, text: n === "beta" ? `<img src=x onerror="document.title='pwned'"> <b>${n}</b> on ${p.id}` : `${n} answers ${p.id}` }));
      writeFileSync(join(dir, `${n}.jsonl`), lines.join("\n") + "\n");
    }
    const config = join(dir, "arena.yaml");
    writeFileSync(config, stringify({
      name: "voted", out: join(dir, "runs"), suite: MINI_SUITE, cache: false, seed: 5, prompts: { ids: prompts.map((p) => p.id) },
      contestants: names.map((n) => ({ name: n, type: "answers", path: `${n}.jsonl` })),
      judge: { type: "human", id: "panel" },
    }));
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../support/run-cli.ts", import.meta.url)), "arena", "run", config, "--vote", "--json"], { cwd: ROOT, env: { ...process.env, TSLM_PROGRESS: "0" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d) => {
        stderr += d;
        const m = stderr.match(/voting page: (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`tslm exited (${code}) before serving the page: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // If anything below fails, the voting process must not wait for votes forever.
    cleanup = () => child.kill();

    const { chromium } = await import("playwright-core");
    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    const clicks = ["A", "B", "tie", "both_bad", "key:1", "key:2"];
    const seen: { a: string; b: string }[] = [];
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(url);
      for (const [k, click] of clicks.entries()) {
        await page.waitForSelector("body[data-state=ballot]", { timeout: 30_000 });
        const ballot = await page.getAttribute("body", "data-ballot");
        seen.push({ a: await page.innerText("#answer-a .text"), b: await page.innerText("#answer-b .text") });
        if (k === 0) await page.screenshot({ path: join(ROOT, "test-artifacts", "voting-page.png"), fullPage: true });
        if (click.startsWith("key:")) await page.keyboard.press(click.slice(4));
        else await page.click(`button[data-vote=${click}]`);
        // Wait until the page has moved past this ballot.
        await page.waitForFunction(
          (id) => {
            const body = (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body;
            return body.dataset.ballot !== id || body.dataset.state === "done";
          },
          ballot,
          { timeout: 30_000 },
        );
      }
      await page.waitForSelector("body[data-state=done]", { timeout: 30_000 });
      assert.match(await page.innerText("#message"), /tournament is over.*6 votes/);
      assert.deepEqual(errors, []);
      assert.notEqual(await page.title(), "pwned");
      assert.equal(await page.$$eval(".answer img, .answer b", (els) => els.length), 0, "answers are text, not HTML");
    } finally {
      await browser.close();
    }
    assert.equal(await exited, 0, stderr);
    const summary = JSON.parse(stdout.trim().split("\n").pop()!);
    assert.equal(summary.complete, true);
    assert.equal(summary.battles, 6);
    // The markup was shown literally.
    assert.ok(seen.some((s) => s.a.includes("<img src=x") || s.b.includes("<img src=x")));
    const run = loadRun(summary.dir);
    const count = (v: string) => run.judgments.filter((j) => j.verdict === v).length;
    assert.deepEqual([count("first"), count("second"), count("tie"), count("both_bad")], [2, 2, 1, 1]);
  });
});
