/**
 * A deterministic little world for tournament tests: contestants whose
 * answers carry a hidden quality score (their strength plus per-prompt
 * noise), and a judge that prefers the higher quality, with an optional
 * first-position bias, as real LLM judges have. Everything is a pure function
 * of the request, so a killed and resumed run sees the same replies.
 */
import { createHash } from "node:crypto";
import type { Reply, ScriptedRequest } from "./openai-server.js";

export function unit(...parts: (string | number)[]): number {
  const h = createHash("sha256").update(parts.join("\u0000")).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/** Strength by model name: "m3" has strength 3; other names 0. */
export function strengthOf(model: string): number {
  const m = model.match(/(\d+)$/);
  return m ? Number(m[1]) : 0;
}

export function answerText(model: string, prompt: string): string {
  const q = strengthOf(model) + Math.floor(unit("noise", model, prompt) * 4);
  return `Answer from ${model}: ${prompt.slice(0, 30)} ... quality=${q}.`;
}

function qualityIn(section: string | undefined): number | undefined {
  const m = section?.match(/quality=(\d+)/);
  return m ? Number(m[1]) : undefined;
}

export interface JudgeWorld {
  /** Probability (per request) that the judge names the first answer whatever the quality. */
  firstBias?: number;
  /** Five-level labels instead of A/B/C. */
  five?: boolean;
  /** Probability (per distinct request, every attempt) of a reply without a verdict label. */
  garbage?: number;
}

export function judgeText(userContent: string, w: JudgeWorld = {}): string {
  const a = qualityIn(userContent.split("[The Start of Assistant A's Answer]")[1]?.split("[The End of Assistant A's Answer]")[0]);
  const b = qualityIn(userContent.split("[The Start of Assistant B's Answer]")[1]?.split("[The End of Assistant B's Answer]")[0]);
  if (w.garbage && unit("garbage", userContent) < w.garbage) return "Both answers have merit. I cannot decide. [[maybe]]";
  let d = (a ?? 0) - (b ?? 0);
  if (w.firstBias && unit("bias", userContent) < w.firstBias) d = 1;
  if (w.five) {
    const label = d >= 3 ? "A>>B" : d > 0 ? "A>B" : d === 0 ? "A=B" : d > -3 ? "B>A" : "B>>A";
    return `Comparing the answers carefully.\n\nMy final verdict is [[${label}]]`;
  }
  return `Assistant A scores ${a}, assistant B scores ${b}.\n${d > 0 ? "[[A]]" : d < 0 ? "[[B]]" : "[[C]]"}`;
}

export interface Faults {
  /** Per distinct request: chance its first attempt gets a 429 (Retry-After 0). */
  r429?: number;
  /** Per distinct request: chance its first attempt gets a 500 / 503. */
  r5xx?: number;
  /** Per distinct request: chance its first attempt hangs (client timeout). */
  hang?: number;
  /** Per distinct request: chance its first attempt returns a body that is not JSON. */
  malformed?: number;
  /** Per distinct request: chance every attempt fails with 503 (an error that must be recorded). */
  dead?: number;
}

/** The world's reply to a request: judge requests (model "judge*") get verdicts, others answers. */
export function worldReply(req: ScriptedRequest, opts: { judge?: JudgeWorld; faults?: Faults } = {}): Reply {
  const f = opts.faults ?? {};
  const u = (k: string) => unit(k, req.hash);
  if (f.dead && u("dead") < f.dead) return { status: 503, body: "service unavailable (scripted, permanent)" };
  if (req.attempt === 1) {
    if (f.r429 && u("429") < f.r429) return { status: 429, retryAfter: 0 };
    if (f.r5xx && u("5xx") < f.r5xx) return { status: u("which") < 0.5 ? 500 : 503 };
    if (f.hang && u("hang") < f.hang) return { hang: true };
    if (f.malformed && u("malformed") < f.malformed) return { raw: "<html>502 Bad Gateway</html>" };
  }
  const last = req.messages[req.messages.length - 1]?.content ?? "";
  if (req.model.startsWith("judge")) return { text: judgeText(last, opts.judge) };
  return { text: answerText(req.model, last) };
}
