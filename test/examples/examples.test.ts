/**
 * The arena configs in examples/ run as a new user runs them: through the
 * real CLI (`node bin/tslm.js arena run FILE`), offline. Each runs from a
 * copy of examples/ beside a link to models/, so relative paths resolve as in
 * the checkout and nothing is written into it. The OpenAI-compatible example
 * talks to a real HTTP server on 127.0.0.1 that answers from a file
 * (test/examples/openai-answers.json); only its port is put into the config.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startScriptedServer, type ScriptedServer } from "../arena/support/openai-server.js";
import { cliEnv, ROOT } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";
import { readJsonFile } from "../../lib/util/files.js";
import { parseJsonl } from "../../lib/data/read.js";

const EXAMPLES = join(ROOT, "examples");
/** Every example config and what its leaderboard must show: the first model ranks above the second. */
const EXPECTED: Record<string, { battles: number; above: [string, string] }> = {
  "local-reference.yaml": { battles: 3 * 54, above: ["lora-r1", "base"] },
  "answers-file.yaml": { battles: 54, above: ["lora-r1", "base"] },
  "openai-compatible.yaml": { battles: 17, above: ["model-a", "model-b"] },
};

interface Summary {
  complete: boolean;
  battles: number;
  dir: string;
  errors: { answers: number; judgments: number; battles: number };
}

/**
 * `node bin/tslm.js ARGS --json` in `cwd`, as a user runs it (asynchronously:
 * the test's HTTP server answers meanwhile); fails the test with its stderr
 * when it fails.
 */
async function tslmJson(cwd: string, ...args: string[]): Promise<unknown> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "tslm.js"), ...args, "--json"], { cwd, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, `tslm ${args.join(" ")} exited ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

/** Runs an example from `dir` (a copy of examples/) and checks its run and leaderboard. */
async function runExample(dir: string, file: string): Promise<void> {
  const want = EXPECTED[file];
  const run = (await tslmJson(dir, "arena", "run", file)) as Summary;
  assert.equal(run.complete, true);
  assert.deepEqual(run.errors, { answers: 0, judgments: 0, battles: 0 });
  assert.equal(run.battles, want.battles);
  const board = (await tslmJson(dir, "arena", "leaderboard", run.dir)) as { ratings: { model: string; rating: number; upper: number; lower: number }[] };
  const rating = (m: string) => board.ratings.find((r) => r.model === m)!;
  const [better, worse] = want.above.map(rating);
  assert.ok(better.lower > worse.upper, `${want.above[0]} (${better.lower}..${better.upper}) above ${want.above[1]} (${worse.lower}..${worse.upper})`);
}

describe("examples/: arena configs a new user runs offline", function () {
  this.timeout(300_000);
  let dir: string;
  let server: ScriptedServer | undefined;

  before(() => {
    const root = tempDir("tslm-examples-");
    cpSync(EXAMPLES, join(root, "examples"), { recursive: true });
    symlinkSync(join(ROOT, "models"), join(root, "models"));
    dir = join(root, "examples");
  });
  after(async () => {
    await server?.close();
  });

  it("tests every example config", () => {
    assert.deepEqual(readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort(), Object.keys(EXPECTED).sort());
  });

  it("local-reference.yaml: the embedded model with and without its LoRA adapter, reference judge", async () => {
    await runExample(dir, "local-reference.yaml");
  });

  it("answers-file.yaml: answers from a JSONL file, reference judge", async () => {
    await runExample(dir, "answers-file.yaml");
  });

  it("openai-compatible.yaml: two models behind an OpenAI-compatible endpoint", async () => {
    const answers = readJsonFile(join(ROOT, "test", "examples", "openai-answers.json")) as Record<string, Record<string, string>>;
    const suite = parseJsonl(readFileSync(join(ROOT, "eval-suites", "general", "prompts.jsonl"), "utf8")).rows as { id: string; prompt: string }[];
    const idOf = new Map(suite.map((p) => [p.prompt, p.id]));
    server = await startScriptedServer((req) => {
      const prompt = req.messages.filter((m) => m.role === "user").pop()?.content ?? "";
      const text = answers[req.model]?.[idOf.get(prompt) ?? ""];
      return text === undefined ? { status: 404, body: JSON.stringify({ error: { message: `no answer for ${req.model}: ${prompt}` } }) } : { text };
    });
    const file = join(dir, "openai-compatible.yaml");
    const config = readFileSync(file, "utf8");
    const example = "http://127.0.0.1:8000/v1";
    assert.ok(config.includes(example), `the example points at ${example}`);
    writeFileSync(file, config.replaceAll(example, server.url));
    await runExample(dir, "openai-compatible.yaml");
    assert.deepEqual([...new Set(server.requests.map((r) => r.model))].sort(), ["model-a", "model-b"]);
    assert.equal(server.requests.length, 2 * 17);
  });
});
