import { strict as assert } from "node:assert";
import { parseVerdict } from "../../lib/arena/judges/verdict.js";
import { bleuAddOne as bleu, containsMatch, exactMatchTrimmed as exactMatch, normalizedMatch, numericMatch, parseNumber, regexMatch, rougeL } from "../../lib/data/text-metrics.js";
import { createReferenceJudge, metricFor } from "../../lib/arena/judges/reference.js";
import { createLLMJudge, usesReference } from "../../lib/arena/judges/llm.js";
import { createHumanJudge } from "../../lib/arena/judges/human.js";
import { judgeMessages } from "../../lib/arena/judges/prompts.js";
import { LLMJudgeSchema, ReferenceJudgeSchema } from "../../lib/arena/judges/config.js";
import { JudgeError } from "../../lib/arena/judges/types.js";
import { decide, majority } from "../../lib/arena/tournament/decide.js";
import { resolveConfig } from "../../lib/util/config.js";
import type { SuitePrompt } from "../../lib/arena/types.js";
import { startScriptedServer, type ScriptedServer, type Reply, type ScriptedRequest } from "./support/openai-server.js";

const prompt = (p: Partial<SuitePrompt> = {}): SuitePrompt => ({ id: "p1", category: "math", messages: [{ role: "user", content: "What is 6 * 7?" }], ...p });

describe("arena/judges", () => {
  describe("verdict parsing", () => {
    it("reads MT-Bench labels and Arena-Hard's five levels", () => {
      assert.deepEqual(parseVerdict("A is better.\n[[A]]", "three"), { verdict: "first" });
      assert.deepEqual(parseVerdict("[[ b ]]", "three"), { verdict: "second" });
      assert.deepEqual(parseVerdict("Equal. [[C]]", "three"), { verdict: "tie" });
      assert.deepEqual(parseVerdict("final: [[A>>B]]", "five"), { verdict: "first", strength: 2 });
      assert.deepEqual(parseVerdict("[[A > B]]", "five"), { verdict: "first", strength: 1 });
      assert.deepEqual(parseVerdict("[[A=B]]", "five"), { verdict: "tie", strength: 0 });
      assert.deepEqual(parseVerdict("[[B>>A]]", "five"), { verdict: "second", strength: 2 });
      // The same label repeated is one verdict.
      assert.deepEqual(parseVerdict("I pick [[B]]. Final verdict: [[B]]", "three"), { verdict: "second" });
    });

    it("refuses output with no label, conflicting labels, or labels of the other scale: never a guess", () => {
      assert.match(parseVerdict("A is clearly better.", "three") as string, /no verdict label/);
      assert.match(parseVerdict("[[A]] ... on second thought [[B]]", "three") as string, /conflicting verdict labels \[\[A\]\], \[\[B\]\]/);
      assert.match(parseVerdict("[[A>B]]", "three") as string, /no verdict label/);
      assert.match(parseVerdict("[[A]]", "five") as string, /no verdict label/);
      assert.match(parseVerdict("[[maybe]]", "three") as string, /no verdict label/);
    });
  });

  describe("metrics", () => {
    it("exact, normalized, contains", () => {
      assert.equal(exactMatch(" Paris\n", "Paris"), 1);
      assert.equal(exactMatch("paris", "Paris"), 0);
      assert.equal(normalizedMatch("The Paris!", "paris"), 1);
      assert.equal(containsMatch("The capital is Canberra, not Sydney.", "canberra"), 1);
      assert.equal(containsMatch("Sodium is Na.", "Na"), 1);
      assert.equal(containsMatch("Banana", "Na"), 0, "whole words only");
      assert.equal(containsMatch("anything", ""), 0);
    });

    it("numeric takes the answer's last number, with commas, fractions and percents", () => {
      assert.equal(parseNumber("1,234.5"), 1234.5);
      assert.equal(parseNumber("3/4"), 0.75);
      assert.equal(parseNumber("12%"), 0.12);
      assert.equal(parseNumber("abc"), undefined);
      assert.equal(numericMatch("17 * 23 = 391", "391"), 1);
      assert.equal(numericMatch("First 10, then 20, so the answer is 30.", "30"), 1);
      assert.equal(numericMatch("The answer is 30, not 20.", "30"), 0, "the last number counts");
      assert.equal(numericMatch("It is $1,102.50.", "1102.5"), 1);
      assert.equal(numericMatch("about 3.14159", "3.1416", 1e-3), 1);
      assert.equal(numericMatch("about 3.2", "3.1416", 0.01, true), 0);
      assert.equal(numericMatch("no digits here", "5"), 0);
      assert.throws(() => numericMatch("5", "five"), /not a number/);
    });

    it("regex uses the reference as a pattern", () => {
      assert.equal(regexMatch("Yes, because ...", "^\\W*yes\\b"), 1);
      assert.equal(regexMatch("No.", "^\\W*yes\\b"), 0);
      assert.equal(regexMatch("SELECT COUNT(*) FROM orders;", "select\\s+count\\s*\\(\\s*(\\*|1)\\s*\\)\\s+from\\s+orders"), 1);
    });

    it("ROUGE-L and BLEU give hand-computed values", () => {
      // Tokens after normalisation: [cat sat on mat] vs [cat is on mat]; LCS 3 -> P = R = F = 0.75.
      assert.equal(rougeL("The cat sat on the mat", "the cat is on the mat"), 0.75);
      assert.equal(rougeL("", "x"), 0);
      // p1 = 3/4, p2 = (1+1)/(3+1), p3 = (0+1)/(2+1), p4 = (0+1)/(1+1), BP = 1 -> (0.0625)^(1/4) = 0.5
      assert.ok(Math.abs(bleu("cat sat on mat", "cat is on mat") - 0.5) < 1e-12);
      assert.ok(Math.abs(bleu("a quick brown fox jumps", "a quick brown fox jumps") - 1) < 1e-12);
      assert.equal(bleu("zebra", "cat is on mat"), 0);
      // Brevity penalty: a short exact prefix scores below 1.
      assert.ok(bleu("quick brown fox", "quick brown fox jumps over lazy dog") < 0.5);
    });
  });

  describe("reference judge", () => {
    const judge = createReferenceJudge(resolveConfig(ReferenceJudgeSchema, { type: "reference" }));

    it("picks the metric from tags, the reference's type, or the config", () => {
      assert.equal(metricFor({ metric: "auto" }, prompt({ reference: "42" })), "numeric");
      assert.equal(metricFor({ metric: "auto" }, prompt({ reference: "Paris" })), "contains");
      assert.equal(metricFor({ metric: "auto" }, prompt({ reference: "x", tags: ["metric:regex"] })), "regex");
      assert.equal(metricFor({ metric: "rouge-l" }, prompt({ reference: "42" })), "rouge-l");
    });

    it("higher score wins, equal scores tie, both wrong is both bad; no reference is an error", async () => {
      const p = prompt({ reference: "42" });
      assert.equal((await judge.judge({ prompt: p, first: "It is 42.", second: "It is 41." })).verdict, "first");
      assert.equal((await judge.judge({ prompt: p, first: "41", second: "6*7 = 42" })).verdict, "second");
      assert.equal((await judge.judge({ prompt: p, first: "42", second: "42.0" })).verdict, "tie");
      const r = await judge.judge({ prompt: p, first: "40", second: "41" });
      assert.equal(r.verdict, "both_bad");
      assert.deepEqual(r.scores, { first: 0, second: 0 });
      assert.equal(judge.applies!(prompt()), false);
      await assert.rejects(judge.judge({ prompt: prompt(), first: "a", second: "b" }), (e: unknown) => e instanceof JudgeError && /no reference/.test(e.message));
    });
  });

  describe("LLM judge against a scripted endpoint", () => {
    let server: ScriptedServer;
    let script: (r: ScriptedRequest) => Reply = () => ({ text: "[[A]]" });
    before(async () => {
      server = await startScriptedServer((r) => script(r));
    });
    after(() => server.close());
    const cfg = (extra: Record<string, unknown> = {}) =>
      resolveConfig(LLMJudgeSchema, { type: "llm", base_url: server.url, model: "judge", backoff_ms: 1, max_backoff_ms: 2, timeout_ms: 2000, ...extra });

    it("asks at temperature 0 with both answers labelled A and B, and the reference when guided", async () => {
      script = () => ({ text: "B is right.\n[[B]]" });
      const j = createLLMJudge(cfg());
      const n0 = server.requests.length;
      const r = await j.judge({ prompt: prompt({ reference: "42" }), first: "41", second: "42" });
      assert.equal(r.verdict, "second");
      assert.equal(r.reference_guided, true);
      assert.equal(r.attempts, 1);
      const req = server.requests[n0];
      assert.equal(req.body.temperature, 0);
      assert.equal(req.messages[0].role, "system");
      assert.match(req.messages[0].content, /reference answer is given/);
      assert.match(req.messages[1].content, /\[The Start of Reference Answer\]\n42\n/);
      assert.match(req.messages[1].content, /Assistant A's Answer\]\n41\n/);
      assert.match(req.messages[1].content, /Assistant B's Answer\]\n42\n/);
      assert.equal(j.orders, "both");
    });

    it("does not show regex references or references outside reference_categories", () => {
      assert.equal(usesReference(cfg(), prompt({ reference: "^yes", tags: ["metric:regex"] })), false);
      assert.equal(usesReference(cfg({ reference_categories: ["coding"] }), prompt({ reference: "42" })), false);
      assert.equal(usesReference(cfg({ reference: "never" }), prompt({ reference: "42" })), false);
      const m = judgeMessages(prompt(), "x", "y", { scale: "three", referenceGuided: false });
      assert.doesNotMatch(m[1].content, /Reference/);
    });

    it("retries unparsable output and records the failures; gives up with an error, never a verdict", async () => {
      script = (r) => ({ text: r.attempt === 1 ? "Hmm, hard to say." : "[[A]]" });
      const r = await createLLMJudge(cfg()).judge({ prompt: prompt({ id: "retry-once" }), first: "a1", second: "b1" });
      assert.equal(r.verdict, "first");
      assert.equal(r.attempts, 2);
      assert.equal(r.retry_errors?.length, 1);
      assert.match(r.retry_errors![0], /no verdict label/);

      script = () => ({ text: "Both fine. [[A]] or maybe [[B]]" });
      await assert.rejects(
        createLLMJudge(cfg({ max_attempts: 3 })).judge({ prompt: prompt({ id: "never" }), first: "a", second: "b" }),
        (e: unknown) => e instanceof JudgeError && e.attempts === 3 && e.errors.length === 2 && /conflicting verdict labels/.test(e.message),
      );
    });

    it("reads five-level verdicts", async () => {
      script = () => ({ text: "[[B>>A]]" });
      const r = await createLLMJudge(cfg({ verdicts: "five" })).judge({ prompt: prompt(), first: "x", second: "y" });
      assert.deepEqual([r.verdict, r.strength], ["second", 2]);
      assert.match(server.requests.at(-1)!.messages[0].content, /\[\[A>>B\]\]/);
    });

    it("turns HTTP failures into a JudgeError after retries (5xx) or at once (4xx)", async () => {
      script = () => ({ status: 503 });
      await assert.rejects(createLLMJudge(cfg({ retries: 2 })).judge({ prompt: prompt({ id: "dead" }), first: "a", second: "b" }), (e: unknown) => e instanceof JudgeError && e.attempts === 3);
      const n0 = server.requests.length;
      script = () => ({ status: 404, body: '{"error":"model not found"}' });
      await assert.rejects(createLLMJudge(cfg()).judge({ prompt: prompt({ id: "404" }), first: "a", second: "b" }), /HTTP 404.*not retryable/);
      assert.equal(server.requests.length - n0, 1);
    });
  });

  describe("human judge", () => {
    it("shows anonymous ballots and resolves on a vote", async () => {
      const h = createHumanJudge();
      const pending = h.judge({ prompt: prompt(), first: "answer one", second: "answer two" });
      const b = await h.next();
      assert.deepEqual([b.a, b.b, b.prompt_id], ["answer one", "answer two", "p1"]);
      assert.ok(!JSON.stringify(b).includes("model"), "no model names on a ballot");
      assert.equal(h.pending().length, 1);
      assert.throws(() => h.vote("nope", "A"), /no pending ballot/);
      assert.throws(() => h.vote(b.id, "C" as never), /A, B, tie or both_bad/);
      assert.throws(() => h.vote(b.id, "toString" as never), /A, B, tie or both_bad/, "inherited names are not votes");
      h.vote(b.id, "both_bad");
      assert.equal((await pending).verdict, "both_bad");
      assert.equal(h.pending().length, 0);
    });
  });

  describe("from judgments to battles", () => {
    const J = (first: string, second: string, verdict?: "first" | "second" | "tie" | "both_bad", strength?: number) =>
      ({ first, second, verdict, strength, error: verdict ? undefined : "unparsable" });
    const tieRule = { orders: "both" as const, disagreement: "tie" as const, strongWeight: 3 };
    const twoGames = { orders: "both" as const, disagreement: "two-games" as const, strongWeight: 3 };

    it("MT-Bench rule: the same winner in both orders wins, disagreement ties", () => {
      assert.deepEqual(decide("x", "y", tieRule, [J("x", "y", "first"), J("y", "x", "second")]), { games: [{ model_a: "x", model_b: "y", winner: "model_a", game: "both" }] });
      // Position bias: each order names the first answer -> tie.
      assert.equal((decide("x", "y", tieRule, [J("x", "y", "first"), J("y", "x", "first")]) as { games: { winner: string }[] }).games[0].winner, "tie");
      assert.equal((decide("x", "y", tieRule, [J("x", "y", "both_bad"), J("y", "x", "both_bad")]) as { games: { winner: string }[] }).games[0].winner, "tie (bothbad)");
      assert.equal((decide("x", "y", tieRule, [J("x", "y", "second"), J("y", "x", "tie")]) as { games: { winner: string }[] }).games[0].winner, "tie");
    });

    it("an error in either order makes no battle", () => {
      const d = decide("x", "y", tieRule, [J("x", "y", "first"), J("y", "x")]);
      assert.ok("error" in d && /unparsable/.test(d.error));
      assert.ok("error" in decide("x", "y", twoGames, [J("x", "y"), J("y", "x", "first")]));
    });

    it("Arena-Hard rule: one game per order, model shown first as model_a, strong verdicts count 3x", () => {
      const d = decide("x", "y", twoGames, [J("x", "y", "first", 2), J("y", "x", "first", 1)]) as { games: { model_a: string; winner: string; game: string }[] };
      assert.deepEqual(d.games.map((g) => [g.model_a, g.winner, g.game]), [
        ["x", "model_a", "ab"],
        ["x", "model_a", "ab#2"],
        ["x", "model_a", "ab#3"],
        ["y", "model_a", "ba"],
      ]);
    });

    it("one order: model shown first is model_a", () => {
      const d = decide("x", "y", { orders: "one", disagreement: "tie", strongWeight: 1 }, [J("y", "x", "second")]) as { games: { model_a: string; winner: string }[] };
      assert.deepEqual([d.games[0].model_a, d.games[0].winner], ["y", "model_b"]);
    });

    it("majority: sign of the votes, both-bad only when all say so, quorum enforced", () => {
      const win = (w: string, a = "x") => ({ games: [{ model_a: a, model_b: a === "x" ? "y" : "x", winner: w as "model_a", game: "one" }] });
      const m = (ds: Parameters<typeof majority>[3], quorum?: number) => majority("x", "y", { quorum }, ds);
      assert.equal((m([win("model_a"), win("model_b"), win("model_a")]) as { games: { winner: string }[] }).games[0].winner, "model_a");
      assert.equal((m([win("model_a"), win("model_b", "y")]) as { games: { winner: string }[] }).games[0].winner, "model_a", "frames are aligned");
      assert.equal((m([win("tie (bothbad)"), win("tie (bothbad)")]) as { games: { winner: string }[] }).games[0].winner, "tie (bothbad)");
      assert.equal((m([win("tie (bothbad)"), win("tie")]) as { games: { winner: string }[] }).games[0].winner, "tie");
      assert.ok("error" in m([win("model_a"), { error: "boom" }]));
      assert.equal((m([win("model_b"), { error: "boom" }], 1) as { games: { winner: string }[] }).games[0].winner, "model_b");
    });
  });
});
