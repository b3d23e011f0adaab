/**
 * `npm run bench -- scale [--models qwen2.5-0.5b,qwen2.5-1.5b,llama-3.2-1b,llama-3.1-8b]
 *                         [--only load,train,decode] [--peers pytorch,llama.cpp] [--quick] [--plan] [--json]
 *                         [--batch B] [--seq T] [--warmup N] [--steps N] [--rank R]
 *                         [--prompt-tokens P] [--new-tokens N] [--decode-batch B] [--threads 1,2]
 *                         [--repeat N] [--timeout S] [--max-rss-gb G] [--reserve-gb G] [--cache DIR] [--seed N]
 *                         [--load-options JSON] [--load-bases float32,stored,nf4] [--train-bases none,nf4]
 *                         [--decode-bases float32:f16,stored:f16,int8:q8_0]`
 *
 * tslm on real model shapes beside its peers, in one run. Random models with
 * the real architectures (Qwen2.5-0.5B and -1.5B with the Qwen tokenizer,
 * Llama-3.2-1B and Llama-3.1-8B with the Llama 3 tokenizer) are built once
 * into `--cache` (default .cache/scale/NAME): BF16 safetensors, sharded as
 * transformers shards them, drawn N(0, 0.02) tensor by tensor from a seeded
 * generator and written straight to disk. Free disk is checked first; a model
 * or GGUF export that does not fit is skipped and the report says so.
 *
 * Each phase runs in a process of its own (bench/_scale_worker.ts), so its
 * peak resident size (VmHWM) is its own, under a time limit (`--timeout`,
 * seconds per process: 1800, or 600 with --quick) and a resident-memory limit
 * (`--max-rss-gb`, default 85% of the memory available when it starts): a
 * phase that passes either is stopped and reported, never left to swap.
 *
 * - load: `loadModel` with base float32 (its default), stored (BF16 stays
 *   16-bit) and nf4 (quantized while loading): peak RSS and resident size
 *   after loading, against the folder's size.
 * - train: LoRA r=8 (alpha 16, no dropout) on q, k, v, o, gate, up and down
 *   of every layer through lib/train's `finetune` on a JSONL file of random
 *   text cut to exactly T tokens, batch B (default 4 x 512; the 8B shape
 *   1 x 256), `--warmup` steps then `--steps` timed ones; tokens/s from the
 *   fastest timed step; LoRA and QLoRA nf4, the trainer loading the base as
 *   for a user (`quantization` none / nf4). PyTorch (Debian's
 *   python3-torch, bench/_scale_pytorch.py) trains the same architecture
 *   with the same LoRA, in fp32 (OpenBLAS, every core, OMP_WAIT_POLICY=PASSIVE)
 *   and under bf16 autocast (oneDNN, default wait policy). Peak RSS is the
 *   whole process's; "step peak" is the timed steps' alone (the peak is reset
 *   after the warm-up).
 * - decode: greedy decoding of N new tokens after a P-token prompt, one
 *   sequence and a batch of `--decode-batch` (default 8), tslm with bases
 *   float32, stored (16-bit) and int8; llama.cpp (node-llama-cpp's
 *   CPU build, F32 KV cache, no flash attention, the best of `--threads`,
 *   default 1 and every core) on tslm's own GGUF exports (F16 beside tslm's
 *   16-bit and float32 rows, Q8_0 beside int8), decoding the same prompt ids.
 *   Rates exclude the prompt (bench/generate.ts's rule).
 *
 * On a shared machine `--repeat N` alternates the train and decode rows of
 * tslm and its peers N times and keeps each row's best speed.
 *
 * Every tslm row also shows `estimateMemory()`'s prediction of its peak.
 * The report is one table per model with ratios to the peer (PyTorch bf16
 * autocast for training, the paired GGUF for decoding), the issue's goals
 * marked met / NOT met / not measured, and with `--json` one JSON object as
 * the last stdout line: `{"bench":"scale","models":[{name,rows,goals,...}],...}`.
 *
 * `--quick` is the small variant (train 2 x 64, 1 + 2 steps; decode 16 tokens
 * after 16) that takes a few minutes on the 0.5B shape; goals measured at
 * other sizes than theirs are marked indicative. `--plan` prints what would be
 * built and run, the disk and memory checks included, and exits.
 * `--load-options '{"...": ...}'` is passed to every `loadModel` call unchanged;
 * `--load-bases`, `--train-bases` and `--decode-bases` replace the bases
 * measured (`BASES` below: `loadModel` bases or `quantizeModel` kinds for
 * load and decode, finetune's `quantization` for train; decode pairs name
 * the GGUF type llama.cpp runs beside each, e.g. `stored:f16,int8:q8_0`).
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { estimateMemory, type EstimateQuantization } from "../lib/model/estimate.js";
import { configParameterCount } from "../lib/model/weights.js";
import { writeTextAtomic } from "../lib/util/atomic.js";
import { Random } from "../lib/util/random.js";
import { buildModel, checkpointBytes, freeDiskBytes, ggufBytes, isBuilt, llamaConfigOf, planDisk, type ScaleModel } from "./_scale_models.js";
import { parseOptions, UsageError, type Options } from "./_scale_options.js";
import { runChild, systemMemory } from "./_scale_proc.js";
import { evaluateGoals, gb, modelTable, type DecodePair, type Goal, type ModelReport, type Phase, type Row, type Settings } from "./_scale_report.js";
import type { Task } from "./_scale_worker.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * tslm's base in each phase, and the llama.cpp GGUF each decode is compared
 * with: the one place to change as storage options arrive. Load and decode
 * name `loadModel`'s `base` ("float32", its default today; "stored": BF16
 * stays 16-bit; "int8", "int4", "nf4": quantized while loading) or another
 * `quantizeModel` kind applied after loading; train names finetune's
 * `quantization` ("none": LoRA on the base the trainer picks; "nf4": QLoRA).
 */
export const BASES = {
  load: ["float32", "stored", "nf4"],
  train: ["none", "nf4"],
  decode: [
    { tslm: "float32", gguf: "f16", goal: false },
    { tslm: "stored", gguf: "f16", goal: true },
    { tslm: "int8", gguf: "q8_0", goal: true },
  ] as DecodePair[],
};

/** The 8B shape runs what its goals name: nf4 load, QLoRA at 1 x 256 for 3 steps, 8-bit decoding. */
const BASES_8B = { load: ["nf4"], train: ["nf4"], decode: [{ tslm: "int8", gguf: "q8_0", goal: true }] as DecodePair[] };

let o: Options;
const out = (s: string) => (o?.json ? process.stderr : process.stdout).write(s + "\n");

interface ModelPlan {
  model: ScaleModel;
  dir: string;
  settings: Settings;
  load: string[];
  train: string[];
  decode: DecodePair[];
  pytorch: ("fp32" | "bf16")[];
  gguf: ("f16" | "q8_0")[];
}

function planModel(m: ScaleModel): ModelPlan {
  const big = m.name === "llama-3.1-8b";
  const bases = { ...(big ? BASES_8B : BASES), ...o.bases };
  const settings = { ...o.settings };
  if (big) {
    // The goal's sizes unless asked otherwise.
    if (!o.explicit.has("batch")) settings.batch = 1;
    if (!o.explicit.has("seq")) settings.seq = o.quick ? 64 : 256;
  }
  const only = o.only;
  const decode = only.includes("decode") ? bases.decode : [];
  return {
    model: m, dir: join(o.cache, m.name), settings,
    load: only.includes("load") ? bases.load : [],
    train: only.includes("train") ? bases.train : [],
    decode,
    pytorch: only.includes("train") && o.peers.includes("pytorch") ? ["fp32", "bf16"] : [],
    gguf: o.peers.includes("llama.cpp") ? [...new Set(decode.map((d) => d.gguf))] : [],
  };
}

/** The memory limit of a child starting now. */
function memoryLimit(): number {
  return o.maxRssBytes ?? 0.85 * systemMemory().availableBytes;
}

/** `estimateMemory()`'s peak for a tslm row, or null when it refuses the settings. */
function estimate(plan: ModelPlan, phase: Phase, variant: string): number | null {
  // The estimate models weights in their storage precision or packed: a float32 base is outside it.
  if (variant === "float32" || (variant === "none" && phase !== "train")) return null;
  const q = (["int8", "int4", "nf4", "q8_0"].includes(variant) ? variant : "none") as EstimateQuantization;
  const s = plan.settings;
  // The folder once built (its safetensors headers), the config before.
  const src = existsSync(join(plan.dir, "config.json")) ? plan.dir : llamaConfigOf(plan.model);
  try {
    const method = q === "none" ? "lora" : "qlora";
    if (phase === "load") return estimateMemory(src, { method, quantization: q }).load.total;
    // The trainer keeps the embedding and head as stored under QLoRA (lib/train/setup.ts's baseStorage).
    if (phase === "train") return estimateMemory(src, { method, quantization: q, keepEmbeddingsWide: q !== "none", batch: s.batch, seq: s.seq, lora: { r: s.rank, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] } }).train.total;
    return estimateMemory(src, { quantization: q, batch: s.decodeBatch, seq: s.promptTokens + s.newTokens }).decode.total;
  } catch {
    return null;
  }
}

const WORDS = (
  "time year people way day man thing woman life child world school state family student group country problem hand part place case week company system program " +
  "question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house " +
  "service friend father power hour game line end member law car city community name president team minute idea kid body information back parent face others level office door " +
  "health person art war history party result change morning reason research girl guy moment air teacher force education river mountain garden music model token answer"
).split(" ");

/** A JSONL file of `count` prompt/answer records whose answers are longer than `seq` tokens, so every sample is cut to exactly `seq`. */
function dataFile(tokenizer: string, count: number, seq: number): string {
  const file = join(o.cache, "data", `${tokenizer}-${count}x${seq}.jsonl`);
  if (existsSync(file)) return file;
  const rng = new Random(o.seed).fork("data");
  const words = (n: number) => Array.from({ length: n }, () => rng.choice(WORDS)).join(" ");
  const lines = Array.from({ length: count }, () => JSON.stringify({ prompt: words(12), answer: words(Math.ceil(seq * 1.5) + 16) }));
  mkdirSync(join(o.cache, "data"), { recursive: true });
  writeTextAtomic(file, lines.join("\n") + "\n");
  return file;
}

/** Runs one child with the limits, forwarding its progress; a row from its JSON, or a failed row. */
async function child(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, need: number | null): Promise<{ ok: boolean; note?: string; seconds?: number; json: Record<string, unknown> | null }> {
  const limit = memoryLimit();
  if (need !== null && need > limit) {
    const note = `skipped: needs at least ${gb(need)} (estimated), the limit is ${gb(limit)}`;
    out(`  ${label}: ${note}`);
    return { ok: false, note, json: null };
  }
  out(`  ${label} ...`);
  // An override set to undefined removes the variable.
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const r = await runChild(cmd, args, { cwd: root, env: merged, timeoutMs: o.timeoutMs, maxRssBytes: limit, onStderr: (l) => l.startsWith("  ") && out(`  ${l}`) });
  if (!r.ok) out(`  ${label}: ${r.failure}`);
  return { ok: r.ok, note: r.failure ?? undefined, seconds: r.seconds, json: r.json };
}

function tslmChild(label: string, task: Task, need: number | null) {
  const args = ["--expose-gc", "--import", "tsx", fileURLToPath(new URL("./_scale_worker.ts", import.meta.url)), JSON.stringify(task)];
  return child(label, process.execPath, args, { TSLM_QUIET: "1", TSLM_PROGRESS: "0" }, need);
}

const n = (v: unknown) => (typeof v === "number" ? v : undefined);

function rowOf(phase: Phase, engine: Row["engine"], variant: string, c: Awaited<ReturnType<typeof child>>, estimateBytes: number | null = null): Row {
  const j = c.json ?? {};
  return {
    phase, engine, variant, ok: c.ok, note: c.note, seconds: c.seconds, estimateBytes: engine === "tslm" ? estimateBytes : undefined,
    peakBytes: n(j.peakBytes), stepPeakBytes: j.stepPeakBytes as number | null | undefined, residentBytes: n(j.residentBytes), baselineBytes: n(j.baselineBytes),
    tokensPerSec: n(j.tokensPerSec), batchTokensPerSec: n(j.batchTokensPerSec), detail: c.json ?? undefined,
  };
}

async function runModel(plan: ModelPlan, gguf: boolean, notes: string[]): Promise<ModelReport> {
  const { model: m, dir, settings: s } = plan;
  const cfg = llamaConfigOf(m);
  out(`${m.name}: building ${dir} ...`);
  const built = buildModel(m, dir, { seed: o.seed, log: out });
  out(`${m.name}: ${built.built ? `built in ${built.seconds.toFixed(0)} s` : "reusing the cached folder"} (${gb(built.fileBytes)} in ${built.files} file${built.files === 1 ? "" : "s"})`);
  const rows: Row[] = [];
  const modelNotes: string[] = [];
  const common = { dir, loadOptions: o.loadOptions };
  for (const q of plan.load) {
    const c = await tslmChild(`load, tslm ${q}`, { phase: "load", quantization: q, ...common }, null);
    rows.push(rowOf("load", "tslm", q, c, estimate(plan, "load", q)));
  }
  /** Keeps the best speeds of a row measured in several rounds (--repeat), its first successful measurement otherwise. */
  const record = (r: Row) => {
    const i = rows.findIndex((x) => x.phase === r.phase && x.engine === r.engine && x.variant === r.variant);
    if (i < 0) return void rows.push(r);
    const old = rows[i];
    if (!old.ok) return void (rows[i] = r);
    if (!r.ok) return;
    const best = (a?: number, b?: number) => (a === undefined || !(a >= (b ?? -Infinity)) ? b : a);
    rows[i] = { ...old, tokensPerSec: best(old.tokensPerSec, r.tokensPerSec), batchTokensPerSec: best(old.batchTokensPerSec, r.batchTokensPerSec) };
  };
  const py = "/usr/bin/python3";
  const probe = plan.pytorch.length ? await runChild(py, ["-c", "import json, torch; print(json.dumps({'torch': torch.__version__}))"], { timeoutMs: 60_000, maxRssBytes: 4e9 }) : null;
  const noTorch = `PyTorch peer skipped: ${py} cannot import torch (install Debian's python3-torch: scripts/system-deps.sh --with-bench)`;
  if (probe && !probe.ok && !notes.includes(noTorch)) notes.push(noTorch);
  const data = plan.train.length ? dataFile(m.tokenizer, s.batch * (s.warmup + s.steps), s.seq) : "";
  const train = { phase: "train" as const, ...common, data, batch: s.batch, seq: s.seq, warmup: s.warmup, steps: s.steps, rank: s.rank };
  const decode = { phase: "decode" as const, ...common, promptTokens: s.promptTokens, newTokens: s.newTokens, batch: s.decodeBatch };
  if (plan.gguf.length && !gguf) modelNotes.push("llama.cpp skipped: not enough free disk for the GGUF exports");
  // With --repeat N, tslm and its peers alternate N times and each row keeps its best speed.
  for (let round = 1; round <= o.repeat; round++) {
    const tag = o.repeat > 1 ? ` (round ${round} of ${o.repeat})` : "";
    for (const q of plan.train) {
      const c = await tslmChild(`train ${s.batch}x${s.seq}, tslm ${q}${tag}`, { ...train, quantization: q }, null);
      record(rowOf("train", "tslm", q, c, estimate(plan, "train", q)));
      // The peers right after tslm's first row, so both see similar machine load.
      if (q !== plan.train[0] || !probe?.ok) continue;
      for (const dtype of plan.pytorch) {
        const threads = String(availableParallelism());
        // Fair settings (ARCHITECTURE.md): OpenBLAS fp32 with a passive OpenMP wait; oneDNN bf16 with the default spinning policy.
        const env: NodeJS.ProcessEnv = { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_WAIT_POLICY: dtype === "fp32" ? "PASSIVE" : undefined };
        const arg = JSON.stringify({ config: join(dir, "config.json"), batch: s.batch, seq: s.seq, warmup: s.warmup, steps: s.steps, rank: s.rank, dtype, threads: availableParallelism() });
        // Its float32 weights alone: a lower bound of what it needs.
        const c = await child(`train ${s.batch}x${s.seq}, pytorch ${dtype}${tag}`, py, [fileURLToPath(new URL("./_scale_pytorch.py", import.meta.url)), arg], env, configParameterCount(cfg) * 4);
        record(rowOf("train", "pytorch", dtype, c));
      }
    }
    for (const p of plan.decode) {
      const c = await tslmChild(`decode, tslm ${p.tslm}${tag}`, { ...decode, quantization: p.tslm }, null);
      record(rowOf("decode", "tslm", p.tslm, c, estimate(plan, "decode", p.tslm)));
    }
    for (const type of gguf ? plan.gguf : []) {
      const file = join(o.cache, `${m.name}.${type}.gguf`);
      if (!existsSync(file)) {
        const e = await tslmChild(`export GGUF ${type.toUpperCase()}, tslm`, { phase: "export", ...common, file, type }, estimate(plan, "load", "stored"));
        const j = e.json ?? {};
        modelNotes.push(e.ok ? `tslm's GGUF ${type.toUpperCase()} export: ${gb(n(j.fileBytes))} in ${(n(j.exportSeconds) ?? NaN).toFixed(0)} s after a ${(n(j.loadSeconds) ?? NaN).toFixed(0)} s load, peak RSS ${gb(n(j.peakBytes))}` : `tslm's GGUF ${type.toUpperCase()} export ${e.note}`);
        if (!e.ok) {
          record({ phase: "decode", engine: "llama.cpp", variant: type, ok: false, note: `no GGUF: the export ${e.note}` });
          continue;
        }
      }
      const task: Task = { phase: "gguf", dir, file, threads: s.llamaThreads, promptTokens: s.promptTokens, newTokens: s.newTokens, batch: s.decodeBatch };
      const c = await tslmChild(`decode, llama.cpp ${type.toUpperCase()}${tag}`, task, null);
      record(rowOf("decode", "llama.cpp", type, c));
    }
  }
  // Same greedy tokens as llama.cpp on the paired GGUF (random weights: near-ties can differ; informational).
  for (const p of plan.decode) {
    const mine = rows.find((r) => r.phase === "decode" && r.engine === "tslm" && r.variant === p.tslm && r.ok)?.detail?.tokens;
    const theirs = rows.find((r) => r.phase === "decode" && r.engine === "llama.cpp" && r.variant === p.gguf && r.ok)?.detail?.tokens;
    if (!Array.isArray(mine) || !Array.isArray(theirs)) continue;
    const i = mine.findIndex((t, k) => t !== theirs[k]);
    modelNotes.push(`tslm ${p.tslm} and llama.cpp ${p.gguf.toUpperCase()}: ${i < 0 ? "the same greedy tokens" : `greedy tokens first differ at token ${i} (random weights: near-ties)`}`);
  }
  const goals = evaluateGoals(m.name, rows, built.fileBytes, s, plan.decode);
  return { name: m.name, source: m.source, parameters: configParameterCount(cfg), fileBytes: built.fileBytes, files: built.files, buildSeconds: built.built ? built.seconds : 0, settings: s, rows, decodePairs: plan.decode, goals, notes: modelNotes };
}

async function main(): Promise<void> {
  o = parseOptions(process.argv.slice(2), root);
  const plans = o.models.map(planModel);
  const needs = plans.map((p) => ({
    model: p.model.name,
    folderBytes: isBuilt(p.model, p.dir, { seed: o.seed }) ? 0 : checkpointBytes(llamaConfigOf(p.model)) + 32e6,
    ggufBytes: p.gguf.filter((t) => !existsSync(join(o.cache, `${p.model.name}.${t}.gguf`))).reduce((s, t) => s + ggufBytes(llamaConfigOf(p.model), t), 0),
  }));
  // Temporary files of exports a limit stopped (lib/util/atomic.ts names them `.NAME.tmp-PID-...`), once their process is gone.
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const f of existsSync(o.cache) ? readdirSync(o.cache) : []) {
    const pid = /^\..+\.tmp-(\d+)-/.exec(f)?.[1];
    if (pid && !alive(Number(pid))) rmSync(join(o.cache, f), { force: true });
  }
  const free = freeDiskBytes(o.cache);
  const disk = planDisk(needs, free, o.reserveBytes);
  const notes = disk.flatMap((d) => d.notes);
  const mem = systemMemory();
  out(`scale: ${o.models.map((m) => m.name).join(", ")}; phases ${o.only.join(", ")}; peers ${o.peers.join(", ")}${o.quick ? "; quick" : ""}`);
  out(`disk: ${gb(free)} free at ${o.cache}; memory: ${gb(mem.availableBytes)} available of ${gb(mem.totalBytes)}, limit per process ${o.maxRssBytes ? gb(o.maxRssBytes) : "85% of what is available when it starts"}`);
  for (const n of notes) out(`note: ${n}`);
  if (o.plan) {
    const planned = plans.map((p, i) => {
      const cfg = llamaConfigOf(p.model);
      return {
        model: p.model.name, source: p.model.source, dir: p.dir, parameters: configParameterCount(cfg), folderBytes: checkpointBytes(cfg), built: needs[i].folderBytes === 0,
        diskNeedBytes: needs[i].folderBytes + needs[i].ggufBytes, runs: disk[i].run, llamaCpp: disk[i].gguf && p.gguf.length > 0, settings: p.settings,
        load: p.load, train: p.train, pytorch: p.pytorch, pytorchNeedBytes: configParameterCount(cfg) * 4, decode: p.decode, gguf: p.gguf,
        estimates: Object.fromEntries(
          [...p.load.map((q) => [`load ${q}`, q] as const), ...p.train.map((q) => [`train ${q}`, q] as const), ...p.decode.map((d) => [`decode ${d.tslm}`, d.tslm] as const)]
            .map(([k, q]) => [k, estimate(p, k.split(" ")[0] as Phase, q)]),
        ) as Record<string, number | null>,
      };
    });
    for (const p of planned) {
      out(`${p.model}: ${(p.parameters / 1e6).toFixed(0)}M parameters, BF16 folder ${gb(p.folderBytes)} (${p.built ? "built" : "to build"}), disk needed ${gb(p.diskNeedBytes)}; ${p.runs ? "runs" : "SKIPPED"}${p.runs && p.gguf.length && !p.llamaCpp ? " without llama.cpp" : ""}`);
      out(`  load [${p.load.join(", ")}]; train ${p.settings.batch}x${p.settings.seq} [${p.train.join(", ")}] + pytorch [${p.pytorch.join(", ")}]; decode [${p.decode.map((d) => `${d.tslm} vs ${d.gguf}`).join(", ")}]`);
      out(`  estimated peaks: ${Object.entries(p.estimates).map(([k, v]) => `${k} ${gb(v)}`).join(", ")}`);
      if (p.pytorch.length && p.pytorchNeedBytes > memoryLimit()) out(`  pytorch would be skipped: its float32 weights alone take ${gb(p.pytorchNeedBytes)}, the memory limit is ${gb(memoryLimit())} now`);
    }
    if (o.json) process.stdout.write(JSON.stringify({ bench: "scale", plan: planned, diskFreeBytes: free, notes }) + "\n");
    return;
  }
  const reports: ModelReport[] = [];
  for (const [i, p] of plans.entries()) {
    if (!disk[i].run) continue;
    reports.push(await runModel(p, disk[i].gguf, notes));
  }
  out("");
  for (const r of reports) out(modelTable(r) + "\n");
  const goals: Goal[] = reports.flatMap((r) => r.goals);
  const count = (f: (g: Goal) => boolean) => goals.filter(f).length;
  const summary = { met: count((g) => g.met === true), notMet: count((g) => g.met === false), notMeasured: count((g) => g.met === null), atOtherSizes: count((g) => !g.atGoalSettings) };
  out(`goals: ${summary.met} met, ${summary.notMet} not met, ${summary.notMeasured} not measured${summary.atOtherSizes ? ` (${summary.atOtherSizes} at other sizes than the goal's: indicative)` : ""}`);
  for (const n of notes) out(`note: ${n}`);
  if (o.json) {
    const slim = reports.map((r) => ({ ...r, rows: r.rows.map(({ detail, ...row }) => ({ ...row, detail: detail && Object.fromEntries(Object.entries(detail).filter(([k]) => k !== "tokens")) })) }));
    process.stdout.write(JSON.stringify({ bench: "scale", quick: o.quick, cache: o.cache, loadOptions: o.loadOptions, machine: { cpus: availableParallelism(), memTotalBytes: mem.totalBytes }, models: slim, goals: summary, notes }) + "\n");
  }
}

try {
  await main();
} catch (e) {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`scale: ${(e as Error).message}\n`);
    process.exit(2);
  }
  throw e;
}
