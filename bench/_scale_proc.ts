/**
 * Process memory for `npm run bench -- scale`: resident and peak resident
 * size from /proc (VmRSS, VmHWM), resetting the peak between phases
 * (`/proc/self/clear_refs`, Linux >= 4.0), and child processes run with a
 * time limit and a resident-memory limit, so that one phase that outgrows the
 * machine (shared with others) is stopped and reported instead of swapping
 * or taking the machine down.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

export interface ProcMemory {
  /** Resident now (VmRSS). */
  rssBytes: number;
  /** Peak resident since start or the last `resetPeak()` (VmHWM). */
  peakBytes: number;
}

/** VmRSS and VmHWM of a process (this one by default), or null when it is gone. */
export function procMemory(pid: number | "self" = "self"): ProcMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb("VmRSS"), peakBytes: kb("VmHWM") };
}

/** Resets this process's peak resident size to its current size; false where the kernel does not allow it. */
export function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** /proc/meminfo's MemAvailable and MemTotal, in bytes. */
export function systemMemory(): { availableBytes: number; totalBytes: number } {
  const text = readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { availableBytes: kb("MemAvailable"), totalBytes: kb("MemTotal") };
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed after this long. */
  timeoutMs: number;
  /** Killed when its resident size passes this. */
  maxRssBytes: number;
  /** How often the resident size is read (default 200 ms). */
  pollMs?: number;
  /** Each stderr line as it arrives (progress of long phases). */
  onStderr?: (line: string) => void;
}

export interface ChildResult {
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last stdout line that parses as a JSON object. */
  json: Record<string, unknown> | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Largest resident size seen by the poller (a lower bound of the true peak). */
  maxRssSeenBytes: number;
  /** Why it was stopped, or why it failed, in one line; null when it succeeded. */
  failure: string | null;
}

const GB = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

/** The last line of `text` that is a JSON object. */
export function lastJsonLine(text: string): Record<string, unknown> | null {
  for (const line of text.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not JSON after all: keep looking
    }
  }
  return null;
}

/** The most telling line of a failed child's stderr (an error message, not a stack frame). */
function failureLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("at ") && l.length < 400);
  const err = lines.filter((l) => /error|abort|killed|out of|exception/i.test(l) && !l.startsWith("var ")).pop();
  return (err ?? lines.pop() ?? "no output").slice(0, 300);
}

/** Runs a command with a time and resident-memory limit, collecting its output. */
export function runChild(cmd: string, args: string[], o: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "", partial = "";
    let killedFor: string | null = null;
    let maxRss = 0;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (stderr.length > 1 << 22) stderr = stderr.slice(-(1 << 21)); // keep the tail of chatty children
      if (!o.onStderr) return;
      const lines = (partial + d).split("\n");
      partial = lines.pop()!;
      for (const l of lines) o.onStderr(l);
    });
    const stop = (why: string) => {
      if (killedFor) return;
      killedFor = why;
      child.kill("SIGKILL");
    };
    const poll = setInterval(() => {
      const m = child.pid === undefined ? null : procMemory(child.pid);
      if (!m) return;
      maxRss = Math.max(maxRss, m.rssBytes, m.peakBytes);
      if (m.rssBytes > o.maxRssBytes) stop(`stopped: resident memory passed the ${GB(o.maxRssBytes)} limit (--max-rss-gb)`);
    }, o.pollMs ?? 200);
    const timer = setTimeout(() => stop(`stopped: still running after ${Math.round(o.timeoutMs / 1000)} s (--timeout)`), o.timeoutMs);
    child.on("error", (e) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ ok: false, code: null, signal: null, json: null, stdout, stderr, seconds: (performance.now() - t0) / 1000, maxRssSeenBytes: maxRss, failure: `could not start ${cmd}: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const json = lastJsonLine(stdout);
      const ok = code === 0 && json !== null && !killedFor;
      const failure = ok ? null : (killedFor ?? `failed (exit ${code ?? signal}): ${failureLine(stderr)}`);
      resolve({ ok, code, signal, json, stdout, stderr, seconds: (performance.now() - t0) / 1000, maxRssSeenBytes: maxRss, failure });
    });
  });
}
