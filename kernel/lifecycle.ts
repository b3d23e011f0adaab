/**
 * Process lifetime: the kernel ends when its parent (the Jupyter server or
 * nbconvert) dies, so no orphaned kernels stay behind (a known tslab gap).
 *
 * Node's `process.ppid` is read once at startup, so the live parent comes
 * from `/proc/self/stat` on Linux; elsewhere we probe the original parent
 * with signal 0.
 */
import { readFileSync } from "node:fs";

/** The current parent pid, read live. */
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface ParentWatchOptions {
  /** Poll period. Default 500 ms: the kernel ends within a second of its parent. */
  intervalMs?: number;
  /** Called once when the parent is gone. */
  onParentDeath: (why: string) => void;
  /** The parent to watch. Default: `JPY_PARENT_PID` if set, else the parent at startup. */
  parentPid?: number;
}

/** Starts watching; returns a function that stops. The timer never keeps the process alive. */
export function watchParent(options: ParentWatchOptions): () => void {
  const fromEnv = Number(process.env.JPY_PARENT_PID);
  const initial = currentParentPid() ?? process.ppid;
  const watched = options.parentPid ?? (Number.isInteger(fromEnv) && fromEnv > 1 ? fromEnv : initial);
  let fired = false;
  const check = () => {
    if (fired) return;
    const now = currentParentPid();
    let why: string | undefined;
    if (now !== undefined && now !== initial) why = `parent process ${initial} went away (now re-parented to ${now})`;
    else if (watched !== initial && !alive(watched)) why = `parent process ${watched} (JPY_PARENT_PID) is gone`;
    else if (now === undefined && !alive(initial)) why = `parent process ${initial} is gone`;
    if (why) {
      fired = true;
      clearInterval(timer);
      options.onParentDeath(why);
    }
  };
  const timer = setInterval(check, options.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
