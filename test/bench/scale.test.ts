/**
 * `npm run bench -- scale`: the random checkpoints it builds, its disk plan,
 * its process limits, its goals, and one end-to-end run on a tiny model with
 * the real Qwen vocabulary (load, QLoRA training, int8 decoding beside
 * llama.cpp's Q8_0, and PyTorch when Debian's python3-torch is installed).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readCheckpoint } from "../../lib/formats/checkpoint.js";
import { readSafetensorsHeader } from "../../lib/formats/safetensors.js";
import { expectedWeights } from "../../lib/model/weights.js";
import { packageInfo } from "../../lib/util/package.js";
import { buildModel, llamaConfigOf, normalQuantile, planDisk, scaleModel, writeSafetensorsStreaming } from "../../bench/_scale_models.js";
import { runChild } from "../../bench/_scale_proc.js";
import { evaluateGoals, type Row, type Settings } from "../../bench/_scale_report.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

const root = packageInfo().root;

function close(got: number, want: number, tol: number): void {
  assert.ok(Math.abs(got - want) <= tol, `${got} is not within ${tol} of ${want}`);
}

/** Every key of `want` has that value in `got`. */
function has(got: object, want: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(want)) assert.equal((got as Record<string, unknown>)[k], v, `${k} of ${JSON.stringify(got)}`);
}

describe("bench scale", function () {
  this.timeout(600_000);
  after(removeTempDirs);

  describe("random checkpoints", () => {
    it("builds a sharded BF16 folder with the real config and tokenizer that tslm reads back", () => {
      const dir = join(tempDir("tslm-scale-"), "tiny");
      const m = scaleModel("tiny");
      const r = buildModel(m, dir, { seed: 3, maxShardBytes: 8_000_000 });
      assert.equal(r.built, true);
      const shards = readdirSync(dir).filter((f) => f.endsWith(".safetensors")).sort();
      assert.deepEqual(shards, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
      const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8")) as { weight_map: Record<string, string> };
      // The 151936 x 64 embedding fills the first shard; every layer follows it in the second.
      assert.equal(index.weight_map["model.embed_tokens.weight"], shards[0]);
      assert.equal(index.weight_map["model.layers.1.mlp.down_proj.weight"], shards[1]);
      for (const s of shards) assert.ok(readSafetensorsHeader(join(dir, s)).entries.every((e) => e.dtype === "BF16"), s);
      assert.ok(existsSync(join(dir, "tokenizer.json")));
      assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).vocab_size, 151936);

      const weights = readCheckpoint(dir);
      const expected = expectedWeights(llamaConfigOf(m));
      assert.deepEqual([...weights.keys()].sort(), [...expected.keys()].sort());
      for (const [name, shape] of expected) assert.deepEqual(weights.get(name)!.shape, shape, name);
      const emb = weights.get("model.embed_tokens.weight")!.data;
      let sum = 0, sq = 0;
      for (const v of emb) {
        sum += v;
        sq += v * v;
      }
      assert.ok(Math.abs(sum / emb.length) < 2e-4, `mean ${sum / emb.length}`);
      assert.ok(Math.abs(Math.sqrt(sq / emb.length) - 0.02) < 2e-4, `std ${Math.sqrt(sq / emb.length)}`);
      assert.ok(weights.get("model.norm.weight")!.data.every((v) => v === 1));
      assert.ok(weights.get("model.layers.0.self_attn.q_proj.bias")!.data.every((v) => v === 0));

      // A complete folder of the same recipe is reused; the same seed gives the same bytes.
      assert.equal(buildModel(m, dir, { seed: 3, maxShardBytes: 8_000_000 }).built, false);
      const again = join(tempDir("tslm-scale-"), "tiny");
      buildModel(m, again, { seed: 3, maxShardBytes: 8_000_000 });
      assert.ok(readFileSync(join(again, shards[1])).equals(readFileSync(join(dir, shards[1]))));
    });

    it("refuses a tensor whose streamed bytes do not match its header, leaving no file", () => {
      const dir = tempDir("tslm-scale-");
      const file = join(dir, "bad.safetensors");
      const t = { name: "w", shape: [2, 2], bytes: 8 };
      assert.throws(() => writeSafetensorsStreaming(file, [t], () => [new Uint8Array(6)]), { message: "tensor 'w' got 6 bytes, its header says 8" });
      assert.deepEqual(readdirSync(dir), []);
    });

    it("draws normal values through an accurate inverse CDF", () => {
      close(normalQuantile(0.5), 0, 1e-12);
      close(normalQuantile(0.975), 1.959963985, 1e-7);
      close(normalQuantile(0.001), -3.090232306, 1e-7);
      close(normalQuantile(1 - 1e-6), 4.753424309, 1e-6);
    });
  });

  describe("disk plan", () => {
    it("runs what fits, skips a folder that does not fit and llama.cpp when only the folder fits, and says so", () => {
      const d = planDisk(
        [
          { model: "a", folderBytes: 1e9, ggufBytes: 1.5e9 },
          { model: "b", folderBytes: 3e9, ggufBytes: 0.6e9 },
          { model: "c", folderBytes: 16e9, ggufBytes: 25e9 },
          { model: "d", folderBytes: 0, ggufBytes: 2e9 },
        ],
        8e9,
        2e9,
      );
      assert.deepEqual(d.map((x) => [x.model, x.run, x.gguf]), [["a", true, true], ["b", true, false], ["c", false, false], ["d", true, false]]);
      assert.equal(d[1].notes[0], "b: llama.cpp skipped: the GGUF exports need 0.6 GB of disk, 0.5 GB free after the folder");
      assert.equal(d[2].notes[0], "c skipped: its BF16 folder needs 16.0 GB of disk, 0.5 GB free (keeping 2.0 GB spare)");
    });
  });

  describe("child processes", () => {
    it("stops a child that passes its resident-memory limit, and one that runs too long", async () => {
      const hog = await runChild(process.execPath, ["-e", "const b = Buffer.alloc(600e6, 1); setTimeout(() => console.log(b.length), 20000)"], { timeoutMs: 60_000, maxRssBytes: 150e6, pollMs: 50 });
      assert.equal(hog.ok, false);
      assert.match(hog.failure!, /resident memory passed the 0\.15 GB limit/);
      const slow = await runChild(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { timeoutMs: 300, maxRssBytes: 4e9 });
      assert.match(slow.failure!, /still running after 0 s/);
      const fine = await runChild(process.execPath, ["-e", "console.log('x'); console.log(JSON.stringify({ a: 1 }))"], { timeoutMs: 30_000, maxRssBytes: 4e9 });
      assert.equal(fine.ok, true);
      assert.deepEqual(fine.json, { a: 1 });
    });
  });

  describe("goals", () => {
    const settings: Settings = { batch: 4, seq: 512, warmup: 1, steps: 2, rank: 8, promptTokens: 32, newTokens: 64, decodeBatch: 8, llamaThreads: [1, 2] };
    const row = (phase: Row["phase"], engine: Row["engine"], variant: string, r: Partial<Row>): Row => ({ phase, engine, variant, ok: true, ...r });

    it("marks each goal met, not met or not measured from the rows", () => {
      const rows: Row[] = [
        row("load", "tslm", "stored", { peakBytes: 1.2e9, estimateBytes: 1.1e9 }),
        row("load", "tslm", "nf4", { peakBytes: 1e9, residentBytes: 0.6e9, baselineBytes: 0.3e9, estimateBytes: 0.7e9 }),
        row("train", "tslm", "none", { peakBytes: 5e9, tokensPerSec: 80, estimateBytes: 5e9 }),
        row("train", "pytorch", "bf16", { peakBytes: 10e9, tokensPerSec: 100 }),
        row("train", "pytorch", "fp32", { peakBytes: 12e9, tokensPerSec: 50 }),
        row("decode", "tslm", "stored", { tokensPerSec: 30, batchTokensPerSec: 100 }),
        row("decode", "llama.cpp", "f16", { tokensPerSec: 25, batchTokensPerSec: 40 }),
        { phase: "decode", engine: "tslm", variant: "int8", ok: false, note: "stopped: still running" },
        row("decode", "llama.cpp", "q8_0", { tokensPerSec: 30, batchTokensPerSec: 50 }),
      ];
      const pairs = [{ tslm: "stored", gguf: "f16" as const, goal: true }, { tslm: "int8", gguf: "q8_0" as const, goal: true }];
      const goals = evaluateGoals("qwen2.5-0.5b", rows, 1e9, settings, pairs);
      const by = (s: string) => goals.find((g) => g.goal.startsWith(s))!;
      has(by("loading the BF16 folder"), { value: "1.20x", met: true });
      has(by("LoRA r=8, all linears, 4 x 512: peak RSS"), { value: "0.50x", met: true, atGoalSettings: true });
      has(by("LoRA r=8, all linears, 4 x 512: tokens/s / PyTorch bf16"), { value: "0.80x", met: false });
      has(by("LoRA r=8, all linears, 4 x 512: tokens/s / PyTorch fp32"), { value: "1.60x", met: true });
      has(by("QLoRA nf4 base"), { value: "30%", met: true });
      // The worst estimate is the nf4 load's: 0.7 / 1.0 - 1 = -30%.
      has(by("tslm estimate"), { value: "-30%", met: false });
      assert.ok(by("tslm estimate").goal.includes("load nf4"), by("tslm estimate").goal);
      has(by("decode one sequence: tslm stored"), { value: "1.20x", met: true });
      has(by("decode 8 sequences: tslm stored"), { value: "2.50x", met: true });
      has(by("decode one sequence: tslm int8"), { value: null, met: null });

      const quick = evaluateGoals("qwen2.5-0.5b", rows, 1e9, { ...settings, batch: 2, seq: 64 }, pairs);
      assert.equal(quick.find((g) => g.goal.includes("tokens/s / PyTorch bf16"))!.atGoalSettings, false);
      const big = evaluateGoals("llama-3.1-8b", [row("load", "tslm", "nf4", { peakBytes: 9e9 })], 16e9, { ...settings, batch: 1, seq: 256 }, []);
      assert.deepEqual(big.map((g) => [g.value, g.met]), [["9.00 GB", false], [null, null]]);
    });
  });

  describe("end to end", () => {
    it("measures load, QLoRA training and int8 decoding of a tiny model beside its peers, and prints one JSON line", () => {
      const cache = tempDir("tslm-scale-");
      const args = [
        "--import", "tsx", "bench/scale.ts", "--models", "tiny", "--quick", "--json", "--cache", cache,
        "--load-bases", "nf4", "--train-bases", "nf4", "--decode-bases", "int8:q8_0",
        "--batch", "1", "--seq", "16", "--steps", "1", "--prompt-tokens", "4", "--new-tokens", "3", "--decode-batch", "2",
      ];
      const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, TSLM_PROGRESS: "0" } });
      assert.equal(r.status, 0, r.stderr.slice(-2000));
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { bench: string; models: { name: string; fileBytes: number; rows: Row[]; goals: unknown[] }[]; notes: string[] };
      assert.equal(out.bench, "scale");
      const m = out.models[0];
      assert.equal(m.name, "tiny");
      const get = (phase: string, engine: string, variant: string) => m.rows.find((x) => x.phase === phase && x.engine === engine && x.variant === variant)!;
      const load = get("load", "tslm", "nf4");
      assert.equal(load.ok, true, load.note);
      assert.ok(load.peakBytes! >= load.residentBytes!);
      assert.ok(load.residentBytes! > load.baselineBytes!);
      assert.ok(load.estimateBytes! > 0);
      const train = get("train", "tslm", "nf4");
      assert.equal(train.ok, true, train.note);
      assert.ok(train.tokensPerSec! > 0);
      // Every sample is cut to exactly --seq tokens.
      assert.equal(train.detail!.tokensPerStep, 16);
      const dec = get("decode", "tslm", "int8");
      assert.equal(dec.ok, true, dec.note);
      assert.ok(dec.batchTokensPerSec! > 0);
      const cpp = get("decode", "llama.cpp", "q8_0");
      assert.equal(cpp.ok, true, cpp.note);
      assert.ok(cpp.tokensPerSec! > 0);
      assert.ok(existsSync(join(cache, "tiny.q8_0.gguf")));
      // PyTorch trains beside tslm where Debian's python3-torch is installed; elsewhere the report says why it is missing.
      const torch = spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;
      if (torch) for (const dtype of ["fp32", "bf16"]) assert.ok(get("train", "pytorch", dtype).tokensPerSec! > 0, dtype);
      else assert.ok(out.notes.join("\n").includes("python3-torch"), out.notes.join("\n"));
      assert.equal(m.goals.length, 2);
    });

    it("plans without building, and says what the disk cannot hold", () => {
      const cache = tempDir("tslm-scale-");
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/scale.ts", "--plan", "--json", "--cache", cache, "--reserve-gb", "1e6"], { cwd: root, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { plan: { model: string; runs: boolean; train: string[]; settings: Settings }[]; notes: string[] };
      assert.deepEqual(out.plan.map((p) => p.model), ["qwen2.5-0.5b", "qwen2.5-1.5b", "llama-3.2-1b", "llama-3.1-8b"]);
      assert.ok(out.plan.every((p) => !p.runs));
      const big = out.plan[3];
      assert.deepEqual([big.train, big.settings.batch, big.settings.seq], [["nf4"], 1, 256]);
      assert.match(out.notes.find((n) => n.startsWith("llama-3.1-8b skipped")) ?? "(no note)", /needs 16\.1 GB of disk/);
      assert.deepEqual(readdirSync(cache), []);
    });

    it("refuses a bad flag value with exit code 2 and a one-line message", () => {
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/scale.ts", "--decode-bases", "int8:q4"], { cwd: root, encoding: "utf8" });
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim(), "scale: --decode-bases expects TSLM:GGUF pairs with GGUF f16 or q8_0 (e.g. stored:f16,int8:q8_0), got 'int8:q4'");
    });
  });
});
