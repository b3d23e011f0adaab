/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat completions API,
 * driven by a script: each request's reply is a function of its body and of
 * how many times that exact body was seen, so tests inject 429s, 5xx,
 * hangs, malformed bodies and garbage verdicts deterministically.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";

export interface ChatMessageLike {
  role: string;
  content: string;
}

export interface ScriptedRequest {
  model: string;
  messages: ChatMessageLike[];
  body: Record<string, unknown>;
  /** 1 for the first time this exact body arrives, 2 for its first retry, ... */
  attempt: number;
  /** sha256 of the body: stable id of "the same request". */
  hash: string;
  authorization?: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export type Reply =
  | { text: string; delayMs?: number }
  | { status: number; body?: string; retryAfter?: number | string }
  | { hang: true }
  | { raw: string };

export interface ScriptedServer {
  /** Base URL including /v1. */
  url: string;
  port: number;
  requests: ScriptedRequest[];
  /** Replies by kind, for assertions. */
  served: { ok: number; status: number; hang: number; raw: number };
  /** Most requests in flight at once, by model. */
  maxInFlight: Map<string, number>;
  close(): Promise<void>;
}

export async function startScriptedServer(script: (req: ScriptedRequest) => Reply | Promise<Reply>, port = 0): Promise<ScriptedServer> {
  const seen = new Map<string, number>();
  const requests: ScriptedRequest[] = [];
  const served = { ok: 0, status: 0, hang: 0, raw: 0 };
  const hanging = new Set<ServerResponse>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      if (req.method !== "POST" || !req.url?.endsWith("/v1/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const hash = createHash("sha256").update(text).digest("hex");
      const attempt = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, attempt);
      const r: ScriptedRequest = {
        model: String(body.model),
        messages: body.messages as ChatMessageLike[],
        body,
        attempt,
        hash,
        authorization: req.headers.authorization,
        at: performance.now(),
      };
      requests.push(r);
      inFlight.set(r.model, (inFlight.get(r.model) ?? 0) + 1);
      maxInFlight.set(r.model, Math.max(maxInFlight.get(r.model) ?? 0, inFlight.get(r.model)!));
      res.on("close", () => inFlight.set(r.model, inFlight.get(r.model)! - 1));
      let reply: Reply;
      try {
        reply = await script(r);
      } catch (e) {
        reply = { status: 500, body: `script failed: ${(e as Error).message}` };
      }
      if ("hang" in reply) {
        served.hang++;
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      if ("raw" in reply) {
        served.raw++;
        res.writeHead(200, { "content-type": "application/json" }).end(reply.raw);
        return;
      }
      if ("status" in reply) {
        served.status++;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
        res.writeHead(reply.status, headers).end(reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}` } }));
        return;
      }
      const content = reply.text;
      const send = () => {
        served.ok++;
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: `chatcmpl-${hash.slice(0, 12)}`,
            object: "chat.completion",
            model: r.model,
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
            usage: { prompt_tokens: 10, completion_tokens: content.split(/\s+/).length, total_tokens: 10 + content.split(/\s+/).length },
          }),
        );
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  // Node clients drop sockets whose keep-alive hint is under ~1 s; close() ends idle sockets anyway.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/v1`,
    port: bound,
    requests,
    served,
    maxInFlight,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
