/** Shared helpers for arena run tests. */
import type { Contestant } from "../../../lib/arena/contestants/types.js";
import type { Judge } from "../../../lib/arena/judges/types.js";
import { answerText, judgeText } from "./world.js";

/** In-process contestants and judge for fast runs (no HTTP). */
export function fastWorld(names: string[]) {
  const contestants: Record<string, Contestant> = {};
  for (const n of names) {
    contestants[n] = { name: n, type: "custom", identity: { n }, cacheable: true, generate: async (r) => ({ text: answerText(n, r.messages.at(-1)!.content) }) };
  }
  const judge: Judge = {
    id: "fast",
    type: "custom",
    identity: "fast-v1",
    cacheable: true,
    orders: "both",
    disagreement: "tie",
    strongWeight: 1,
    judge: async (x) => {
      const t = judgeText(`[The Start of Assistant A's Answer]\n${x.first}\n[The End of Assistant A's Answer]\n[The Start of Assistant B's Answer]\n${x.second}\n[The End of Assistant B's Answer]`, { firstBias: 0.2 });
      return { verdict: t.includes("[[A]]") ? "first" : t.includes("[[B]]") ? "second" : "tie" };
    },
  };
  return { contestants, judges: { fast: judge } };
}

/** Battle fields that must match between runs (not timings). */
export function strip<T extends object>(rs: T[]): T[] {
  return rs.map((r) => {
    const { cached, latency_ms, attempts, retry_errors, ...rest } = r as Record<string, unknown>;
    void cached, latency_ms, attempts, retry_errors;
    return rest as T;
  });
}
