/**
 * Regenerates the frozen example runs in test/fixtures/arena/ with the real
 * tournament code against the scripted server (fixed port, fixed seed):
 *
 *   node --import tsx test/arena/support/make-fixtures.ts
 *
 * - example-run: 5 contestants (4 HTTP, 1 answers file missing one answer),
 *   the mini suite, round robin, an LLM judge in both orders with a 25%
 *   first-position bias, MT-Bench tie rule, some unparsable and failed verdicts.
 * - example-ensemble-run: the same contestants, a sample of 40 battles, an
 *   ensemble pooling a five-level two-games LLM judge and the reference judge.
 */
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptedServer } from "./openai-server.js";
import { worldReply, answerText } from "./world.js";
import { runTournament } from "../../../lib/arena/run.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/arena");
const suite = join(root, "suites/mini");

const srv = await startScriptedServer(
  (r) =>
    worldReply(r, {
      judge: r.model === "judge-five" ? { five: true, firstBias: 0.25, garbage: 0.03 } : { firstBias: 0.25, garbage: 0.04 },
      faults: { r429: 0.05, r5xx: 0.05, dead: 0.02 },
    }),
  38111,
);
try {
  // The answers-file contestant: answers to every prompt but one, written by the same world.
  const prompts = readFileSync(join(suite, "prompts.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const answersFile = join(root, "answers-file-0.jsonl");
  writeFileSync(
    answersFile,
    prompts
      .filter((p) => p.id !== "w2")
      .map((p) => JSON.stringify({ prompt_id: p.id, model: "file-0", text: answerText("file-0", p.prompt ?? p.messages.at(-1).content) }))
      .join("\n") + "\n",
  );
  const ep = { base_url: srv.url, backoff_ms: 1, max_backoff_ms: 5, timeout_ms: 2000, retries: 3 };
  const contestants = [
    ...["tiny-1", "small-2", "base-3", "large-5"].map((m) => ({ name: m, type: "openai" as const, model: m, ...ep })),
    { name: "file-0", type: "answers" as const, path: "answers-file-0.jsonl", model: "file-0" },
  ];
  for (const name of ["example-run", "example-ensemble-run"]) rmSync(join(root, name), { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const a = await runTournament(
    { name: "example-run", out: ".", seed: 7, suite: "suites/mini", cache: false, contestants, judge: { type: "llm", model: "judge-1", ...ep } },
    { baseDir: root, progress: "off" },
  );
  const b = await runTournament(
    {
      name: "example-ensemble-run",
      out: ".",
      seed: 7,
      suite: "suites/mini",
      cache: false,
      contestants,
      schedule: { type: "sample", battles: 40 },
      judge: {
        type: "ensemble",
        combine: "pool",
        judges: [
          { type: "llm", model: "judge-five", verdicts: "five", disagreement: "two-games", ...ep },
          { type: "reference" },
        ],
      },
    },
    { baseDir: root, progress: "off" },
  );
  for (const r of [a, b]) {
    console.log(`${r.meta.id}: ${r.battles.length} battles, ${r.judgments.length} judgments, errors: ${r.errors.answers.length} answers, ${r.errors.judgments.length} judgments, ${r.errors.battles.length} battles`);
  }
} finally {
  await srv.close();
}
