/**
 * Captures the process's stdout and stderr and forwards them as `stream`
 * messages of the cell that is running (or ran last: output from timers
 * after a cell ends lands there, as in IPython). Writes are batched for up to
 * `flushMs` so a loop of `console.log` sends a few messages, not thousands.
 */
export type StreamName = "stdout" | "stderr";

export interface StreamCapture {
  /** Sends everything buffered now (call before any other output, to keep order). */
  flush(): void;
  /** Restores the original `write` functions. */
  restore(): void;
  /** The original stderr, for the kernel's own log lines. */
  log(text: string): void;
}

export function captureStreams(send: (name: StreamName, text: string) => boolean, flushMs = 30): StreamCapture {
  const original = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  const pending: Record<StreamName, string> = { stdout: "", stderr: "" };
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const name of ["stdout", "stderr"] as const) {
      const text = pending[name];
      if (!text) continue;
      pending[name] = "";
      // Before any cell ran there is no cell to send to: keep the text visible on the terminal.
      if (!send(name, text)) original[name](text);
    }
  };

  const writer = (name: StreamName) =>
    function write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
      pending[name] += text;
      if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref();
      }
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };

  process.stdout.write = writer("stdout") as typeof process.stdout.write;
  process.stderr.write = writer("stderr") as typeof process.stderr.write;
  return {
    flush,
    restore() {
      flush();
      process.stdout.write = original.stdout as typeof process.stdout.write;
      process.stderr.write = original.stderr as typeof process.stderr.write;
    },
    log: (text) => void original.stderr(text.endsWith("\n") ? text : text + "\n"),
  };
}
