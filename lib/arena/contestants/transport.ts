/**
 * The HTTP transport under the chat client: POST a JSON body, get status,
 * headers and text back.
 *
 * The default goes through undici's dispatcher (keep-alive connection pools,
 * the llhttp parser) with one small handler object per request: no response
 * stream, no closures, no listener on the run's abort signal per request.
 * Against an instant local endpoint it costs about half the client CPU of
 * node:http per request (measured: ~20 vs ~45 us), which matters when a
 * tournament's judge calls go to a fast local server. `fetchTransport`
 * adapts any fetch implementation (tests, proxies).
 */
import { createRequire } from "node:module";
import type { Dispatcher } from "undici";

export interface PostResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

export interface PostOptions {
  /** Fail with a TransportTimeout after this many ms (one timer per request; AbortSignal.timeout costs far more). */
  timeoutMs: number;
  /** Cancels the request (the run was stopped). */
  signal?: AbortSignal;
}

export type Transport = (url: string, headers: Record<string, string>, body: string, opts: PostOptions) => Promise<PostResponse>;

/** The request took longer than its timeout. */
export class TransportTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "TransportTimeout";
  }
}

/**
 * Keep-alive pools per origin. The endpoint queues bound the requests in
 * flight well below `connections`; undici's own header and body timeouts are
 * off because each request has its own timer (`timeout_ms` covers the whole
 * request, and a long answer on a CPU server may take minutes). Idle sockets
 * are unref'd by undici, so they never keep a finished process alive.
 * undici loads on the first request: importing tslm (the notebook kernel, a
 * CLI command that calls no endpoint) does not pay for it.
 */
let agent: Dispatcher | undefined;
const getAgent = (): Dispatcher =>
  (agent ??= new (createRequire(import.meta.url)("undici") as typeof import("undici")).Agent({ connections: 256, headersTimeout: 0, bodyTimeout: 0 }));

/** `url` split for the dispatcher, parsed once per URL (a run calls a few URLs many thousand times). */
const targets = new Map<string, { origin: string; path: string }>();
function target(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    t = { origin: u.origin, path: u.pathname + u.search };
    if (targets.size > 1000) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/**
 * Requests in flight under each abort signal. One listener per signal stops
 * them all: adding and removing a listener per request costs time linear in
 * the listeners already there, and a run has hundreds of requests in flight.
 */
const watched = new WeakMap<AbortSignal, Set<PostHandler>>();
function watch(signal: AbortSignal, h: PostHandler): void {
  let set = watched.get(signal);
  if (!set) {
    const requests = (set = new Set());
    watched.set(signal, set);
    signal.addEventListener("abort", () => {
      for (const r of requests) r.abort(signal.reason);
      requests.clear();
    }, { once: true });
  }
  set.add(h);
}

/** Collects one response; settles its promise once (response, timeout, stop or error). */
class PostHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private reason: unknown;
  private settled = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (r: PostResponse) => void,
    private readonly reject: (e: unknown) => void,
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => this.abort(new TransportTimeout(timeoutMs)), timeoutMs);
    if (signal) watch(signal, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Stopped while waiting for a connection: do not send it.
    if (this.settled) controller.abort(this.reason instanceof Error ? this.reason : new Error(String(this.reason)));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = headers;
    this.chunks = [];
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (!this.finish()) return;
    const headers = this.headers;
    const text = (this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)).toString("utf8");
    this.resolve({
      status: this.status,
      header: (name) => {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      },
      text,
    });
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    if (this.finish()) this.reject(error);
  }

  /** Fails the request with `reason` (timeout or stop) and cancels it on the wire. */
  abort(reason: unknown): void {
    if (!this.finish()) return;
    this.reason = reason;
    this.reject(reason);
    this.controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  /** Marks the request settled; false when it already was. */
  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    if (this.signal) watched.get(this.signal)?.delete(this);
    return true;
  }
}

/** The default transport: undici's keep-alive pools (see the module comment). */
export const undiciTransport: Transport = (url, headers, body, opts) =>
  new Promise<PostResponse>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const { origin, path } = target(url);
    const handler = new PostHandler(resolve, reject, opts.timeoutMs, opts.signal);
    try {
      getAgent().dispatch({ origin, path, method: "POST", headers, body }, handler);
    } catch (e) {
      handler.abort(e);
    }
  });

export function fetchTransport(f: typeof fetch = globalThis.fetch): Transport {
  return async (url, headers, body, opts) => {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await f(url, { method: "POST", headers, body, signal });
    } catch (e) {
      if (timeout.aborted && !opts.signal?.aborted) throw new TransportTimeout(opts.timeoutMs);
      throw e;
    }
    const text = await res.text();
    return { status: res.status, header: (n) => res.headers.get(n), text };
  };
}
