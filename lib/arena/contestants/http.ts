/**
 * A client for OpenAI-compatible chat endpoints (OpenAI, vLLM, Ollama's /v1,
 * llama.cpp server, TGI): POST {base_url}/chat/completions, with a timeout per
 * attempt and retries with exponential backoff on 429, 408, 5xx, network
 * errors, timeouts and malformed responses. `Retry-After` is honoured in both
 * of its forms (seconds or an HTTP date, RFC 9110 section 10.2.3), capped
 * only by `max_retry_after_ms` and then with a log line. Other 4xx fail at
 * once (a wrong model name or key does not get better by waiting). The API
 * key is redacted from every error (redact.ts).
 */
import { RemoteError } from "../../util/errors.js";
import { z } from "../../util/config.js";
import type { EndpointLimits, Scheduler } from "./types.js";
import { runNow } from "./types.js";
import type { ArenaChatMessage } from "../types.js";
import { undiciTransport, TransportTimeout, type Transport } from "./transport.js";
import { redactSecrets } from "./redact.js";

export const EndpointSchema = z.strictObject({
  base_url: z.string().url().describe("Endpoint root including the API version, e.g. http://127.0.0.1:11434/v1 (Ollama), http://host:8000/v1 (vLLM)."),
  model: z.string().min(1).describe("Model name sent in the request body."),
  api_key_env: z.string().optional().describe("Name of the environment variable holding the API key; unset = no Authorization header (local servers)."),
  headers: z.record(z.string(), z.string()).optional().describe("Extra HTTP headers (never put secrets here: they are recorded)."),
  timeout_ms: z.number().int().positive().default(120_000).describe("Per-attempt timeout; long answers on CPU servers take a while."),
  retries: z.number().int().min(0).default(4).describe("Retries after the first attempt on 429/5xx/timeouts/network errors."),
  backoff_ms: z.number().min(0).default(1_000).describe("First retry delay; doubles each retry (with jitter), capped by max_backoff_ms."),
  max_backoff_ms: z.number().min(0).default(30_000).describe("Cap of the exponential backoff (not of a server's Retry-After)."),
  max_retry_after_ms: z
    .number()
    .min(0)
    .default(600_000)
    .describe("Longest wait a server's Retry-After may ask for; a longer one is cut to this, with a log line (10 minutes: a rate-limit window, not an outage)."),
  concurrency: z.number().int().positive().default(4).describe("Requests in flight to this base URL (shared with judges on the same URL)."),
  requests_per_minute: z.number().positive().optional().describe("Rate limit for this base URL; unset = none."),
});
export type EndpointConfig = z.output<typeof EndpointSchema>;

/** The queue limits an endpoint config asks for (shared by everything calling its base URL). */
export function endpointLimits(ep: EndpointConfig): EndpointLimits {
  return { key: ep.base_url, concurrency: ep.concurrency, requestsPerMinute: ep.requests_per_minute };
}

export interface HttpDeps {
  /** POSTs a request (default: undici keep-alive pools; `fetchTransport(fetch)` adapts fetch). */
  transport: Transport;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Monotonic milliseconds (latency). */
  now: () => number;
  /** Wall-clock milliseconds since the epoch (HTTP-date Retry-After without a Date header). */
  wallNow: () => number;
  /** Where notes that do not stop the run go (a capped Retry-After). */
  log: (message: string) => void;
  /** Jitter source in [0, 1); timing only, never affects results. */
  jitter: () => number;
  env: Record<string, string | undefined>;
}

export const defaultHttpDeps: HttpDeps = {
  transport: undiciTransport,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  now: () => performance.now(),
  wallNow: () => Date.now(),
  log: (message) => process.stderr.write(`tslm: ${message}\n`),
  jitter: Math.random,
  env: process.env,
};

export interface ChatResult {
  text: string;
  tokens?: number;
  latency_ms: number;
  attempts: number;
  retry_errors: string[];
}

/** A chat call that failed after its retries; carries every attempt's error. */
export class ChatError extends RemoteError {
  constructor(
    message: string,
    status: number | undefined,
    readonly attempts: number,
    readonly errors: string[],
  ) {
    super(message, status);
  }
}

/** Reads the API key named by `api_key_env`; a named but unset variable is a config error, found before any request. */
export function apiKeyFrom(ep: EndpointConfig, env: HttpDeps["env"], key: string): string | undefined {
  if (!ep.api_key_env) return undefined;
  const v = env[ep.api_key_env];
  if (v === undefined || v === "") {
    throw new RemoteError(`environment variable ${ep.api_key_env} (named by ${key}.api_key_env) is not set`, undefined, { key: `${key}.api_key_env` });
  }
  return v;
}

const chatUrls = new Map<string, string>();

/** `{base_url}/chat/completions` (computed once per base URL). */
export function chatUrl(baseUrl: string): string {
  let url = chatUrls.get(baseUrl);
  if (url === undefined) {
    url = baseUrl.replace(/\/+$/, "") + "/chat/completions";
    if (chatUrls.size > 1000) chatUrls.clear();
    chatUrls.set(baseUrl, url);
  }
  return url;
}

interface Attempt {
  ok: boolean;
  retryable: boolean;
  status?: number;
  error?: string;
  retryAfterMs?: number;
  result?: { text: string; tokens?: number };
}

async function attemptOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  deps: HttpDeps,
  outer?: AbortSignal,
): Promise<Attempt> {
  try {
    const res = await deps.transport(url, headers, body, { timeoutMs, signal: outer });
    const text = res.text;
    if (res.status < 200 || res.status >= 300) {
      const retryable = res.status === 408 || res.status === 409 || res.status === 425 || res.status === 429 || res.status >= 500;
      const retryAfterMs = retryAfter(res.header("retry-after"), res.header("date") ?? undefined, deps.wallNow());
      return { ok: false, retryable, status: res.status, retryAfterMs, error: `HTTP ${res.status}: ${text.slice(0, 200).trim()}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, retryable: true, status: res.status, error: `response is not JSON: ${JSON.stringify(text.slice(0, 120))}` };
    }
    const choice = (json as { choices?: { message?: { content?: unknown } }[] }).choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== "string") {
      return { ok: false, retryable: true, status: res.status, error: `response has no choices[0].message.content string: ${JSON.stringify(json).slice(0, 160)}` };
    }
    const tokens = (json as { usage?: { completion_tokens?: unknown } }).usage?.completion_tokens;
    return { ok: true, retryable: false, result: { text: content, tokens: typeof tokens === "number" ? tokens : undefined } };
  } catch (e) {
    if (outer?.aborted) throw outer.reason ?? e;
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    if (e instanceof TransportTimeout) return { ok: false, retryable: true, error: e.message };
    return { ok: false, retryable: true, error: `network error: ${err.cause?.code ?? err.code ?? err.cause?.message ?? err.message}` };
  }
}

/**
 * The wait a Retry-After header asks for, in ms: delay-seconds, or an
 * HTTP-date measured from the response's Date header when it has one (so a
 * skewed local clock does not matter), else from `wallNow`. Undefined when
 * absent or unreadable; a date in the past is 0.
 * @example retryAfter("60", undefined, Date.now()) // 60000
 */
export function retryAfter(value: string | null, date: string | undefined, wallNow: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  const from = date !== undefined && !Number.isNaN(Date.parse(date)) ? Date.parse(date) : wallNow;
  return Math.max(0, at - from);
}

/** How long to wait before attempt `attempt + 1`: the backoff, or the server's Retry-After when longer (cut to max_retry_after_ms with a log line). */
function retryDelay(ep: EndpointConfig, attempt: number, a: Attempt, deps: HttpDeps, url: string): number {
  const backoff = Math.min(ep.max_backoff_ms, ep.backoff_ms * 2 ** (attempt - 1)) * (0.5 + 0.5 * deps.jitter());
  const asked = a.retryAfterMs ?? 0;
  if (asked <= backoff) return backoff;
  if (asked <= ep.max_retry_after_ms) return asked;
  deps.log(`${url} (model ${ep.model}) asked to retry after ${(asked / 1000).toFixed(0)} s (Retry-After); waiting max_retry_after_ms = ${(ep.max_retry_after_ms / 1000).toFixed(0)} s instead`);
  return Math.max(backoff, ep.max_retry_after_ms);
}

/**
 * One chat completion with retries. `schedule` runs each attempt through the
 * endpoint's queue (concurrency and rate limits); backoff waits happen outside it.
 * @throws ChatError after the last attempt, with every attempt's error.
 */
export async function chatCompletion(
  ep: EndpointConfig,
  request: { messages: ArenaChatMessage[]; [field: string]: unknown },
  opts: { apiKey?: string; schedule?: Scheduler; signal?: AbortSignal; deps?: HttpDeps } = {},
): Promise<ChatResult> {
  const deps = opts.deps ?? defaultHttpDeps;
  const schedule = opts.schedule ?? runNow;
  const url = chatUrl(ep.base_url);
  const headers: Record<string, string> = { "content-type": "application/json", ...ep.headers };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const body = JSON.stringify({ model: ep.model, ...request, stream: false });
  const errors: string[] = [];
  const t0 = deps.now();
  for (let attempt = 1; ; attempt++) {
    const a = await schedule(() => attemptOnce(url, headers, body, ep.timeout_ms, deps, opts.signal));
    if (a.ok && a.result) {
      return { ...a.result, latency_ms: Math.round(deps.now() - t0), attempts: attempt, retry_errors: errors };
    }
    const error = redactSecrets(a.error ?? "unknown error", [opts.apiKey]);
    errors.push(error);
    if (!a.retryable || attempt > ep.retries) {
      const why = a.retryable ? `gave up after ${attempt} attempts` : "not retryable";
      throw new ChatError(`${url} (model ${ep.model}): ${error} (${why})`, a.status, attempt, errors);
    }
    await deps.sleep(retryDelay(ep, attempt, a, deps, url), opts.signal);
  }
}
