import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "../../lib/formats/safetensors.js";
import { latestCheckpoint } from "../../lib/train/checkpoint.js";
import { tempDir } from "../support/tmp.js";

const CHILD = fileURLToPath(new URL("./fixtures/crash-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs the child; `killWhen` sees each stdout line and may return true to SIGKILL it. */
function runChild(out: string, args: string[], env: Record<string, string> = {}, killWhen?: (line: string) => boolean): Promise<{ lines: string[]; killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, out, ...args], {
      cwd: ROOT,
      env: { ...process.env, TSLM_BACKEND: "wasm", TSLM_PROGRESS: "off", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let killed = false;
    let buf = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (!killed && killWhen?.(line)) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (!killed && code !== 0) reject(new Error(`child failed (${code}): ${err.slice(-2000)}`));
      else resolve({ lines, killed, code });
    });
  });
}

function adapter(out: string): Map<string, Float32Array> {
  const { tensors } = readSafetensors(join(out, "adapter", "adapter_model.safetensors"));
  return new Map([...tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

function assertSameAdapter(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, x] of a) {
    const y = b.get(k)!;
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    assert.ok(d <= 1e-6, `${k} differs by ${d}`);
  }
}

describe("train: exact resume after kill -9", function () {
  this.timeout(240_000);
  let reference: Map<string, Float32Array>;

  before(async () => {
    const out = tempDir();
    const r = await runChild(out, []);
    assert.ok(r.lines.includes("DONE"));
    reference = adapter(out);
  });

  it("killed between checkpoints, resumes to the uninterrupted run's adapter", async () => {
    const out = tempDir();
    const first = await runChild(out, [], {}, (l) => l === "STEP 5");
    assert.ok(first.killed && !first.lines.includes("DONE"));
    const ck = latestCheckpoint(out)!;
    assert.ok(ck.state.step >= 4, `a checkpoint at step 4 or later, got ${ck.state.step}`);
    const second = await runChild(out, ["resume"]);
    assert.ok(second.lines.includes("DONE"));
    assert.ok(!second.lines.includes(`STEP ${ck.state.step}`), "no step before the checkpoint is repeated");
    assertSameAdapter(adapter(out), reference);
  });

  it("killed while writing a checkpoint, keeps the last good one and resumes to the same adapter", async () => {
    const out = tempDir();
    const first = await runChild(out, [], { CRASH_PAUSE_AT_STEP: "4" }, (l) => l.startsWith("PAUSED"));
    assert.ok(first.killed);
    const names = readdirSync(join(out, "checkpoints"));
    assert.ok(names.some((n) => n.startsWith(".tmp-step-000004")), `the half-written checkpoint is there: ${names}`);
    assert.ok(!names.includes("step-000004"), "it never became a checkpoint");
    const latest = JSON.parse(readFileSync(join(out, "checkpoints", "latest.json"), "utf8"));
    assert.equal(latest.checkpoint, "step-000002", "latest still points at the last good checkpoint");
    const second = await runChild(out, ["resume"]);
    assert.ok(second.lines.includes("DONE"));
    assert.ok(second.lines.includes("STEP 3"), "resumed from step 2");
    assert.ok(!readdirSync(join(out, "checkpoints")).some((n) => n.startsWith(".tmp-")), "the half-written folder was removed");
    assertSameAdapter(adapter(out), reference);
  });
});
