/**
 * A chart whose data grows while work runs (a training loss curve): one
 * Vega-Lite display, redrawn in place at most once per `intervalMs`. Outside
 * a notebook it only collects rows (print `chart.rows` or render at the end).
 */
import { vegaLite, type VegaLiteSpec } from "./vega.js";
import { display, inNotebook, type DisplayHandle } from "./sink.js";

export interface LiveChartOptions {
  /** Least milliseconds between two redraws. Default 1000: each redraw re-renders the SVG (~50 ms). */
  intervalMs?: number;
  /** Clock in milliseconds (tests pass a fake). Default `Date.now`. */
  now?: () => number;
  /** Draw even outside a notebook (prints a text line per redraw). Default false. */
  force?: boolean;
}

export interface LiveChart<R extends Record<string, unknown> = Record<string, unknown>> {
  /** Rows received so far. */
  readonly rows: readonly R[];
  /** Appends rows; redraws when `intervalMs` has passed since the last redraw. */
  push(...rows: R[]): void;
  /** Draws the final chart and resolves when it has been published. */
  done(): Promise<void>;
  /** The spec with the current rows inlined as `data.values`. */
  spec(): VegaLiteSpec;
}

/**
 * Starts a live chart from a spec without data (its rows come from `push`).
 * @example
 * const chart = liveChart({ mark: "line", encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" } } });
 * chart.push({ step: 1, loss: 2.3 });
 * await chart.done();
 */
export function liveChart<R extends Record<string, unknown> = Record<string, unknown>>(spec: VegaLiteSpec, options: LiveChartOptions = {}): LiveChart<R> {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 1000;
  const active = options.force || inNotebook();
  const rows: R[] = [];
  let handle: DisplayHandle | undefined;
  let lastDraw = -Infinity;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;

  const current = (): VegaLiteSpec => ({ ...spec, data: { ...(spec.data ?? {}), values: rows.slice() } });
  const draw = (): Promise<void> => {
    lastDraw = now();
    dirty = false;
    const chart = vegaLite(current());
    if (!handle) {
      handle = display(chart);
      return handle.ready;
    }
    return handle.update(chart);
  };

  return {
    rows,
    spec: current,
    push(...more) {
      rows.push(...more);
      if (!active) return;
      dirty = true;
      const wait = lastDraw + interval - now();
      if (wait <= 0) void draw();
      else if (!timer) {
        // Draw the rows that arrive during a quiet spell too, once it ends.
        timer = setTimeout(() => {
          timer = undefined;
          if (dirty) void draw();
        }, wait);
        timer.unref?.();
      }
    },
    async done() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (active && (dirty || !handle)) await draw();
    },
  };
}
