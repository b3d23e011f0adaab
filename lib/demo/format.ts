/** The demo's result as terminal text: leaderboard with intervals, variants, verdict, paths, times. */
import { relative, isAbsolute } from "node:path";
import { gridText } from "../display/grid.js";
import type { DemoResult } from "./run.js";

function pct(x: number | null): string {
  return x === null ? "-" : `${(100 * x).toFixed(1)}%`;
}

/** Paths relative to `cwd` when inside it (shorter to read and to click). */
function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** The human-readable summary `tslm demo` prints. */
export function formatDemo(r: DemoResult, cwd = process.cwd()): string {
  const judge = r.judge.llm ? `reference judge + LLM judge ${r.judge.llm.model} at ${r.judge.llm.baseUrl}` : "reference judge (exact match)";
  const lines: string[] = [];
  lines.push(`tslm demo: ${r.variants.length} models on ${r.suite.prompts} held-out prompts of '${r.suite.name}', ${judge}`);
  lines.push("");
  lines.push(r.leaderboard.toString());
  lines.push("");
  const rows: string[][] = [];
  for (const v of r.variants) {
    const t = v.training;
    const method = v.method === "base" ? "base model" : `LoRA r=${v.rank}${v.quantization !== "none" ? ` on ${v.quantization} base (QLoRA)` : ""}`;
    const training = t ? (t.cached ? `${t.steps} steps (cached)` : `${t.steps} steps, ${t.trainSeconds.toFixed(0)} s`) : "-";
    const memory = t ? `${(100 * t.baseRatio).toFixed(0)}% of float32` : "float32";
    rows.push([v.name, method, pct(v.accuracy), training, memory]);
  }
  const columns = ["model", "method", "exact match", "training", "base weights"].map((label) => ({ label, align: label === "exact match" ? ("right" as const) : ("left" as const) }));
  lines.push(gridText({ columns, rows }));
  lines.push("");
  const pctCi = Math.round(r.config.confidence * 100);
  for (const s of r.separation) {
    lines.push(
      s.above
        ? `${s.model} ranks above ${s.base}: the ${pctCi}% intervals do not overlap (gap ${s.gap.toFixed(0)} rating points)`
        : `${s.model} vs ${s.base}: the ${pctCi}% intervals overlap (by ${(-s.gap).toFixed(0)} rating points); the difference is not established`,
    );
  }
  for (const w of r.warnings) lines.push(`note: ${w}`);
  lines.push("");
  lines.push(`report:   ${shown(r.report.html, cwd)}`);
  lines.push(`markdown: ${shown(r.report.markdown, cwd)}  json: ${shown(r.report.json, cwd)}`);
  const adapters = r.variants.filter((v) => v.adapter).length;
  lines.push(`run:      ${shown(r.dir, cwd)} (journal, ${adapters} PEFT adapters in adapters/, demo.json)`);
  const steps = r.timings.steps.map((s) => `${s.step} ${s.seconds.toFixed(1)} s`).join(", ");
  lines.push(`time:     ${r.timings.total.toFixed(1)} s (${steps})`);
  return lines.join("\n");
}
