/** progress(): one notebook display updated in place (throttled), silent when off, env-driven mode. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { formatDuration, progress, progressMode } from "../../lib/display/index.js";
import { recordingSink } from "./support/sink.js";

describe("display: progress", () => {
  it("chooses its mode from TSLM_PROGRESS, the kernel and the terminal", () => {
    assert.equal(progressMode({ TSLM_PROGRESS: "0" }, true), "off");
    assert.equal(progressMode({ TSLM_PROGRESS: "bar" }, false), "bar");
    assert.equal(progressMode({ TSLM_PROGRESS: "lines" }, false), "lines");
    assert.equal(progressMode({}, true), "bar");
    assert.equal(progressMode({}, false), "off");
    const rec = recordingSink();
    rec.install();
    try {
      assert.equal(progressMode({}, true), "notebook");
      assert.equal(progressMode({ TSLM_PROGRESS: "0" }, false), "notebook");
    } finally {
      rec.remove();
    }
  });

  it("is silent and cheap when off", () => {
    const p = progress({ label: "x", total: 1e6, mode: "off" });
    const t0 = performance.now();
    for (let i = 0; i < 1e6; i++) p.update(i, { metrics: { loss: i } });
    p.done();
    assert.ok(performance.now() - t0 < 500);
    assert.equal(p.mode, "off");
  });

  it("updates one notebook display in place, throttled, with rate, ETA and metrics", async () => {
    const rec = recordingSink();
    rec.install();
    let now = 0;
    try {
      const p = progress({ label: "train", total: 100, unit: "steps", now: () => now, minIntervalMs: 250 });
      for (let i = 1; i <= 50; i++) {
        now = i * 10; // 10 ms a step: 0.5 s in all
        p.update(i, { status: "warmup", metrics: { loss: 2 / i } });
      }
      p.done({ status: "saved" });
      p.update(99); // ignored after done
      await Promise.all(rec.tracked);
      assert.equal(rec.published.length, 4, "first draw, two throttled redraws, the final one");
      assert.ok(rec.published.every((x) => x.displayId === rec.published[0].displayId));
      assert.deepEqual(rec.published.map((x) => Boolean(x.update)), [false, true, true, true]);
      const mid = String(rec.published[1].data["text/plain"]);
      assert.match(mid, /^train \[#{6}-{18}\] 25% 25\/100 steps \| 100 steps\/s \| 0:00 elapsed, ETA 0:01 \| warmup · loss=0\.08$/);
      const last = rec.published[3].data;
      assert.match(String(last["text/plain"]), /^train done .* 50\/100 steps .* saved · loss=0\.04$/);
      assert.match(String(last["text/html"]), /<progress value="50" max="100"/);
    } finally {
      rec.remove();
    }
  });

  it("shows failures", async () => {
    const rec = recordingSink();
    rec.install();
    try {
      const p = progress({ label: "tournament", mode: "notebook" });
      p.update(3);
      p.fail(new Error("judge unreachable"));
      await Promise.all(rec.tracked);
      assert.match(String(rec.published.at(-1)!.data["text/plain"]), /tournament FAILED 3 it .* failed: judge unreachable/);
    } finally {
      rec.remove();
    }
  });

  it("draws a bar or plain lines on stderr in a terminal, nothing on stdout", function () {
    this.timeout(60000);
    const script = fileURLToPath(new URL("./support/progress-run.ts", import.meta.url));
    const run = (mode: string) => spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", env: { ...process.env, TSLM_PROGRESS: mode } });
    const bar = run("bar");
    assert.equal(bar.status, 0, bar.stderr);
    assert.equal(bar.stdout, "");
    assert.match(bar.stderr, /demo \[.*\] 100% 3\/3 steps \| [\d.]+ steps\/s \| 0:00 elapsed \| loss=0\.3333/);
    const lines = run("lines");
    assert.deepEqual(lines.stderr.trim().split("\n").map((l) => l.replace(/ \| [\d.]+ steps\/s.*/, "")), [
      "demo [------------------------] 0% 0/3 steps",
      "demo done [########################] 100% 3/3 steps",
    ]);
    assert.equal(run("0").stderr, "");
  });

  it("rejects a bad total and formats durations", () => {
    assert.throws(() => progress({ label: "x", total: -1 }), /total must be a non-negative number, got -1/);
    assert.equal(formatDuration(65), "1:05");
    assert.equal(formatDuration(3723), "1:02:03");
  });
});
