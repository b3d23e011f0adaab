/**
 * Progress of long work (training steps, tournament battles): one display
 * updated in place in a notebook, a cli-progress bar on stderr in a terminal,
 * and nothing at all (a few field writes per update) elsewhere, e.g. under
 * test runners or with `TSLM_PROGRESS=0`.
 *
 * Inside the tslm kernel progress is always a notebook display. Elsewhere
 * `TSLM_PROGRESS` decides: `0`/`off` silent; `bar` forces the terminal bar;
 * `lines` prints a plain line every few seconds (logs, CI); unset draws the
 * bar when stderr is a terminal and stays silent otherwise.
 */
import type { SingleBar } from "cli-progress";
import { displayable } from "./bundle.js";
import { escapeHtml } from "./html.js";
import { display, inNotebook, type DisplayHandle } from "./sink.js";

export type ProgressMode = "notebook" | "bar" | "lines" | "off";

export interface ProgressOptions {
  /** What is progressing ("train", "tournament"). */
  label: string;
  /** Units of work in all; omit when unknown (then only counts and rates show). */
  total?: number;
  /** Name of one unit of work. Default "it". */
  unit?: string;
  /** Where to draw. Default: from `TSLM_PROGRESS` and the environment (see the file comment). */
  mode?: ProgressMode | "auto";
  /** Least milliseconds between two redraws; the last state is always drawn. Default 250 (4 Hz is smooth and cheap). */
  minIntervalMs?: number;
  /** Clock in milliseconds (tests pass a fake). Default `Date.now`. */
  now?: () => number;
}

export interface ProgressInfo {
  /** A short word or phrase: "warmup", "evaluating", "saving checkpoint". */
  status?: string;
  /** Latest figures, shown as `name=value`: `{ loss: 1.23, lr: 2e-4 }`. */
  metrics?: Record<string, number | string>;
}

export interface Progress {
  /** Reports `done` units finished (absolute, not an increment). */
  update(done: number, info?: ProgressInfo): void;
  /** Marks the work finished (draws the final state). */
  done(info?: ProgressInfo): void;
  /** Marks the work failed with `err` (draws the failure). */
  fail(err: unknown): void;
  /** Where this progress draws. */
  readonly mode: ProgressMode;
}

/** The mode `auto` resolves to here and now. */
export function progressMode(env: NodeJS.ProcessEnv = process.env, stderrIsTTY = Boolean(process.stderr.isTTY)): ProgressMode {
  // In a notebook the display is the output the user asked for, whatever the terminal settings.
  if (inNotebook()) return "notebook";
  const v = (env.TSLM_PROGRESS ?? "").toLowerCase();
  if (v === "0" || v === "off" || v === "false") return "off";
  if (v === "bar") return "bar";
  if (v === "lines") return "lines";
  return stderrIsTTY ? "bar" : "off";
}

interface State {
  label: string;
  unit: string;
  total?: number;
  done: number;
  startedAt: number;
  now: number;
  status?: string;
  metrics?: Record<string, number | string>;
  outcome: "running" | "done" | "failed";
  error?: string;
}

/** Seconds as `1:05` or `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatNumber(v: number | string): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** The figures every view shows: counts, percent, rate, elapsed, ETA, status, metrics. */
export function progressSummary(s: State): { counts: string; percent?: number; rate: string; timing: string; extra: string } {
  const elapsed = Math.max(0, (s.now - s.startedAt) / 1000);
  const rate = elapsed > 0 ? s.done / elapsed : 0;
  const percent = s.total ? Math.min(100, (100 * s.done) / s.total) : undefined;
  const counts = s.total !== undefined ? `${s.done}/${s.total} ${s.unit}` : `${s.done} ${s.unit}`;
  let timing = `${formatDuration(elapsed)} elapsed`;
  if (s.outcome === "running" && s.total !== undefined && rate > 0) timing += `, ETA ${formatDuration((s.total - s.done) / rate)}`;
  const metrics = Object.entries(s.metrics ?? {}).map(([k, v]) => `${k}=${formatNumber(v)}`);
  const extra = [s.outcome === "failed" ? `failed: ${s.error}` : s.status, ...metrics].filter(Boolean).join(" · ");
  return { counts, percent, rate: `${formatNumber(rate)} ${s.unit}/s`, timing, extra };
}

function renderText(s: State): string {
  const f = progressSummary(s);
  const width = 24;
  const filled = f.percent === undefined ? 0 : Math.round((f.percent / 100) * width);
  const bar = f.percent === undefined ? "" : ` [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${f.percent.toFixed(0)}%`;
  const mark = s.outcome === "done" ? " done" : s.outcome === "failed" ? " FAILED" : "";
  return `${s.label}${mark}${bar} ${f.counts} | ${f.rate} | ${f.timing}${f.extra ? " | " + f.extra : ""}`;
}

function renderHtml(s: State): string {
  const f = progressSummary(s);
  const color = s.outcome === "failed" ? "#c62828" : s.outcome === "done" ? "#2e7d32" : "inherit";
  const bar = s.total !== undefined ? `<progress value="${s.done}" max="${s.total}" style="width:16em;vertical-align:middle"></progress> ` : "";
  const pct = f.percent !== undefined ? ` (${f.percent.toFixed(0)}%)` : "";
  const mark = s.outcome === "done" ? " ✓" : s.outcome === "failed" ? " ✗" : "";
  return (
    `<div class="tslm-progress" style="font-family:monospace;color:${color}"><b>${escapeHtml(s.label)}${mark}</b> ${bar}` +
    `${escapeHtml(f.counts)}${pct} · ${escapeHtml(f.rate)} · ${escapeHtml(f.timing)}` +
    (f.extra ? ` · ${escapeHtml(f.extra)}` : "") +
    `</div>`
  );
}

interface View {
  draw(s: State, final: boolean): void;
}

function notebookView(): View {
  let handle: DisplayHandle | undefined;
  return {
    draw(s) {
      const d = displayable({ "text/html": renderHtml(s), "text/plain": renderText(s) });
      if (!handle) handle = display(d);
      else void handle.update(d);
    },
  };
}

function linesView(): View {
  let lastLine = -Infinity;
  return {
    draw(s, final) {
      // One line every 5 s keeps logs short.
      if (!final && s.now - lastLine < 5000) return;
      lastLine = s.now;
      process.stderr.write(renderText(s) + "\n");
    },
  };
}

async function barView(s0: State): Promise<View> {
  const { default: cliProgress } = await import("cli-progress");
  const bar: SingleBar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: s0.total !== undefined ? "{label} [{bar}] {percentage}% {counts} | {rate} | {timing}{extra}" : "{label} {counts} | {rate} | {timing}{extra}",
      hideCursor: true,
      barsize: 24,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (s: State) => {
    const f = progressSummary(s);
    const mark = s.outcome === "failed" ? " FAILED" : "";
    return { label: s.label + mark, counts: f.counts, rate: f.rate, timing: f.timing, extra: f.extra ? " | " + f.extra : "" };
  };
  bar.start(s0.total ?? 0, s0.done, payload(s0));
  return {
    draw(s, final) {
      bar.update(s.done, payload(s));
      if (final) bar.stop();
    },
  };
}

/**
 * Starts a progress display.
 * @example
 * const p = progress({ label: "train", total: 100, unit: "steps" });
 * for (let i = 1; i <= 100; i++) p.update(i, { metrics: { loss: 1 / i } });
 * p.done();
 */
export function progress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const mode = !options.mode || options.mode === "auto" ? progressMode() : options.mode;
  const minInterval = options.minIntervalMs ?? 250;
  if (options.total !== undefined && !(Number.isFinite(options.total) && options.total >= 0)) {
    throw new RangeError(`progress: total must be a non-negative number, got ${options.total}`);
  }
  const t0 = now();
  const s: State = { label: options.label, unit: options.unit ?? "it", total: options.total, done: 0, startedAt: t0, now: t0, outcome: "running" };
  let view: View | undefined;
  let pendingBar: Promise<View> | undefined;
  let lastDraw = -Infinity;

  const draw = (force: boolean, final = false) => {
    s.now = now();
    if (!force && s.now - lastDraw < minInterval) return;
    lastDraw = s.now;
    if (view) view.draw(s, final);
    else if (pendingBar) {
      const snapshot = { ...s };
      void pendingBar.then((v) => v.draw(snapshot, final));
    }
  };

  if (mode === "notebook") view = notebookView();
  else if (mode === "lines") view = linesView();
  else if (mode === "bar") {
    pendingBar = barView(s).then((v) => (view = v));
  }
  if (mode !== "off") draw(true);

  const finished = () => s.outcome !== "running";
  return {
    mode,
    update(done, info) {
      if (finished()) return;
      s.done = done;
      if (info?.status !== undefined) s.status = info.status;
      if (info?.metrics !== undefined) s.metrics = info.metrics;
      if (mode !== "off") draw(false);
    },
    done(info) {
      if (finished()) return;
      if (info?.status !== undefined) s.status = info.status;
      if (info?.metrics !== undefined) s.metrics = info.metrics;
      s.outcome = "done";
      if (mode !== "off") draw(true, true);
    },
    fail(err) {
      if (finished()) return;
      s.outcome = "failed";
      s.error = err instanceof Error ? err.message : String(err);
      if (mode !== "off") draw(true, true);
    },
  };
}
