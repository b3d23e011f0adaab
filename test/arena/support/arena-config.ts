/** Run configs for tests: the mini suite, contestants and an LLM judge on one scripted server. */
import { join } from "node:path";
import type { ArenaConfigInput } from "../../../lib/arena/tournament/config.js";

export const MINI_SUITE = join(import.meta.dirname, "../../fixtures/arena/suites/mini");

export function endpoint(url: string, extra: Record<string, unknown> = {}) {
  return { base_url: url, backoff_ms: 1, max_backoff_ms: 5, timeout_ms: 1000, retries: 3, concurrency: 4, ...extra };
}

export function httpConfig(url: string, out: string, over: Partial<ArenaConfigInput> = {}, models = ["m1", "m2", "m3", "m4"]): ArenaConfigInput {
  return {
    name: "run",
    out,
    seed: 11,
    suite: MINI_SUITE,
    cache: false,
    contestants: models.map((m) => ({ name: m, type: "openai" as const, model: m, ...endpoint(url) })),
    judge: { type: "llm" as const, model: "judge-1", ...endpoint(url) },
    ...over,
  } as ArenaConfigInput;
}
