/**
 * Process lifetime: the kernel ends when its parent (the Jupyter server or
 * nbconvert) dies, so no orphaned kernels stay behind (a known tslab gap).
 *
 * Node's `process.ppid` is read once at startup, so the live parent comes
 * from `/proc/self/stat` on Linux; elsewhere we probe the original parent
 * with signal 0. The check runs in a worker thread, so it works while the
 * main thread is busy (compiling, or running a long synchronous cell): the
 * main thread is asked to shut down cleanly and, if it does not within
 * `graceMs`, the worker ends the process.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

/** The current parent pid, read live (Linux), or undefined where /proc is missing. */
export function currentParentPid(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // Format: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

export interface ParentWatchOptions {
  /** Poll period. Default 250 ms. */
  intervalMs?: number;
  /** Time the main thread gets to shut down cleanly before the process is killed. Default 1000 ms. */
  graceMs?: number;
  /** Called (on the main thread, if it is free) when the parent is gone. */
  onParentDeath: (why: string) => void;
  /** The parent to watch. Default: `JPY_PARENT_PID` if set, else the parent at startup. */
  parentPid?: number;
}

// The worker's body: plain JavaScript, evaluated as CommonJS.
const WATCHER = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { initial, watched, intervalMs, graceMs } = workerData;
function ppid() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const n = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(n) ? n : undefined;
  } catch { return undefined; }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === "EPERM"; }
}
const timer = setInterval(() => {
  const now = ppid();
  let why;
  if (now !== undefined && now !== initial) why = "parent process " + initial + " went away (re-parented to " + now + ")";
  else if (watched !== initial && !alive(watched)) why = "parent process " + watched + " (JPY_PARENT_PID) is gone";
  else if (now === undefined && !alive(initial)) why = "parent process " + initial + " is gone";
  if (!why) return;
  clearInterval(timer);
  parentPort.postMessage(why);
  setTimeout(() => process.kill(process.pid, "SIGKILL"), graceMs);
}, intervalMs);
`;

/** Starts watching; returns a function that stops. The watcher never keeps the process alive. */
export function watchParent(options: ParentWatchOptions): () => void {
  const fromEnv = Number(process.env.JPY_PARENT_PID);
  const initial = currentParentPid() ?? process.ppid;
  const watched = options.parentPid ?? (Number.isInteger(fromEnv) && fromEnv > 1 ? fromEnv : initial);
  const worker = new Worker(WATCHER, {
    eval: true,
    workerData: { initial, watched, intervalMs: options.intervalMs ?? 250, graceMs: options.graceMs ?? 1000 },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  worker.on("message", (why: string) => options.onParentDeath(why));
  return () => void worker.terminate();
}
