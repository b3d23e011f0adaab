/**
 * Rating results as arquero tables and as a `Leaderboard` object that
 * prints itself in a terminal and renders itself in notebooks through the
 * `Symbol.for("Jupyter.display")` protocol (tslm's kernel and Deno's).
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { BattleRecord } from "../types.js";
import { type RatingOptionsInput } from "./options.js";
import { orderByRating, rateBattles, type RatingResult, type RatingRow, ratingRows } from "./rate.js";

/**
 * One row per model, best first: model, rating, lower, upper, median, rank, battles.
 * @example ratingsTable(rateBattles(battles)).print()
 */
export function ratingsTable(result: RatingResult): ColumnTable {
  const order = orderByRating(result);
  const pick = <T>(arr: ArrayLike<T>): T[] => order.map((i) => arr[i]);
  return aq.table({
    model: pick(result.models),
    rating: pick(result.rating),
    lower: pick(result.lower),
    upper: pick(result.upper),
    median: pick(result.median),
    rank: pick(result.rank),
    battles: pick(result.battles),
  });
}

/**
 * Bootstrap rounds in long form: round, model, rating ([R * M] rows), for
 * the bootstrap distribution plot. Empty when there was no bootstrap.
 */
export function bootstrapTable(result: RatingResult): ColumnTable {
  const m = result.models.length;
  const round: number[] = [];
  const model: string[] = [];
  const rating: number[] = [];
  if (result.samples) {
    for (let r = 0; r < result.rounds; r++) {
      for (let k = 0; k < m; k++) {
        round.push(r);
        model.push(result.models[k]);
        rating.push(result.samples[r * m + k]);
      }
    }
  }
  return aq.table({ round, model, rating });
}

const DISPLAY = Symbol.for("Jupyter.display");

function fixed(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** A rated leaderboard: rows best first, with intervals, rank (UB) and battle counts. */
export class Leaderboard {
  constructor(readonly result: RatingResult) {}

  /** Rates battles and wraps the result. */
  static fromBattles(battles: readonly BattleRecord[], options: RatingOptionsInput = {}): Leaderboard {
    return new Leaderboard(rateBattles(battles, options));
  }

  rows(): RatingRow[] {
    return ratingRows(this.result);
  }

  table(): ColumnTable {
    return ratingsTable(this.result);
  }

  /** The CLI's JSON shape: `{ method, ratings: [{ model, rating, lower, upper, rank, battles }], ... }`. */
  toJSON(): { method: string; rounds: number; confidence: number; ratings: RatingRow[]; style: RatingResult["style"]; warnings: string[] } {
    return {
      method: this.result.method,
      rounds: this.result.rounds,
      confidence: this.result.options.confidence,
      ratings: this.rows(),
      style: this.result.style,
      warnings: this.result.warnings,
    };
  }

  private header(): string[] {
    const pct = Math.round(this.result.options.confidence * 100);
    return ["rank", "model", "rating", `${pct}% CI`, "battles"];
  }

  private cells(): string[][] {
    return this.rows().map((r) => [
      String(r.rank),
      r.model,
      fixed(r.rating),
      this.result.rounds > 0 ? `${fixed(r.lower)} .. ${fixed(r.upper)}` : "-",
      String(r.battles),
    ]);
  }

  /** Aligned plain-text table (terminal, text/plain). */
  toString(): string {
    const rows = [this.header(), ...this.cells()];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const right = [true, false, true, true, true];
    const line = (r: string[]): string => r.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
    const title = `${this.methodName()}, ${this.result.rounds} bootstrap rounds`;
    const style = this.result.style
      ? [`style coefficients (logit per standard deviation): ${this.result.style.features.map((f, i) => `${f} ${this.result.style!.coefficients[i].toFixed(3)}`).join(", ")}`]
      : [];
    return [title, line(rows[0]), ...rows.slice(1).map(line), ...style, ...this.result.warnings.map((w) => `note: ${w}`)].join("\n");
  }

  toMarkdown(): string {
    const head = this.header();
    const lines = [`| ${head.join(" | ")} |`, `| ${["--:", ":--", "--:", ":-:", "--:"].join(" | ")} |`];
    for (const r of this.cells()) lines.push(`| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
    return lines.join("\n");
  }

  toHTML(): string {
    const head = this.header()
      .map((h) => `<th>${escapeHtml(h)}</th>`)
      .join("");
    const body = this.cells()
      .map((r) => `<tr>${r.map((c, i) => `<td style="text-align:${i === 1 ? "left" : "right"}">${escapeHtml(c)}</td>`).join("")}</tr>`)
      .join("\n");
    const notes = this.result.warnings.map((w) => `<p><em>note: ${escapeHtml(w)}</em></p>`).join("");
    return `<table class="tslm-leaderboard"><caption>${escapeHtml(this.methodName())}, ${this.result.rounds} bootstrap rounds</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${notes}`;
  }

  /** MIME bundle for notebooks (tslm's kernel and Deno's `Jupyter.display` protocol). */
  [DISPLAY](): Record<string, string> {
    return { "text/plain": this.toString(), "text/html": this.toHTML(), "text/markdown": this.toMarkdown() };
  }

  private methodName(): string {
    const m = this.result.method;
    return m === "elo" ? "Online Elo" : m === "bt-style" ? "Bradley-Terry with style control" : "Bradley-Terry";
  }
}
