/**
 * One p-queue per endpoint (base URL), shared by every contestant and judge
 * that calls it, so two contestants served by one vLLM instance do not each
 * get the full concurrency. When several configs name limits for one
 * endpoint, the strictest wins.
 */
import PQueue from "p-queue";
import type { EndpointLimits, Scheduler } from "../contestants/types.js";
import { runNow } from "../contestants/types.js";

export class EndpointQueues {
  private readonly limits = new Map<string, EndpointLimits>();
  private readonly queues = new Map<string, PQueue>();

  /** A scheduler for an endpoint; the queue itself is made at first use, once every limit is known. */
  scheduler(l: EndpointLimits | undefined): Scheduler {
    if (!l) return runNow;
    const old = this.limits.get(l.key);
    const rpm = [old?.requestsPerMinute, l.requestsPerMinute].filter((x): x is number => x !== undefined);
    this.limits.set(l.key, {
      key: l.key,
      concurrency: Math.min(old?.concurrency ?? Infinity, l.concurrency),
      requestsPerMinute: rpm.length ? Math.min(...rpm) : undefined,
    });
    return <T>(fn: () => Promise<T>) => this.queue(l.key).add(fn, { throwOnTimeout: true });
  }

  private queue(key: string): PQueue {
    let q = this.queues.get(key);
    if (!q) {
      const l = this.limits.get(key)!;
      // Requests are spaced evenly (one per 60000/rpm ms) rather than sent in a burst each minute,
      // which is what per-second token buckets on hosted APIs tolerate best.
      q = l.requestsPerMinute
        ? new PQueue({ concurrency: l.concurrency, intervalCap: 1, interval: Math.max(1, Math.round(60_000 / l.requestsPerMinute)), carryoverConcurrencyCount: true })
        : new PQueue({ concurrency: l.concurrency });
      this.queues.set(key, q);
    }
    return q;
  }

  /** The limits in force, by endpoint (for the run summary). */
  describe(): EndpointLimits[] {
    return [...this.limits.values()];
  }

  clear(): void {
    for (const q of this.queues.values()) q.clear();
  }
}
