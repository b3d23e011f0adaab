/**
 * Results of `npm run bench -- scale`: the measured rows of one model, the
 * issue's goals evaluated on them (met, not met, or not measured), and the
 * per-model table. Pure functions over plain records, so the test can check
 * the goals on made-up rows.
 */
import { gridText } from "../lib/display/grid.js";

export type Phase = "load" | "train" | "decode";
export type Engine = "tslm" | "pytorch" | "llama.cpp";

/** One measured (or skipped, or failed) child process. */
export interface Row {
  phase: Phase;
  engine: Engine;
  /** tslm: the base (load and decode: loadModel's `base` or a quantizeModel kind; train: finetune's `quantization`); pytorch: "fp32" / "bf16"; llama.cpp: the GGUF type. */
  variant: string;
  ok: boolean;
  /** Why it did not run or did not finish; informational remarks otherwise. */
  note?: string;
  /** Wall time of the child process. */
  seconds?: number;
  /** Peak resident size of the process (VmHWM). */
  peakBytes?: number;
  /** Peak resident size during the timed training steps alone (after the warm-up reset it). */
  stepPeakBytes?: number | null;
  /** Resident size after loading (load: after quantizing too), runtime included. */
  residentBytes?: number;
  /** Resident size of the runtime alone, before the model. */
  baselineBytes?: number;
  /** Training: input tokens per second (fastest timed step); decode: one sequence's tokens per second. */
  tokensPerSec?: number;
  /** Decode: tokens per second of the batch, all rows together. */
  batchTokensPerSec?: number;
  /** tslm's `estimateMemory()` prediction of this phase's peak. */
  estimateBytes?: number | null;
  /** Everything the child reported. */
  detail?: Record<string, unknown>;
}

export interface Settings {
  batch: number;
  seq: number;
  warmup: number;
  steps: number;
  rank: number;
  promptTokens: number;
  newTokens: number;
  decodeBatch: number;
  /** llama.cpp thread counts tried; the best is kept. */
  llamaThreads: number[];
}

export interface ModelReport {
  name: string;
  source: string;
  parameters: number;
  /** Bytes of the BF16 safetensors files. */
  fileBytes: number;
  files: number;
  buildSeconds: number;
  settings: Settings;
  rows: Row[];
  /** Which tslm decode was compared with which GGUF. */
  decodePairs: DecodePair[];
  goals: Goal[];
  notes: string[];
}

export interface Goal {
  goal: string;
  target: string;
  /** The measured value, formatted; null when not measured. */
  value: string | null;
  /** null: not measured (skipped or failed). */
  met: boolean | null;
  /** False when the run used other sizes than the goal names (--quick, or flags): indicative only. */
  atGoalSettings: boolean;
}

/** Which tslm decode is compared with which llama.cpp GGUF, and whether the issue's decode goals apply to the pair. */
export interface DecodePair {
  tslm: string;
  gguf: "f16" | "q8_0";
  goal: boolean;
}

const find = (rows: Row[], phase: Phase, engine: Engine, variant: string) => rows.find((r) => r.phase === phase && r.engine === engine && r.variant === variant);
const ok = (r: Row | undefined): r is Row => r !== undefined && r.ok;
const x = (v: number) => `${v.toFixed(2)}x`;
export const gb = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? "-" : `${(n / 1e9).toFixed(2)} GB`);

function ratioGoal(goal: string, target: string, a: number | undefined, b: number | undefined, test: (r: number) => boolean, atGoalSettings: boolean, fmt = x): Goal {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return { goal, target, value: null, met: null, atGoalSettings };
  const r = a / b;
  return { goal, target, value: fmt(r), met: test(r), atGoalSettings };
}

function ranGoal(goal: string, row: Row | undefined, atGoalSettings = true): Goal {
  if (row === undefined) return { goal, target: "runs", value: null, met: null, atGoalSettings };
  return { goal, target: "runs", value: row.ok ? "ran" : (row.note ?? "failed"), met: row.ok, atGoalSettings };
}

/**
 * The issue's goals for one model, from its rows. `decodePairs` says which
 * decode comparisons carry the decode goals.
 */
export function evaluateGoals(name: string, rows: Row[], fileBytes: number, s: Settings, decodePairs: DecodePair[]): Goal[] {
  const goals: Goal[] = [];
  const atTrain = (b: number, t: number) => s.batch === b && s.seq === t;
  if (name === "qwen2.5-0.5b") {
    const load = find(rows, "load", "tslm", "stored");
    goals.push(ratioGoal("loading the BF16 folder: peak RSS / file size", "<= 1.25x", ok(load) ? load.peakBytes : undefined, fileBytes, (r) => r <= 1.25, true));
    const t = find(rows, "train", "tslm", "none"), bf = find(rows, "train", "pytorch", "bf16"), fp = find(rows, "train", "pytorch", "fp32");
    const at = atTrain(4, 512);
    goals.push(ratioGoal("LoRA r=8, all linears, 4 x 512: peak RSS / PyTorch bf16's", "<= 0.60x", ok(t) ? t.peakBytes : undefined, ok(bf) ? bf.peakBytes : undefined, (r) => r <= 0.6, at));
    goals.push(ratioGoal("LoRA r=8, all linears, 4 x 512: tokens/s / PyTorch bf16 autocast", ">= 1.00x", ok(t) ? t.tokensPerSec : undefined, ok(bf) ? bf.tokensPerSec : undefined, (r) => r >= 1, at));
    goals.push(ratioGoal("LoRA r=8, all linears, 4 x 512: tokens/s / PyTorch fp32", ">= 1.50x", ok(t) ? t.tokensPerSec : undefined, ok(fp) ? fp.tokensPerSec : undefined, (r) => r >= 1.5, at));
    const q = find(rows, "load", "tslm", "nf4");
    const nf4Base = ok(q) && q.residentBytes !== undefined && q.baselineBytes !== undefined ? q.residentBytes - q.baselineBytes : undefined;
    goals.push(ratioGoal("QLoRA nf4 base resident (RSS after load - runtime) / BF16 size", "<= 30%", nf4Base, fileBytes, (r) => r <= 0.3, true, (r) => `${(100 * r).toFixed(0)}%`));
    const est = rows.filter((r) => r.engine === "tslm" && r.ok && r.peakBytes && r.estimateBytes);
    const worst = est.map((r) => ({ r, e: r.estimateBytes! / r.peakBytes! - 1 })).sort((a, b) => Math.abs(b.e) - Math.abs(a.e))[0];
    goals.push(
      worst
        ? { goal: `tslm estimate vs every measured tslm peak (worst: ${worst.r.phase} ${worst.r.variant})`, target: "within 15%", value: `${worst.e >= 0 ? "+" : ""}${(100 * worst.e).toFixed(0)}%`, met: Math.abs(worst.e) <= 0.15, atGoalSettings: at }
        : { goal: "tslm estimate vs every measured tslm peak", target: "within 15%", value: null, met: null, atGoalSettings: at },
    );
  }
  if (name === "qwen2.5-1.5b" || name === "llama-3.2-1b") {
    goals.push(ranGoal("LoRA trains", find(rows, "train", "tslm", "none")));
    goals.push(ranGoal("QLoRA (nf4) trains", find(rows, "train", "tslm", "nf4")));
    goals.push(ranGoal("decode runs", rows.find((r) => r.phase === "decode" && r.engine === "tslm" && r.ok) ?? rows.find((r) => r.phase === "decode" && r.engine === "tslm")));
  }
  if (name === "llama-3.1-8b") {
    const l = find(rows, "load", "tslm", "nf4");
    goals.push(ratioGoal("nf4 load: peak RSS", "< 8 GB", ok(l) ? l.peakBytes : undefined, 1e9, (r) => r < 8, true, (r) => `${r.toFixed(2)} GB`));
    const t = find(rows, "train", "tslm", "nf4");
    goals.push(ratioGoal("QLoRA 3 steps at 1 x 256: peak RSS", "< 8 GB", ok(t) ? t.peakBytes : undefined, 1e9, (r) => r < 8, atTrain(1, 256) && s.warmup + s.steps === 3, (r) => `${r.toFixed(2)} GB`));
  }
  const atDecode = true;
  for (const p of decodePairs.filter((d) => d.goal)) {
    const t = find(rows, "decode", "tslm", p.tslm), l = find(rows, "decode", "llama.cpp", p.gguf);
    if (!t && !l) continue;
    goals.push(ratioGoal(`decode one sequence: tslm ${p.tslm} / llama.cpp ${p.gguf.toUpperCase()}`, ">= 1.00x", ok(t) ? t.tokensPerSec : undefined, ok(l) ? l.tokensPerSec : undefined, (r) => r >= 1, atDecode));
    goals.push(ratioGoal(`decode ${s.decodeBatch} sequences: tslm ${p.tslm} / llama.cpp ${p.gguf.toUpperCase()}`, ">= 2.00x", ok(t) ? t.batchTokensPerSec : undefined, ok(l) ? l.batchTokensPerSec : undefined, (r) => r >= 2, s.decodeBatch === 8));
  }
  return goals;
}

const num = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(d));

/** The peer a row is compared with: tslm training with PyTorch bf16, tslm decoding with the llama.cpp GGUF of its pair. */
function peerOf(r: Row, rows: Row[], pairs: DecodePair[]): Row | undefined {
  if (r.engine !== "tslm") return undefined;
  if (r.phase === "train") return find(rows, "train", "pytorch", "bf16");
  if (r.phase === "decode") {
    const p = pairs.find((d) => d.tslm === r.variant);
    return p ? find(rows, "decode", "llama.cpp", p.gguf) : undefined;
  }
  return undefined;
}

/** The model's table: one line per row, ratios to the peer, then the goals. */
export function modelTable(m: ModelReport): string {
  const s = m.settings;
  const pairs = m.decodePairs;
  const rows = m.rows.map((r) => {
    const peer = peerOf(r, m.rows, pairs);
    const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? x(a / b) : "");
    const what = r.phase === "train" ? `${s.batch}x${s.seq}` : r.phase === "decode" ? `1 / ${s.decodeBatch} seq` : "";
    return [
      r.phase, what, r.engine, r.variant,
      num(r.tokensPerSec, 1), r.phase === "decode" ? num(r.batchTokensPerSec, 1) : "",
      peer && peer.ok && r.ok ? [ratio(r.tokensPerSec, peer.tokensPerSec), r.phase === "decode" ? ratio(r.batchTokensPerSec, peer.batchTokensPerSec) : ""].filter(Boolean).join(" / ") : "",
      gb(r.peakBytes), r.phase === "load" ? x(r.peakBytes! / m.fileBytes) : peer?.peakBytes && r.peakBytes ? x(r.peakBytes / peer.peakBytes) : "",
      r.phase === "load" ? gb(r.residentBytes) : r.phase === "train" ? gb(r.stepPeakBytes) : "",
      r.estimateBytes ? gb(r.estimateBytes) : "",
      num(r.seconds, 0), r.ok ? (r.note ?? "") : `${r.note ?? "failed"}`,
    ];
  });
  const table = gridText({
    columns: [
      { label: "phase" }, { label: "size" }, { label: "engine" }, { label: "base" }, { label: "tok/s", align: "right" }, { label: "batch tok/s", align: "right" },
      { label: "x peer", align: "right" }, { label: "peak RSS", align: "right" }, { label: "peak ratio", align: "right" }, { label: "resident / step peak", align: "right" },
      { label: "estimate", align: "right" }, { label: "s", align: "right" }, { label: "note" },
    ],
    rows,
  }, { maxWidth: 90 });
  const goals = m.goals.map((g) => `  [${g.met === null ? "not measured" : g.met ? "met" : "NOT met"}] ${g.goal}: ${g.value ?? "-"} (goal ${g.target})${g.atGoalSettings ? "" : " (other sizes than the goal's: indicative)"}`);
  const head = `${m.name} (${m.source}; ${(m.parameters / 1e6).toFixed(1)}M parameters; BF16 folder ${gb(m.fileBytes)} in ${m.files} file${m.files === 1 ? "" : "s"}${m.buildSeconds ? `, built in ${m.buildSeconds.toFixed(0)} s` : ""})`;
  return [head, table.replace(/^/gm, "  "), ...(goals.length ? ["goals:", ...goals] : []), ...m.notes.map((n) => `  note: ${n}`)].join("\n");
}
