/**
 * Rating results as arquero tables and as a `Leaderboard` object that
 * prints itself in a terminal and renders itself in notebooks through the
 * `Symbol.for("Jupyter.display")` protocol (tslm's kernel and Deno's). The
 * maths is in ratings/; the layout is display/grid.ts's.
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { DISPLAY } from "../display/bundle.js";
import { escapeHtml } from "../display/escape.js";
import { type Grid, gridHtml, gridMarkdown, gridText } from "../display/grid.js";
import type { BattleRecord } from "./types.js";
import type { RatingOptionsInput } from "./ratings/options.js";
import { orderByRating, rateBattles, type RatingExtras, type RatingResult, type RatingRow, ratingRows, type RatingStatus } from "./ratings/rate.js";

/**
 * One row per model, best first: model, rating, lower, upper, median, rank, battles, status.
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
    status: pick(result.status),
  });
}

/**
 * Bootstrap rounds in long form: round, model, rating ([R * M] rows), for
 * the bootstrap distribution plot; rounds where a model has no finite
 * rating are left out. Empty when there was no bootstrap.
 */
export function bootstrapTable(result: RatingResult): ColumnTable {
  const m = result.models.length;
  const round: number[] = [];
  const model: string[] = [];
  const rating: number[] = [];
  if (result.samples) {
    for (let r = 0; r < result.rounds; r++) {
      for (let k = 0; k < m; k++) {
        const v = result.samples[r * m + k];
        if (!Number.isFinite(v)) continue;
        round.push(r);
        model.push(result.models[k]);
        rating.push(v);
      }
    }
  }
  return aq.table({ round, model, rating });
}

/** A rating as text: one decimal; "+inf" / "-inf" for a rating that runs off; "?" when unknown. */
export function formatRating(x: number, digits = 1): string {
  if (Number.isFinite(x)) return x.toFixed(digits);
  return x === Infinity ? "+inf" : x === -Infinity ? "-inf" : "?";
}

const STATUS_NOTES: Record<RatingStatus, string> = {
  rated: "",
  above: "never lost: no finite rating",
  below: "never won: no finite rating",
  unplaced: "cannot be placed against the rated models",
  unrated: "no rated battles",
};

/** What a rating's status means, for a table's note column ("" for a rated model). */
export function statusNote(status: RatingStatus | undefined): string {
  return STATUS_NOTES[status ?? "rated"] ?? "";
}

const METHOD_NAMES: Record<RatingResult["method"], string> = { bt: "Bradley-Terry", elo: "Online Elo", "bt-style": "Bradley-Terry with style control" };

/** The method's name for titles ("Bradley-Terry", "Online Elo", ...). */
export function methodName(method: RatingResult["method"]): string {
  return METHOD_NAMES[method];
}

/** A rated leaderboard: rows best first, with intervals, rank (UB) and battle counts. */
export class Leaderboard {
  constructor(readonly result: RatingResult) {}

  /** Rates battles and wraps the result. */
  static fromBattles(battles: readonly BattleRecord[], options: RatingOptionsInput = {}, extras: RatingExtras = {}): Leaderboard {
    return new Leaderboard(rateBattles(battles, options, extras));
  }

  rows(): RatingRow[] {
    return ratingRows(this.result);
  }

  table(): ColumnTable {
    return ratingsTable(this.result);
  }

  /** The CLI's JSON shape: `{ method, ratings: [{ model, rating, lower, upper, rank, battles, status }], ... }` (null where a rating is not a finite number). */
  toJSON(): { method: string; rounds: number; confidence: number; converged: boolean; ratings: RatingRow[]; style: RatingResult["style"]; warnings: string[] } {
    return {
      method: this.result.method,
      rounds: this.result.rounds,
      confidence: this.result.options.confidence,
      converged: this.result.converged,
      ratings: this.rows(),
      style: this.result.style,
      warnings: this.result.warnings,
    };
  }

  /** The leaderboard as a grid of text cells (display/grid.ts). */
  grid(): Grid {
    const pct = Math.round(this.result.options.confidence * 100);
    const interval = this.result.rounds > 0;
    return {
      columns: [
        { label: "rank", align: "right" },
        { label: "model" },
        { label: "rating", align: "right" },
        { label: `${pct}% CI`, align: "right" },
        { label: "battles", align: "right" },
      ],
      rows: this.rows().map((r) => [
        String(r.rank),
        r.model,
        r.status === "unrated" ? "-" : formatRating(r.rating),
        interval && r.status !== "unrated" ? `${formatRating(r.lower)} .. ${formatRating(r.upper)}` : "-",
        String(r.battles),
      ]),
      caption: `${methodName(this.result.method)}, ${this.result.rounds} bootstrap rounds`,
    };
  }

  private styleLine(): string[] {
    const s = this.result.style;
    return s ? [`style coefficients (logit per standard deviation): ${s.features.map((f, i) => `${f} ${s.coefficients[i].toFixed(3)}`).join(", ")}`] : [];
  }

  /** Aligned plain-text table (terminal, text/plain). */
  toString(): string {
    return [gridText(this.grid()), ...this.styleLine(), ...this.result.warnings.map((w) => `note: ${w}`)].join("\n");
  }

  /** A Markdown table (every user string escaped). */
  toMarkdown(): string {
    const { caption, ...grid } = this.grid();
    void caption;
    return gridMarkdown(grid);
  }

  toHTML(): string {
    const notes = [...this.styleLine(), ...this.result.warnings.map((w) => `note: ${w}`)].map((w) => `<p><em>${escapeHtml(w)}</em></p>`);
    return gridHtml(this.grid(), { className: "tslm-leaderboard" }) + notes.join("");
  }

  /** MIME bundle for notebooks (tslm's kernel and Deno's `Jupyter.display` protocol). */
  [DISPLAY](): Record<string, string> {
    return { "text/plain": this.toString(), "text/html": this.toHTML(), "text/markdown": this.toMarkdown() };
  }
}
