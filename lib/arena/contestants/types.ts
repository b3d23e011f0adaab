/**
 * What a contestant is: anything that answers a prompt. The tournament never
 * looks inside; it asks `generate` and records the answer (or the error).
 */
import type { ArenaChatMessage, SuitePrompt } from "../types.js";
import type { GenerationParams } from "./params.js";

/** Concurrency and rate limits for one endpoint (shared by everything that calls it). */
export interface EndpointLimits {
  /** Queue key: requests to the same key share one queue (the base URL for HTTP endpoints). */
  key: string;
  concurrency: number;
  /** At most this many requests a minute; unset = no rate limit. */
  requestsPerMinute?: number;
}

export interface ContestantRequest {
  prompt: SuitePrompt;
  messages: ArenaChatMessage[];
  /** Merged generation parameters (suite < run < contestant), seed filled in. */
  params: GenerationParams;
  signal?: AbortSignal;
}

export interface ContestantAnswer {
  text: string;
  tokens?: number;
  latency_ms?: number;
  attempts?: number;
  /** Failures of earlier attempts that were retried. */
  retry_errors?: string[];
}

export interface Contestant {
  readonly name: string;
  readonly type: string;
  /** What determines its answers, without secrets: part of the answer cache key. */
  readonly identity: unknown;
  /** False for contestants whose answers are free (files): they skip the cross-run cache. */
  readonly cacheable: boolean;
  /** Generation parameters this contestant sets over the run's. */
  readonly params?: GenerationParams;
  generate(req: ContestantRequest): Promise<ContestantAnswer>;
  close?(): Promise<void>;
}

/** Runs one request attempt through an endpoint's queue (identity when there is none). */
export type Scheduler = <T>(fn: () => Promise<T>) => Promise<T>;

export const runNow: Scheduler = (fn) => fn();

/** `messages` with the contestant's system message first, unless they open with one already. */
export function withSystem(messages: ArenaChatMessage[], system: string | undefined): ArenaChatMessage[] {
  return system && messages[0]?.role !== "system" ? [{ role: "system", content: system }, ...messages] : messages;
}
