/**
 * Pairwise judge prompts. The protocol follows MT-Bench (Zheng et al. 2023,
 * "Judging LLM-as-a-Judge"): a system message asking for an impartial
 * comparison that ignores position, length and names; the question, an
 * optional reference answer (reference-guided grading for checkable
 * categories), and the two answers between start/end markers; a final label
 * in double brackets. The five-level scale is Arena-Hard's (Li et al. 2024).
 */
import type { ArenaChatMessage, SuitePrompt } from "../types.js";
import type { VerdictScale } from "./verdict.js";

const RULES =
  "Do not let the order in which the answers are shown, their length, or any names influence you: judge only how well each answer serves the user. " +
  "Be as objective as possible. First compare the two answers and explain your reasoning briefly.";

const VERDICT_THREE = 'Then output your final verdict on the last line, exactly in this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, "[[C]]" for a tie.';

const VERDICT_FIVE =
  "Then output your final verdict on the last line as exactly one of these labels: " +
  '"[[A>>B]]" assistant A is significantly better, "[[A>B]]" assistant A is slightly better, "[[A=B]]" tie, ' +
  '"[[B>A]]" assistant B is slightly better, "[[B>>A]]" assistant B is significantly better.';

export function judgeSystemPrompt(scale: VerdictScale, referenceGuided: boolean): string {
  const task = referenceGuided
    ? "Please act as an impartial judge and evaluate the answers of two AI assistants to the user question below. " +
      "A reference answer is given. Check each assistant's answer against it and point out mistakes; an answer that is wrong cannot be better than one that is right. " +
      "Beyond correctness, prefer the answer that is clearer and more helpful."
    : "Please act as an impartial judge and evaluate the answers of two AI assistants to the user question below. " +
      "Choose the assistant that follows the user's instructions and answers the question better, considering helpfulness, correctness, relevance, depth and clarity.";
  return `${task} ${RULES} ${scale === "three" ? VERDICT_THREE : VERDICT_FIVE}`;
}

/** Renders the conversation: a single question as-is, a multi-turn one with role labels. */
export function renderQuestion(prompt: SuitePrompt): string {
  const m = prompt.messages;
  if (m.length === 1) return m[0].content;
  return m.map((x) => `${x.role === "user" ? "User" : x.role === "assistant" ? "Assistant" : "System"}: ${x.content}`).join("\n\n");
}

export function judgeMessages(
  prompt: SuitePrompt,
  first: string,
  second: string,
  opts: { scale: VerdictScale; referenceGuided: boolean; system?: string },
): ArenaChatMessage[] {
  const parts = [`[User Question]\n${renderQuestion(prompt)}`];
  if (opts.referenceGuided && prompt.reference !== undefined) {
    parts.push(`[The Start of Reference Answer]\n${prompt.reference}\n[The End of Reference Answer]`);
  }
  parts.push(`[The Start of Assistant A's Answer]\n${first}\n[The End of Assistant A's Answer]`);
  parts.push(`[The Start of Assistant B's Answer]\n${second}\n[The End of Assistant B's Answer]`);
  return [
    { role: "system", content: opts.system ?? judgeSystemPrompt(opts.scale, opts.referenceGuided) },
    { role: "user", content: parts.join("\n\n") },
  ];
}
