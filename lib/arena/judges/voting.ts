/**
 * A voting page for human judges: a small HTTP server (127.0.0.1 by
 * default) that shows each ballot of the tournament's human judges (the
 * conversation, then answers A and B side by side, no model names) with
 * buttons A, B, Tie and Both bad (keys 1-4), and records each vote through
 * the judge, which journals it. `tslm arena run CONFIG --vote` starts one.
 *
 * Every API call must carry the token of the URL printed at start (header
 * `x-tslm-token`), so other local users and other sites' pages cannot vote.
 * Answers are shown as text, never as HTML.
 *
 * The page shows every human judge's ballots, or one judge's with
 * `&judge=ID` in its address (one person per judge id in an ensemble).
 *
 * API: `GET /api/next[?judge=ID]` waits up to 20 s for a ballot and answers
 * `{ballot, judge, pending, voted}`, `{waiting: true}` or `{done: true}`;
 * `POST /api/vote` takes `{judge, ballot, vote}` with vote A, B, tie or both_bad.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { HUMAN_VOTES, isHumanVote, type Ballot, type HumanJudge } from "./human.js";

export interface VotingServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Access token (default: 24 random bytes, hex). */
  token?: string;
  /** How long `GET /api/next` waits for a ballot before answering `{waiting: true}` (default 20 s). */
  waitMs?: number;
}

export interface VotingServer {
  /** The page's address, token included: open it in a browser. */
  url: string;
  port: number;
  /** Puts a human judge's ballots on the page (judges can join while the server runs). */
  add(judge: HumanJudge): void;
  /** Tells the page the tournament is over (waiting pages show so). */
  finish(): void;
  /** Votes recorded through the page. */
  readonly voted: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** The page's state: its human judges, the votes taken and the long polls waiting for a ballot. */
class VotingDesk {
  readonly judges = new Map<string, HumanJudge>();
  done = false;
  voted = 0;
  /** Long polls waiting for a ballot or the end, woken by add(), a new ballot or finish(). */
  private readonly waiting = new Set<() => void>();

  constructor(private readonly waitMs: number) {}

  readonly wake = (): void => {
    for (const w of [...this.waiting]) w();
  };

  add(judge: HumanJudge): void {
    this.judges.set(judge.id, judge);
    judge.subscribe(this.wake);
    this.wake();
  }

  finish(): void {
    this.done = true;
    this.wake();
  }

  /** The oldest ballot waiting (of one judge when `only` is given) and how many wait. */
  private firstPending(only: string | null): { judge: HumanJudge; ballot: Ballot; pending: number } | null {
    let pending = 0;
    let first: { judge: HumanJudge; ballot: Ballot } | null = null;
    for (const j of this.judges.values()) {
      if (only !== null && j.id !== only) continue;
      const p = j.pending();
      pending += p.length;
      if (!first && p.length > 0) first = { judge: j, ballot: p[0] };
    }
    return first ? { ...first, pending } : null;
  }

  /** `GET /api/next`: the next ballot, the end, or `waiting` after waitMs. */
  async next(res: ServerResponse, only: string | null, closed: () => boolean): Promise<void> {
    const judges = this.judges;
    if (only !== null && judges.size > 0 && !judges.has(only)) return json(res, 404, { error: `no human judge '${only}' (judges: ${[...judges.keys()].join(", ")})` });
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const p = this.firstPending(only);
      if (p) return json(res, 200, { judge: p.judge.id, ballot: p.ballot, pending: p.pending, voted: this.voted });
      if (this.done) return json(res, 200, { done: true, voted: this.voted });
      const left = deadline - Date.now();
      if (left <= 0 || closed()) return json(res, 200, { waiting: true, voted: this.voted });
      await new Promise<void>((resolve) => {
        const waiting = this.waiting;
        const t = setTimeout(finishWait, left);
        function finishWait() {
          clearTimeout(t);
          waiting.delete(finishWait);
          resolve();
        }
        waiting.add(finishWait);
      });
    }
  }

  /** `POST /api/vote`: records `{judge, ballot, vote}` through the judge. */
  async vote(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === null) return json(res, 413, { error: `request body over ${MAX_BODY} bytes` }, true);
    let v: unknown;
    try {
      v = JSON.parse(body);
    } catch {
      return json(res, 400, { error: "body must be JSON: {judge, ballot, vote}" });
    }
    const { judge: judgeId, ballot, vote: choice } = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
    if (typeof judgeId !== "string" || typeof ballot !== "string") return json(res, 400, { error: "body must be a JSON object {judge, ballot, vote} with string judge and ballot" });
    if (!isHumanVote(choice)) return json(res, 400, { error: `vote must be one of ${HUMAN_VOTES.join(", ")}; got ${JSON.stringify(choice)}` });
    const judge = this.judges.get(judgeId);
    if (!judge) return json(res, 404, { error: `no human judge '${judgeId}'` });
    if (!judge.pending().some((b) => b.id === ballot)) return json(res, 409, { error: `ballot '${ballot}' is not waiting for a vote (voted already, or the run moved on)` });
    judge.vote(ballot, choice);
    this.voted++;
    return json(res, 200, { ok: true, voted: this.voted });
  }
}

/** The server's routes: the page, then the API behind the token. */
function routes(desk: VotingDesk, token: string): (req: IncomingMessage, res: ServerResponse) => void {
  const authorised = (req: IncomingMessage): boolean => {
    const given = Buffer.from(String(req.headers["x-tslm-token"] ?? ""));
    const want = Buffer.from(token);
    return given.length === want.length && timingSafeEqual(given, want);
  };
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    res.setHeader("cache-control", "no-store");
    res.setHeader("x-content-type-options", "nosniff");
    if (req.method === "GET" && url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": `default-src 'none'; script-src '${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'` });
      res.end(PAGE);
      return;
    }
    if (!url.pathname.startsWith("/api/")) return json(res, 404, { error: `no page ${url.pathname}` });
    if (!authorised(req)) return json(res, 403, { error: "missing or wrong x-tslm-token header (use the address tslm printed)" });
    let closed = false;
    req.on("close", () => (closed = true));
    const route =
      req.method === "GET" && url.pathname === "/api/next" ? desk.next(res, url.searchParams.get("judge"), () => closed) : req.method === "POST" && url.pathname === "/api/vote" ? desk.vote(req, res) : null;
    if (!route) return json(res, 404, { error: `no ${req.method} ${url.pathname}` });
    route.catch((e: Error) => {
      if (!res.headersSent) json(res, 500, { error: e.message });
    });
  };
}

export async function startVotingServer(options: VotingServerOptions = {}): Promise<VotingServer> {
  const token = options.token ?? randomBytes(24).toString("hex");
  const desk = new VotingDesk(options.waitMs ?? 20_000);
  const server = createServer(routes(desk, token));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/?token=${token}`,
    port: address.port,
    add: (judge) => desk.add(judge),
    finish: () => desk.finish(),
    get voted() {
      return desk.voted;
    },
    async close(): Promise<void> {
      // Waiting pages first hear that the run is over; then the connections go.
      desk.finish();
      await new Promise((r) => setTimeout(r, 50));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...(closeConnection ? { connection: "close" } : {}) });
  res.end(JSON.stringify(body));
}

/** The request body as text, or null past MAX_BODY (the rest is drained, so the 413 reaches the client). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY) {
      req.resume();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The voting page: plain DOM, text only (answers never become HTML). */
/** The page's one script; the Content-Security-Policy allows exactly it (by hash), nothing inline besides. */
const SCRIPT = `
const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const only = params.get("judge");
const $ = (id) => document.getElementById(id);
let current = null;
function setState(s, text) { document.body.dataset.state = s; $("status").textContent = text; }
async function api(path, body) {
  const r = await fetch(path, body ? { method: "POST", headers: { "x-tslm-token": token, "content-type": "application/json" }, body: JSON.stringify(body) } : { headers: { "x-tslm-token": token } });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
  return j;
}
function show(j) {
  current = j;
  const b = j.ballot;
  $("meta").textContent = "prompt " + b.prompt_id + (b.category ? " \\u00b7 " + b.category : "") + " \\u00b7 judge " + j.judge;
  const conv = $("conversation");
  conv.replaceChildren();
  for (const m of b.messages) {
    const d = document.createElement("div");
    d.className = "msg";
    const r = document.createElement("span");
    r.className = "role";
    r.textContent = m.role;
    d.append(r, document.createTextNode(m.content));
    conv.append(d);
  }
  $("answer-a").querySelector(".text").textContent = b.a;
  $("answer-b").querySelector(".text").textContent = b.b;
  $("ballot").hidden = false;
  $("message").textContent = "";
  for (const btn of document.querySelectorAll("button")) btn.disabled = false;
  document.body.dataset.ballot = b.id;
  setState("ballot", j.voted + " voted, " + j.pending + " waiting");
}
async function poll() {
  for (;;) {
    try {
      const j = await api("/api/next" + (only ? "?judge=" + encodeURIComponent(only) : ""));
      $("error").textContent = "";
      if (j.ballot) return show(j);
      if (j.done) {
        $("ballot").hidden = true;
        $("message").textContent = "The tournament is over: thank you. " + j.voted + " votes recorded.";
        return setState("done", "finished");
      }
      $("ballot").hidden = true;
      $("message").textContent = "Waiting for the next pair of answers...";
      setState("waiting", j.voted + " voted");
    } catch (e) {
      $("error").textContent = String(e.message || e);
      setState("error", "cannot reach tslm");
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
async function vote(v) {
  if (!current) return;
  const c = current;
  current = null;
  for (const btn of document.querySelectorAll("button")) btn.disabled = true;
  try {
    await api("/api/vote", { judge: c.judge, ballot: c.ballot.id, vote: v });
  } catch (e) {
    $("error").textContent = String(e.message || e);
  }
  poll();
}
for (const btn of document.querySelectorAll("button")) btn.addEventListener("click", () => vote(btn.dataset.vote));
document.addEventListener("keydown", (e) => { const v = { 1: "A", 2: "B", 3: "tie", 4: "both_bad" }[e.key]; if (v) vote(v); });
poll();
`;
const SCRIPT_HASH = `sha256-${createHash("sha256").update(SCRIPT).digest("base64")}`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tslm arena: vote</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
header{padding:10px 20px;background:#fff;border-bottom:1px solid #ddd;display:flex;gap:16px;align-items:baseline}
header h1{font-size:17px;margin:0}#status{color:#666}
main{padding:16px 20px;max-width:1300px;margin:auto}
.msg{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:6px 0;white-space:pre-wrap}
.role{font-size:12px;text-transform:uppercase;color:#888;display:block}
.answers{display:grid;grid-template-columns:1fr 1fr;gap:14px;margin-top:14px}
.answer{background:#fff;border:2px solid #ccd;border-radius:6px;padding:10px 14px;white-space:pre-wrap;min-height:80px}
.answer h2{font-size:14px;margin:0 0 6px}
.buttons{display:flex;gap:10px;margin:16px 0}
button{font-size:15px;padding:8px 18px;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
#error{color:#b00020;white-space:pre-wrap}
</style></head>
<body data-state="loading">
<header><h1>tslm arena</h1><span id="status">connecting</span></header>
<main>
<div id="ballot" hidden>
  <div id="meta" class="role"></div>
  <div id="conversation"></div>
  <div class="answers">
    <div class="answer" id="answer-a"><h2>Answer A</h2><div class="text"></div></div>
    <div class="answer" id="answer-b"><h2>Answer B</h2><div class="text"></div></div>
  </div>
  <div class="buttons">
    <button data-vote="A">A is better (1)</button>
    <button data-vote="B">B is better (2)</button>
    <button data-vote="tie">Tie (3)</button>
    <button data-vote="both_bad">Both bad (4)</button>
  </div>
</div>
<p id="message"></p>
<p id="error"></p>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
