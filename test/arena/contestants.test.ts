import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createOpenAIContestant } from "../../lib/arena/contestants/openai.js";
import { createAnswersFileContestant, readAnswersFile } from "../../lib/arena/contestants/answers-file.js";
import { chatCompletion, defaultHttpDeps, endpointLimits, EndpointSchema, retryAfter } from "../../lib/arena/contestants/http.js";
import { redactSecrets } from "../../lib/arena/contestants/redact.js";
import { EndpointQueues } from "../../lib/arena/tournament/queues.js";
import { fetchTransport } from "../../lib/arena/contestants/transport.js";
import { OpenAIContestantSchema, AnswersContestantSchema, ContestantConfigSchema } from "../../lib/arena/contestants/config.js";
import { createLocalContestant } from "../../lib/arena/contestants/local.js";
import { resolveConfig } from "../../lib/util/config.js";
import { DataError, FileError, RemoteError } from "../../lib/util/errors.js";
import type { SuitePrompt } from "../../lib/arena/types.js";
import { startScriptedServer, type Reply, type ScriptedRequest, type ScriptedServer } from "./support/openai-server.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

const prompt: SuitePrompt = { id: "p1", category: "c", messages: [{ role: "user", content: "Say hi." }] };

describe("arena/contestants", () => {
  let server: ScriptedServer;
  let script: (r: ScriptedRequest) => Reply = () => ({ text: "hi" });
  before(async () => {
    server = await startScriptedServer((r) => script(r));
  });
  after(async () => {
    await server.close();
    removeTempDirs();
  });
  const cfg = (extra: Record<string, unknown> = {}) =>
    resolveConfig(OpenAIContestantSchema, { name: "m", type: "openai", base_url: server.url, model: "m", backoff_ms: 1, max_backoff_ms: 5, timeout_ms: 1500, ...extra });
  const gen = (c: ReturnType<typeof createOpenAIContestant>, params = {}) => c.generate({ prompt, messages: prompt.messages, params });

  it("sends the model, messages and generation parameters, and returns text and tokens", async () => {
    script = () => ({ text: "hello there" });
    const c = createOpenAIContestant(cfg({ system: "Be brief." }));
    const r = await gen(c, { temperature: 0.3, max_tokens: 20, seed: 5, extra: { top_k: 4 } });
    assert.equal(r.text, "hello there");
    assert.equal(r.tokens, 2);
    assert.equal(r.attempts, 1);
    const b = server.requests.at(-1)!.body;
    assert.deepEqual(
      { model: b.model, temperature: b.temperature, max_tokens: b.max_tokens, seed: b.seed, top_k: b.top_k, stream: b.stream },
      { model: "m", temperature: 0.3, max_tokens: 20, seed: 5, top_k: 4, stream: false },
    );
    assert.deepEqual(b.messages, [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hi." }]);
    assert.deepEqual(c.identity, { type: "openai", base_url: server.url, model: "m", system: "Be brief." });
  });

  it("retries 429 (honouring Retry-After), 5xx, hangs and malformed bodies, recording each failure", async () => {
    const faults: Reply[] = [{ status: 429, retryAfter: 0 }, { status: 502 }, { hang: true }, { raw: "<html>oops</html>" }, { raw: '{"choices":[]}' }];
    script = (r) => faults[r.attempt - 1] ?? { text: "finally" };
    const c = createOpenAIContestant(cfg({ retries: 6, timeout_ms: 150 }));
    const r = await gen(c);
    assert.equal(r.text, "finally");
    assert.equal(r.attempts, 6);
    assert.equal(r.retry_errors!.length, 5);
    assert.match(r.retry_errors![0], /HTTP 429/);
    assert.match(r.retry_errors![1], /HTTP 502/);
    assert.match(r.retry_errors![2], /timed out after 150 ms/);
    assert.match(r.retry_errors![3], /not JSON/);
    assert.match(r.retry_errors![4], /no choices\[0\]\.message\.content/);
  });

  it("gives up after its retries with every attempt's error", async () => {
    script = () => ({ status: 500 });
    await assert.rejects(gen(createOpenAIContestant(cfg({ retries: 2 }))), (e: unknown) => {
      const err = e as RemoteError & { attempts: number; errors: string[] };
      return err instanceof RemoteError && err.status === 500 && err.attempts === 3 && err.errors.length === 3 && /gave up after 3 attempts/.test(err.message);
    });
  });

  it("fails at once on 4xx other than 408/409/425/429", async () => {
    script = () => ({ status: 401, body: '{"error":"bad key"}' });
    const n0 = server.requests.length;
    await assert.rejects(gen(createOpenAIContestant(cfg())), /HTTP 401.*not retryable/);
    assert.equal(server.requests.length - n0, 1);
  });

  it("waits the Retry-After a server asks for", async () => {
    script = (r) => (r.attempt === 1 ? { status: 429, retryAfter: 0.2 } : { text: "ok" });
    const t0 = performance.now();
    await gen(createOpenAIContestant(cfg({ backoff_ms: 1, max_backoff_ms: 1000 })), { seed: 99 });
    assert.ok(performance.now() - t0 >= 190, "Retry-After 0.2 s respected");
  });

  it("reads the API key from the named environment variable; a missing one fails before any request", async () => {
    script = () => ({ text: "ok" });
    const deps = { ...defaultHttpDeps, env: { MY_KEY: "sk-test" } };
    await createOpenAIContestant(cfg({ api_key_env: "MY_KEY" }), { deps }).generate({ prompt, messages: prompt.messages, params: {} });
    assert.equal(server.requests.at(-1)!.authorization, "Bearer sk-test");
    assert.throws(() => createOpenAIContestant(cfg({ api_key_env: "NOPE" }), { deps }), (e: unknown) => e instanceof RemoteError && /NOPE/.test(e.message) && e.location.key === "contestants.m.api_key_env");
  });

  it("works through fetch too, and reports connection failures as retryable network errors", async () => {
    script = () => ({ text: "via fetch" });
    const deps = { ...defaultHttpDeps, transport: fetchTransport() };
    const ep = resolveConfig(EndpointSchema, { base_url: server.url, model: "m" });
    assert.equal((await chatCompletion(ep, { messages: prompt.messages }, { deps })).text, "via fetch");
    const dead = resolveConfig(EndpointSchema, { base_url: "http://127.0.0.1:1/v1", model: "m", retries: 1, backoff_ms: 1 });
    await assert.rejects(chatCompletion(dead, { messages: prompt.messages }), (e: unknown) => /network error: ECONNREFUSED/.test((e as Error).message) && (e as { attempts: number }).attempts === 2);
  });

  it("stops at once when the run is stopped", async () => {
    script = () => ({ hang: true });
    const stop = new AbortController();
    const p = createOpenAIContestant(cfg({ timeout_ms: 10_000 })).generate({ prompt, messages: prompt.messages, params: { seed: 123 }, signal: stop.signal });
    setTimeout(() => stop.abort(new Error("stopped")), 50);
    await assert.rejects(p, /stopped/);
  });

  it("validates configs, naming the key", () => {
    assert.throws(() => resolveConfig(ContestantConfigSchema, { name: "x", type: "openai", model: "m" }), /base_url/);
    assert.throws(() => resolveConfig(ContestantConfigSchema, { name: "x", type: "openai", base_url: "http://h/v1", model: "m", temprature: 1 }), /unknown config key 'temprature'/);
    assert.throws(() => resolveConfig(ContestantConfigSchema, { name: "x", type: "gguf" }), /type/);
    assert.throws(() => resolveConfig(ContestantConfigSchema, { name: " x", type: "custom" }), /spaces/);
  });

  describe("answers file", () => {
    it("reads prompt_id/question_id/id and text/answer/output/response, filtered by model", async () => {
      const f = join(tempDir(), "a.jsonl");
      writeFileSync(f, ['{"prompt_id": "p1", "text": "one", "model": "m"}', '{"question_id": 2, "answer": "two", "model": "m"}', '{"id": "p1", "output": "other", "model": "n"}', ""].join("\n"));
      assert.deepEqual([...readAnswersFile(f, "m")], [["p1", "one"], ["2", "two"]]);
      const c = createAnswersFileContestant(resolveConfig(AnswersContestantSchema, { name: "n", type: "answers", path: f, model: "n" }));
      assert.equal((await c.generate({ prompt, messages: [], params: {} })).text, "other");
      await assert.rejects(c.generate({ prompt: { ...prompt, id: "zzz" }, messages: [], params: {} }), /no answer for prompt 'zzz'/);
      assert.equal(c.cacheable, false);
    });

    it("names the line of a bad answer", () => {
      const f = join(tempDir(), "a.jsonl");
      writeFileSync(f, '{"prompt_id": "p1", "text": "ok"}\n{"prompt_id": "p2"}\n');
      assert.throws(() => readAnswersFile(f), (e: unknown) => e instanceof DataError && e.location.line === 2 && /no answer text/.test(e.message));
      writeFileSync(f, '{"prompt_id": "p1", "text": "ok"}\n{"prompt_id": "p1", "text": "again"}\n');
      assert.throws(() => readAnswersFile(f), (e: unknown) => e instanceof DataError && e.location.line === 2 && /second answer/.test(e.message));
      writeFileSync(f, "{oops\n");
      assert.throws(() => readAnswersFile(f), (e: unknown) => e instanceof DataError && e.location.line === 1);
      assert.throws(() => readAnswersFile(join(tempDir(), "missing.jsonl")), (e: unknown) => e instanceof FileError);
    });
  });

  it("local contestant: refuses a model folder that does not exist", () => {
    assert.throws(() => createLocalContestant({ name: "l", type: "local", model: join(tempDir(), "none") }), /does not exist/);
  });
});

describe("arena/contestants: rate limits, Retry-After and secrets", function () {
  this.timeout(30_000);
  let server: ScriptedServer;
  let script: (r: ScriptedRequest) => Reply = () => ({ text: "hi" });
  before(async () => {
    server = await startScriptedServer((r) => script(r));
  });
  after(() => server.close());
  const ep = (extra: Record<string, unknown> = {}) => resolveConfig(EndpointSchema, { base_url: server.url, model: "m", backoff_ms: 1, max_backoff_ms: 30_000, ...extra });
  const ask = (seed: number) => ({ messages: prompt.messages, seed });
  /** HTTP deps whose sleeps are recorded and return at once. */
  const recorded = () => {
    const waits: number[] = [];
    const logs: string[] = [];
    const deps = { ...defaultHttpDeps, sleep: async (ms: number) => void waits.push(ms), log: (m: string) => void logs.push(m) };
    return { deps, waits, logs };
  };

  it("keeps `concurrency` requests in flight under requests_per_minute, spaced evenly (a real server on 127.0.0.1)", async () => {
    script = () => ({ text: "ok", delayMs: 300 });
    const queues = new EndpointQueues();
    const e = ep({ concurrency: 4, requests_per_minute: 600 });
    const schedule = queues.scheduler(endpointLimits(e));
    const n0 = server.requests.length;
    server.maxInFlight.clear();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, (_, i) => chatCompletion(e, ask(1000 + i), { schedule })));
    const seconds = (performance.now() - t0) / 1000;
    const arrivals = server.requests.slice(n0).map((r) => r.at);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]);
    // 600/min = one start per 100 ms; answers take 300 ms, so 3 are in flight (4 at a start's edge).
    assert.ok(server.maxInFlight.get("m")! >= 3, `at most ${server.maxInFlight.get("m")} in flight`);
    assert.ok(server.maxInFlight.get("m")! <= 4);
    assert.ok(Math.min(...gaps) >= 80, `gaps ${gaps.map((g) => g.toFixed(0))}`);
    const perMinute = (60 * (arrivals.length - 1)) / ((arrivals.at(-1)! - arrivals[0]) / 1000);
    assert.ok(perMinute > 450 && perMinute <= 620, `${perMinute.toFixed(0)} requests/min`);
    assert.ok(seconds < 3, `${seconds.toFixed(1)} s for 16 requests`);
  });

  it("waits a Retry-After in seconds beyond max_backoff_ms", async () => {
    script = (r) => (r.attempt === 1 ? { status: 429, retryAfter: 60 } : { text: "ok" });
    const { deps, waits } = recorded();
    await chatCompletion(ep(), ask(1), { deps });
    assert.deepEqual(waits, [60_000]);
  });

  it("waits a Retry-After given as an HTTP date, measured from the response's Date header", async () => {
    script = (r) => (r.attempt === 1 ? { status: 503, retryAfter: new Date(Date.now() + 20_000).toUTCString() } : { text: "ok" });
    const { deps, waits } = recorded();
    await chatCompletion(ep(), ask(2), { deps });
    assert.equal(waits.length, 1);
    assert.ok(waits[0] >= 19_000 && waits[0] <= 21_000, `waited ${waits[0]} ms`);
    assert.equal(retryAfter("Wed, 21 Oct 2026 07:28:20 GMT", undefined, Date.parse("Wed, 21 Oct 2026 07:28:00 GMT")), 20_000);
    assert.equal(retryAfter("Wed, 21 Oct 2026 07:28:20 GMT", "Wed, 21 Oct 2026 07:28:15 GMT", 0), 5_000);
    assert.equal(retryAfter("soon", undefined, 0), undefined);
  });

  it("cuts a Retry-After longer than max_retry_after_ms, saying so in the log", async () => {
    script = (r) => (r.attempt === 1 ? { status: 429, retryAfter: 3600 } : { text: "ok" });
    const { deps, waits, logs } = recorded();
    await chatCompletion(ep({ max_retry_after_ms: 120_000 }), ask(3), { deps });
    assert.deepEqual(waits, [120_000]);
    assert.equal(logs.length, 1);
    assert.match(logs[0], /asked to retry after 3600 s .*max_retry_after_ms = 120 s/);
  });

  it("redacts the API key (and any bearer token) from the errors it reports", async () => {
    const key = "sk-live-0123456789abcdef";
    script = (r) => ({ status: r.attempt === 1 ? 500 : 401, body: `bad key: ${r.authorization}; also ${key} and Bearer other-token-xyz` });
    const deps = { ...recorded().deps, env: { K: key } };
    const e = ep({ api_key_env: "K", retries: 2 });
    await assert.rejects(chatCompletion(e, ask(4), { apiKey: key, deps }), (err: unknown) => {
      const c = err as Error & { errors: string[] };
      const all = [c.message, ...c.errors].join("\n");
      assert.ok(!all.includes(key) && !all.includes("other-token-xyz"), all);
      assert.match(c.message, /bad key: Bearer \[redacted\]/);
      return true;
    });
    assert.equal(server.requests.at(-1)!.authorization, `Bearer ${key}`, "the key itself was sent");
    assert.equal(redactSecrets('{"auth":"sk\\u002dx"} Basic dXNlcjpwYXNz', ["sk-x-long"]), '{"auth":"sk\\u002dx"} Basic [redacted]');
  });
});
