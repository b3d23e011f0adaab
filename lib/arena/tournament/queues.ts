/**
 * One queue per endpoint (base URL), shared by every contestant and judge
 * that calls it, so two contestants served by one vLLM instance do not each
 * get the full concurrency. When several configs name limits for one
 * endpoint, the strictest wins.
 *
 * Every endpoint has a `ConcurrencyLimit`: a counter and a FIFO of waiting
 * starts (p-queue's events, option objects and promise layers cost ~20 us per
 * request, a third of the client's CPU per judge call against a fast local
 * server, measured with bench/arena.ts). A rate limit adds `Pacer` inside it:
 * starts are spaced evenly, one per 60000/rpm ms, while up to `concurrency`
 * requests stay in flight, so a slow endpoint still gets its concurrency
 * (600/min against 300 ms answers is 3 requests in flight, not 1).
 */
import type { EndpointLimits, Scheduler } from "../contestants/types.js";
import { runNow } from "../contestants/types.js";

interface Queue {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** At most `limit` tasks at once, started in arrival order. */
export class ConcurrencyLimit implements Queue {
  private active = 0;
  /** Starts waiting for a slot; `head` is the next one (shifting an array per start would cost O(n)). */
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) {
      this.active++;
      return this.start(fn);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(fn));
  }

  private start<T>(fn: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.finally(() => this.release());
  }

  /** Hands the finished task's slot to the next waiting start, or frees it. */
  private release(): void {
    if (this.head === this.waiting.length) {
      this.active--;
      return;
    }
    const next = this.waiting[this.head++];
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      // A queue that never empties would keep every start it ever held: drop the consumed half.
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }
}

/** Waits and a clock (tests pass their own). */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * Even spacing of starts: each start reserves the next slot on the time line
 * (one per `intervalMs`), in arrival order, and waits for it. Spacing rather
 * than a burst each minute is what per-second token buckets on hosted APIs
 * tolerate best; a start that arrives late takes the next free slot, so an
 * idle spell never turns into a burst.
 */
export class Pacer {
  private nextSlot = -Infinity;

  constructor(
    readonly intervalMs: number,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** Resolves when this start's slot has come. */
  wait(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + this.intervalMs;
    return at > now ? this.clock.sleep(at - now) : Promise.resolve();
  }
}

/** At most `limit` tasks at once, each started no sooner than `pacer` allows (the wait holds a slot, so nothing bursts after it). */
export class RateLimit implements Queue {
  private readonly slots: ConcurrencyLimit;

  constructor(
    limit: number,
    private readonly pacer: Pacer,
  ) {
    this.slots = new ConcurrencyLimit(limit);
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.slots.run(() => this.pacer.wait().then(fn));
  }
}

export class EndpointQueues {
  private readonly limits = new Map<string, EndpointLimits>();
  private readonly queues = new Map<string, Queue>();

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
    return <T>(fn: () => Promise<T>) => this.queue(l.key).run(fn);
  }

  private queue(key: string): Queue {
    let q = this.queues.get(key);
    if (!q) {
      const l = this.limits.get(key)!;
      q = l.requestsPerMinute ? new RateLimit(l.concurrency, new Pacer(60_000 / l.requestsPerMinute)) : new ConcurrencyLimit(l.concurrency);
      this.queues.set(key, q);
    }
    return q;
  }

  /** The limits in force, by endpoint (for the run summary). */
  describe(): EndpointLimits[] {
    return [...this.limits.values()];
  }
}
