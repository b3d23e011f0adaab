/**
 * `npm run bench -- arena [--json] [--rounds N] [--battles N] [--models N] [--skip-ratings] [--skip-scipy] [--skip-harness]
 *                        [--prompts N] [--contestants N] [--concurrency N] [--in-flight N] [--fsync batch|always|none] [--reps N]`
 *
 * 1. Ratings: Bradley-Terry fit + 1,000 bootstrap rounds on 100,000 battles
 *    among 50 models (goal: under 1 s), timed end to end from battle
 *    records (preprocess, fit, bootstrap, intervals). Side by side in the
 *    same run: FastChat's method (SciPy L-BFGS-B from zero per round, on the
 *    same unique-outcome arrays) timed on a few rounds and scaled to 1,000.
 * 2. Harness: a round-robin tournament through the real tournament code
 *    against an instant OpenAI-compatible endpoint on 127.0.0.1 in its own
 *    process, journal on (fsync batch), cache off: battles per second (goal:
 *    >= 2,000/s); beside it in the same run, the same tournament with
 *    in-process contestants and judge. Each figure comes with the CPU time it
 *    took and the machine's load average, since on a shared machine battles/s
 *    follows the CPU share the bench gets.
 *
 * With --json the last stdout line is one JSON object with every figure.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { preprocessBattles } from "../lib/arena/ratings/compact.js";
import { rateBattles } from "../lib/arena/ratings/rate.js";
import { ladder, simulateBattles } from "../lib/arena/ratings/simulate.js";

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const value = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const json = flag("--json");
const log = (s: string) => process.stderr.write(s + "\n");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function benchRatings() {
  const battlesN = value("--battles", 100_000);
  const modelsN = value("--models", 50);
  const rounds = value("--rounds", 1000);
  const battles = simulateBattles({ battles: battlesN, ratings: ladder(modelsN), tieRate: 0.1, rng: 1 });
  rateBattles(battles, { bootstrap: 50 }); // warm up the JIT
  const times: number[] = [];
  const cpu: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = rateBattles(battles, { bootstrap: rounds, seed: rep });
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (r.unconverged > 0) throw new Error(`${r.unconverged} bootstrap rounds did not converge`);
  }
  const fitOnly: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    rateBattles(battles, { bootstrap: 0 });
    fitOnly.push(performance.now() - t0);
  }
  const unique = preprocessBattles(battles).count.length;
  log(`ratings: ${battlesN} battles, ${modelsN} models (${unique} unique outcome rows), BT fit + ${rounds} bootstrap rounds:`);
  log(`  wall ${median(times).toFixed(0)} ms median of 5 (min ${Math.min(...times).toFixed(0)}), cpu ${median(cpu).toFixed(0)} ms; fit alone ${median(fitOnly).toFixed(0)} ms`);
  return { battles: battlesN, models: modelsN, unique_rows: unique, rounds, wall_ms: median(times), wall_ms_min: Math.min(...times), cpu_ms: median(cpu), fit_ms: median(fitOnly), goal_ms: 1000, battlesData: battles };
}

/** FastChat's bootstrap (scipy L-BFGS-B from zero per round on the unique rows), timed on a few rounds. */
const SCIPY = String.raw`
import json, sys, time
import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
rows = json.load(open(sys.argv[1]))
a = np.array(rows["a"]); b = np.array(rows["b"]); y = np.array(rows["y"]); w = np.array(rows["w"], dtype=float)
n = int(rows["m"]); rounds = int(sys.argv[2]); alpha = np.log(10.0)
def lg(t, wt):
    x = alpha * (t[a] - t[b]); p = expit(x)
    loss = -((np.log(p) * y + np.log(1 - p) * (1 - y)) * wt).sum()
    g = -alpha * (y - p) * wt
    grad = np.bincount(a, weights=g, minlength=n) - np.bincount(b, weights=g, minlength=n)
    return loss, grad
rng = np.random.default_rng(0)
boots = rng.multinomial(w.sum().astype(int), w / w.sum(), size=rounds) / w.sum()
t0 = time.perf_counter()
for r in range(rounds):
    minimize(lg, np.zeros(n), args=(boots[r],), jac=True, method="L-BFGS-B", options={"maxiter": 100, "gtol": 1e-6})
print(json.dumps({"per_round_ms": (time.perf_counter() - t0) * 1000 / rounds}))
`;

function benchScipy(battles: ReturnType<typeof simulateBattles>) {
  const counts = preprocessBattles(battles);
  const dir = mkdtempSync(join(tmpdir(), "tslm-bench-"));
  try {
    const file = join(dir, "rows.json");
    writeFileSync(file, JSON.stringify({ a: [...counts.a], b: [...counts.b], y: [...counts.score], w: [...counts.count], m: counts.models.length }));
    const rounds = 20;
    const r = spawnSync("/usr/bin/python3", ["-c", SCIPY, file, String(rounds)], { encoding: "utf8" });
    if (r.status !== 0) {
      log(`scipy comparison skipped: ${r.stderr.trim().split("\n").pop()}`);
      return null;
    }
    const perRound = JSON.parse(r.stdout).per_round_ms as number;
    log(`  FastChat's method (SciPy L-BFGS-B from zero, single process): ${perRound.toFixed(1)} ms per round -> ~${((perRound * 1000) / 1000).toFixed(1)} s per 1,000 rounds (timed on ${rounds})`);
    return { per_round_ms: perRound, rounds_timed: rounds, estimated_1000_rounds_ms: perRound * 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An OpenAI-compatible endpoint that answers at once, in its own process (so
 * it does not share the tournament's event loop): contestants get a fixed
 * text, the judge "[[A]]", "[[B]]" or "[[C]]" by a hash of the prompt.
 * `/stats` reports its request count and CPU time.
 */
const INSTANT_SERVER = String.raw`
const { createServer } = require("node:http");
let count = 0;
const server = createServer((req, res) => {
  if (req.url === "/stats") { const c = process.cpuUsage(); res.end(JSON.stringify({ requests: count, cpu_ms: (c.user + c.system) / 1000 })); return; }
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    count++;
    const parsed = JSON.parse(body);
    let text;
    if (parsed.model === "judge") {
      const last = parsed.messages[parsed.messages.length - 1].content;
      let h = 0;
      for (let i = 0; i < last.length; i++) h = (h * 31 + last.charCodeAt(i)) >>> 0;
      text = ["Verdict: [[A]]", "Verdict: [[B]]", "Verdict: [[C]]"][h % 3];
    } else text = "Answer of " + parsed.model + ".";
    const out = JSON.stringify({ id: "x", object: "chat.completion", model: parsed.model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }] });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
    res.end(out);
  });
});
server.keepAliveTimeout = 10000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\n"));
process.stdin.on("end", () => process.exit(0)); // the bench closes stdin (or dies): stop
process.stdin.resume();
`;

interface InstantServer {
  url: string;
  stats: () => Promise<{ requests: number; cpu_ms: number }>;
  close: () => Promise<void>;
}

async function instantServer(): Promise<InstantServer> {
  const child = spawn(process.execPath, ["-e", INSTANT_SERVER], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`instant server exited with ${code}`)));
    child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/v1`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as { requests: number; cpu_ms: number },
    close: () =>
      new Promise((resolve) => {
        child.removeAllListeners("exit");
        child.once("exit", () => resolve());
        child.stdin!.end();
      }),
  };
}

/** In-process contestants and judge that answer like the instant server (a fixed text; a verdict by a hash). */
function inProcessWorld(names: string[]) {
  const contestants = Object.fromEntries(
    names.map((n) => [n, { name: n, type: "custom", identity: n, cacheable: true, generate: async () => ({ text: `Answer of ${n}.` }) }]),
  );
  const judge = {
    id: "judge",
    type: "custom",
    identity: "instant-judge",
    cacheable: true,
    orders: "both" as const,
    disagreement: "tie" as const,
    strongWeight: 1,
    judge: async (x: { prompt: { id: string }; first: string; second: string }) => {
      const s = x.prompt.id + x.first + x.second;
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
      return { verdict: (["first", "second", "tie"] as const)[h % 3] };
    },
  };
  return { contestants, judges: { judge } };
}

type Mode = "http" | "in-process";

interface HarnessRun {
  battles: number;
  wall_ms: number;
  battles_per_s: number;
  /** CPU time of the tournament's process (user + system). */
  cpu_ms: number;
  /** Battles per second of the tournament process's CPU time: what one free core would give. */
  battles_per_cpu_s: number;
  errors: number;
  /** HTTP only: requests served and the endpoint process's CPU time. */
  requests?: number;
  server_cpu_ms?: number;
}

/**
 * Harness throughput: the same round robin (C contestants x P prompts, judge
 * in both orders, journal on with fsync batch, cache off) played over HTTP
 * against the instant endpoint, and with in-process contestants and judge,
 * alternating, `--reps` times each after one warm-up run of each.
 */
async function benchHarness() {
  const { runTournament } = await import("../lib/arena/run.js");
  const dir = mkdtempSync(join(tmpdir(), "tslm-bench-arena-"));
  const server = await instantServer();
  const load = { before: loadavg().map((x) => +x.toFixed(2)), after: [] as number[], cpus: cpus().length };
  try {
    const suite = join(dir, "suite");
    mkdirSync(suite);
    const promptsN = value("--prompts", 60);
    const reps = value("--reps", 5);
    writeFileSync(join(suite, "suite.yaml"), "name: bench\nversion: '1'\ndescription: generated prompts\ncategories: [general]\n");
    writeFileSync(join(suite, "prompts.jsonl"), Array.from({ length: promptsN }, (_, i) => JSON.stringify({ id: `p${i}`, category: "general", prompt: `Question ${i}?` })).join("\n") + "\n");
    const endpoint = { base_url: server.url, concurrency: value("--concurrency", 64), timeout_ms: 10_000, retries: 2, backoff_ms: 1 };
    const fsyncPolicy = args.includes("--fsync") ? args[args.indexOf("--fsync") + 1] : "batch";
    const names = Array.from({ length: value("--contestants", 8) }, (_, i) => `m${i}`);
    const world = inProcessWorld(names);
    let n = 0;
    const play = async (mode: Mode, prompts = promptsN): Promise<HarnessRun> => {
      const common = { name: `bench-${n++}`, out: dir, seed: 0, suite, cache: false, fsync: fsyncPolicy, max_in_flight: value("--in-flight", 256), prompts: { limit: prompts } };
      const config =
        mode === "http"
          ? { ...common, contestants: names.map((m) => ({ name: m, type: "openai", model: m, ...endpoint })), judge: { type: "llm", model: "judge", orders: "both", ...endpoint } }
          : { ...common, contestants: names.map((m) => ({ name: m, type: "custom" })), judge: { type: "custom", id: "judge" } };
      const s0 = mode === "http" ? await server.stats() : undefined;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const run = await runTournament(config as never, { progress: "off", ...(mode === "in-process" ? (world as never) : {}) });
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1000;
      const s1 = s0 ? await server.stats() : undefined;
      rmSync(run.dir, { recursive: true, force: true });
      const battles = run.battles.length;
      return {
        battles,
        wall_ms: +wall.toFixed(1),
        battles_per_s: Math.round((battles * 1000) / wall),
        cpu_ms: Math.round(cpu),
        battles_per_cpu_s: Math.round((battles * 1000) / cpu),
        errors: run.errors.battles.length,
        ...(s0 && s1 ? { requests: s1.requests - s0.requests, server_cpu_ms: Math.round(s1.cpu_ms - s0.cpu_ms) } : {}),
      };
    };
    // Warm-up (JIT, connections), not counted.
    await play("http", Math.min(promptsN, 20));
    await play("in-process", Math.min(promptsN, 20));
    const runs: Record<Mode, HarnessRun[]> = { http: [], "in-process": [] };
    for (let r = 0; r < reps; r++) for (const mode of ["http", "in-process"] as const) runs[mode].push(await play(mode));
    load.after = loadavg().map((x) => +x.toFixed(2));
    const summary = (mode: Mode) => {
      const rs = runs[mode];
      const med = (f: (r: HarnessRun) => number) => median(rs.map(f));
      return {
        battles_per_s: med((r) => r.battles_per_s),
        battles_per_s_best: Math.max(...rs.map((r) => r.battles_per_s)),
        battles_per_cpu_s: med((r) => r.battles_per_cpu_s),
        cpu_us_per_battle: Math.round((med((r) => r.cpu_ms) * 1000) / rs[0].battles),
        ...(mode === "http" ? { server_cpu_us_per_battle: Math.round((med((r) => r.server_cpu_ms!) * 1000) / rs[0].battles), requests: rs[0].requests } : {}),
        runs: rs,
      };
    };
    const http = summary("http");
    const inProcess = summary("in-process");
    const battles = runs.http[0].battles;
    log(`harness: ${battles} battles a run (${names.length} contestants x ${promptsN} prompts, round robin, judge in both orders), journal fsync ${fsyncPolicy}, cache off; median of ${reps} runs each:`);
    log(`  over HTTP (endpoint in its own process, ${http.requests} requests a run): ${http.battles_per_s} battles/s (best ${http.battles_per_s_best}); ${http.cpu_us_per_battle} us CPU a battle here (${http.battles_per_cpu_s} battles per CPU-second), ${http.server_cpu_us_per_battle} us in the endpoint`);
    log(`  in process (custom contestants and judge):  ${inProcess.battles_per_s} battles/s (best ${inProcess.battles_per_s_best}); ${inProcess.cpu_us_per_battle} us CPU a battle (${inProcess.battles_per_cpu_s} battles per CPU-second)`);
    log(`  load average ${load.before.join(", ")} before, ${load.after.join(", ")} after (1/5/15 min) on ${load.cpus} CPUs`);
    return { battles, contestants: names.length, prompts: promptsN, fsync: fsyncPolicy, reps, goal_battles_per_s: 2000, load, http, in_process: inProcess };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ratings = flag("--skip-ratings") ? null : benchRatings();
const scipy = flag("--skip-scipy") || !ratings ? null : benchScipy(ratings.battlesData);
const harness = flag("--skip-harness") ? null : await benchHarness();
const result = {
  bench: "arena",
  ratings: ratings && { ...(({ battlesData: _drop, ...rest }) => rest)(ratings), scipy_fastchat: scipy, speedup_vs_scipy: scipy ? scipy.estimated_1000_rounds_ms / ratings.wall_ms : null },
  harness,
};
if (json) process.stdout.write(JSON.stringify(result) + "\n");
else process.stdout.write(JSON.stringify(result, null, 2) + "\n");
