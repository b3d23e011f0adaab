/**
 * Where displays go. Inside the tslm Jupyter kernel, the kernel installs a
 * sink under a global symbol (so every copy of the library in the process
 * finds it); everywhere else, displays print their `text/plain` to stdout.
 */
import { randomBytes } from "node:crypto";
import { knownText, toBundle, type MimeBundle } from "./bundle.js";

/** Installed by the kernel: publishes display messages on the IOPub channel. */
export interface DisplaySink {
  /** Sends `display_data`, or `update_display_data` when `update` (then `displayId` is required). */
  publish(data: MimeBundle, options: { displayId?: string; update?: boolean; metadata?: Record<string, unknown> }): void;
  /** Work the kernel waits for before replying to the current cell (async renders). */
  track(work: Promise<unknown>): void;
}

const SINK_KEY = Symbol.for("tslm.display.sink");

/** The kernel's sink, or undefined outside a notebook. */
export function displaySink(): DisplaySink | undefined {
  return (globalThis as Record<symbol, DisplaySink | undefined>)[SINK_KEY];
}

/** Installs (or with undefined removes) the sink. Called by the kernel, and by tests. */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  (globalThis as Record<symbol, DisplaySink | undefined>)[SINK_KEY] = sink;
}

/** True when running inside the tslm kernel. */
export function inNotebook(): boolean {
  return displaySink() !== undefined;
}

/** A display that can be replaced in place (`update_display_data`). */
export interface DisplayHandle {
  /** The Jupyter `display_id`. */
  readonly id: string;
  /** Resolves when the first rendering has been published. */
  readonly ready: Promise<void>;
  /** Replaces the displayed content with `x`. In a terminal, prints `x` again. */
  update(x: unknown): Promise<void>;
}

export function newDisplayId(): string {
  return randomBytes(8).toString("hex");
}

// Publishes in call order even when a rendering (a Vega chart) is async.
let queue: Promise<void> = Promise.resolve();

function enqueue(x: unknown, emit: (b: MimeBundle) => void): Promise<void> {
  // A terminal shows text only: skip rendering (a chart's SVG) when the text is known.
  const text = displaySink() ? undefined : knownText(x);
  const rendered = text !== undefined ? Promise.resolve({ "text/plain": text }) : toBundle(x); // start now, publish in order
  const step = queue.then(() => rendered).then(emit);
  queue = step.catch((e: unknown) => {
    // In a notebook the kernel reports the failure on the cell (see track);
    // elsewhere say it once on stderr instead of an unhandled rejection.
    if (!displaySink()) process.stderr.write(`tslm: display failed: ${e instanceof Error ? e.message : String(e)}\n`);
  });
  displaySink()?.track(step);
  return step;
}

/**
 * Shows `x`: in a notebook as rich output (its MIME bundle), elsewhere as
 * text on stdout. Returns a handle to update the same output in place.
 * @example const h = display(markdown("**step 1**")); await h.update(markdown("**step 2**"));
 */
export function display(x: unknown, options: { id?: string } = {}): DisplayHandle {
  const id = options.id ?? newDisplayId();
  const emit = (update: boolean) => (bundle: MimeBundle) => {
    const sink = displaySink();
    if (sink) sink.publish(bundle, { displayId: id, update });
    else process.stdout.write(String(bundle["text/plain"] ?? "").replace(/\n?$/, "\n"));
  };
  const ready = enqueue(x, emit(false));
  return {
    id,
    ready,
    update: (y: unknown) => enqueue(y, emit(true)),
  };
}
