/**
 * The kernel's Jupyter side: five ZeroMQ sockets and the message handlers.
 *
 * Differences from tslab's server, each fixing a known gap:
 * - `execute_input` with an execution count before every cell;
 * - the last expression's value as `execute_result` (rich bundle for objects
 *   with `[Symbol.for("Jupyter.display")]()`, `text/plain` always);
 * - failures as `error` messages and error replies with ename, evalue and
 *   traceback (TypeScript diagnostics included);
 * - after an error only requests already queued are aborted (when the failed
 *   request asked for `stop_on_error`); later requests always run;
 * - `shutdown_request` ends the process even with timers pending.
 */
import { randomUUID } from "node:crypto";
import type { Publisher, Reply, Router } from "zeromq";
import { child, decode, encode, type ConnectionInfo, type Message } from "./protocol.js";
import type { Executor } from "./executor.js";
import { thrownError, type ErrorContent } from "./errors.js";
import type { StreamCapture } from "./streams.js";

type Bundle = Record<string, unknown>;

export interface ServerDeps {
  connection: ConnectionInfo;
  /** Resolves once the library is preloaded; requests that run code wait for it. */
  executor: Promise<Executor>;
  kernelInfo(): Record<string, unknown>;
  /** A value's MIME bundle (the library's `toBundle`). */
  toBundle(value: unknown): Promise<Bundle>;
  isComplete(code: string): Promise<{ completed: boolean; indent?: string }>;
  /** Installed once the IOPub socket exists. */
  captureStreams(send: (name: "stdout" | "stderr", text: string) => boolean): StreamCapture;
  /** A message (e.g. a preload failure) shown on the first cell's stderr. */
  startupNotice?: () => string | undefined;
  exit(code: number): never;
}

interface Sockets {
  shell: Router;
  control: Router;
  stdin: Router;
  iopub: Publisher;
  hb: Reply;
}

export interface KernelServer {
  /** Publishes display data for the display API (on the current cell). */
  publishDisplay(data: Bundle, options: { displayId?: string; update?: boolean; metadata?: Record<string, unknown> }): void;
  /** Async work the current cell's reply waits for. */
  track(work: Promise<unknown>): void;
  /** Sends a stream message on the current cell; false when no cell ran yet. */
  sendStream(name: "stdout" | "stderr", text: string): boolean;
  /** Closes sockets and ends the process. */
  shutdown(code?: number): Promise<never>;
  readonly streams: StreamCapture;
}

export async function startServer(deps: ServerDeps): Promise<KernelServer> {
  const zmq = await import("zeromq");
  const conn = deps.connection;
  if (conn.key && conn.signature_scheme && conn.signature_scheme !== "hmac-sha256") {
    throw new Error(`unsupported signature_scheme ${JSON.stringify(conn.signature_scheme)} in the connection file; expected "hmac-sha256"`);
  }
  const key = conn.key;
  const session = randomUUID();
  const s: Sockets = {
    shell: new zmq.Router(),
    control: new zmq.Router(),
    stdin: new zmq.Router(),
    iopub: new zmq.Publisher(),
    hb: new zmq.Reply(),
  };
  const address = (port: number) => (conn.transport === "ipc" ? `ipc://${conn.ip}-${port}` : `tcp://${conn.ip}:${port}`);
  await Promise.all([
    s.shell.bind(address(conn.shell_port)),
    s.control.bind(address(conn.control_port)),
    s.stdin.bind(address(conn.stdin_port)),
    s.iopub.bind(address(conn.iopub_port)),
    s.hb.bind(address(conn.hb_port)),
  ]);

  // IOPub sends go through one queue: zeromq allows one pending send per socket.
  let iopubChain: Promise<void> = Promise.resolve();
  const publish = (msg: Message<unknown>) => {
    const frames = encode(msg, key);
    iopubChain = iopubChain.then(() => s.iopub.send(frames)).catch(() => undefined);
  };
  const sendChains = new Map<Router, Promise<void>>();
  const send = (sock: Router, msg: Message<unknown>) => {
    const frames = encode(msg, key);
    const next = (sendChains.get(sock) ?? Promise.resolve()).then(() => sock.send(frames)).catch(() => undefined);
    sendChains.set(sock, next);
    return next;
  };
  const status = (parent: Message | undefined, state: "busy" | "idle" | "starting") => publish(child(parent, "status", { execution_state: state }, session));
  const reply = (sock: Router, parent: Message, type: string, content: unknown) => send(sock, child(parent, type, content, session, parent.identities));

  let executionCount = 0;
  let current: Message | undefined; // the cell outputs belong to
  let tracked: Promise<unknown>[] = [];
  let shuttingDown = false;

  const sendStream = (name: "stdout" | "stderr", text: string): boolean => {
    if (!current) return false;
    publish(child(current, "stream", { name, text }, session));
    return true;
  };
  const streams = deps.captureStreams(sendStream);

  const publishDisplay: KernelServer["publishDisplay"] = (data, options) => {
    streams.flush();
    const content = { data, metadata: options.metadata ?? {}, transient: options.displayId ? { display_id: options.displayId } : {} };
    if (!current) return;
    publish(child(current, options.update ? "update_display_data" : "display_data", content, session));
  };

  const track = (work: Promise<unknown>) => {
    tracked.push(work);
    work.catch((e: unknown) => streams.log(`tslm kernel: background display failed: ${String(e)}`));
  };

  // ---- shell: one request at a time, in arrival order ----
  const queue: { sock: Router; msg: Message }[] = [];
  let wake: (() => void) | undefined;

  async function handleExecute(sock: Router, msg: Message): Promise<"ok" | "error"> {
    const c = msg.content as { code?: string; silent?: boolean; store_history?: boolean };
    const code = String(c.code ?? "");
    const silent = Boolean(c.silent);
    const storeHistory = c.store_history ?? !silent;
    if (storeHistory && !silent) executionCount += 1;
    const count = executionCount;
    current = msg;
    tracked = [];
    if (!silent) publish(child(msg, "execute_input", { code, execution_count: count }, session));
    const notice = deps.startupNotice?.();
    if (notice) process.stderr.write(notice);

    let error: ErrorContent | undefined;
    let result: Bundle | undefined;
    try {
      const executor = await deps.executor;
      const outcome = await executor.execute(code, `cell[${count}]`);
      // Displays started by the cell (async chart renders) finish before the reply.
      const settled = await Promise.allSettled(tracked);
      const failed = settled.find((r) => r.status === "rejected");
      if (!outcome.ok) error = outcome.error;
      else if (failed) error = thrownError((failed as PromiseRejectedResult).reason);
      else if (outcome.hasValue && outcome.value !== undefined && !silent) result = await deps.toBundle(outcome.value);
    } catch (e) {
      error = thrownError(e);
    }
    streams.flush();
    if (result) publish(child(msg, "execute_result", { execution_count: count, data: result, metadata: {} }, session));
    if (error) {
      if (!silent) publish(child(msg, "error", error, session));
      // Abort what was queued before this reply; requests sent after seeing it always run.
      const stopOnError = (msg.content as { stop_on_error?: boolean }).stop_on_error ?? true;
      const aborted = stopOnError ? takeQueuedExecutes() : [];
      await reply(sock, msg, "execute_reply", { status: "error", execution_count: count, ...error });
      for (const a of aborted) {
        status(a.msg, "busy");
        void reply(a.sock, a.msg, "execute_reply", { status: "aborted", execution_count: null });
        status(a.msg, "idle");
      }
      return "error";
    }
    await reply(sock, msg, "execute_reply", { status: "ok", execution_count: count, user_expressions: {}, payload: [] });
    return "ok";
  }

  async function handle(sock: Router, msg: Message, channel: "shell" | "control"): Promise<void> {
    const type = msg.header.msg_type;
    status(msg, "busy");
    try {
      switch (type) {
        case "kernel_info_request":
          await reply(sock, msg, "kernel_info_reply", deps.kernelInfo());
          break;
        case "execute_request":
          await handleExecute(sock, msg);
          break;
        case "is_complete_request": {
          const r = await deps.isComplete(String((msg.content as { code?: string }).code ?? ""));
          await reply(sock, msg, "is_complete_reply", r.completed ? { status: "complete" } : { status: "incomplete", indent: r.indent ?? "" });
          break;
        }
        case "complete_request": {
          const { code, cursor_pos } = msg.content as { code: string; cursor_pos: number };
          const info = await (await deps.executor).complete(code, cursor_pos);
          await reply(sock, msg, "complete_reply", { status: "ok", matches: info.candidates, cursor_start: info.start, cursor_end: info.end, metadata: {} });
          break;
        }
        case "inspect_request": {
          const { code, cursor_pos } = msg.content as { code: string; cursor_pos: number };
          const text = await (await deps.executor).inspect(code, cursor_pos);
          await reply(sock, msg, "inspect_reply", text ? { status: "ok", found: true, data: { "text/plain": text }, metadata: {} } : { status: "ok", found: false, data: {}, metadata: {} });
          break;
        }
        case "comm_info_request":
          await reply(sock, msg, "comm_info_reply", { status: "ok", comms: {} });
          break;
        case "history_request":
          await reply(sock, msg, "history_reply", { status: "ok", history: [] });
          break;
        case "interrupt_request":
          (await Promise.race([deps.executor, Promise.resolve(undefined)]))?.interrupt();
          await reply(sock, msg, "interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request": {
          const restart = Boolean((msg.content as { restart?: boolean }).restart);
          await reply(sock, msg, "shutdown_reply", { status: "ok", restart });
          status(msg, "idle");
          await shutdown(0);
          break;
        }
        case "comm_open":
        case "comm_msg":
        case "comm_close":
          break; // no widgets (comms) yet; Jupyter's spec says unknown comms are ignored
        default:
          streams.log(`tslm kernel: ignoring unsupported ${channel} message ${type}`);
      }
    } catch (e) {
      streams.log(`tslm kernel: failed to handle ${type}: ${(e as Error).stack ?? String(e)}`);
    } finally {
      status(msg, "idle");
    }
  }

  /** Removes and returns the execute requests waiting in the queue. */
  function takeQueuedExecutes(): { sock: Router; msg: Message }[] {
    const taken = queue.filter((q) => q.msg.header.msg_type === "execute_request");
    for (const t of taken) queue.splice(queue.indexOf(t), 1);
    return taken;
  }

  async function receive(sock: Router, channel: "shell" | "control") {
    for await (const frames of sock) {
      let msg: Message;
      try {
        msg = decode(frames, key);
      } catch (e) {
        streams.log(`tslm kernel: dropped a ${channel} message: ${(e as Error).message}`);
        continue;
      }
      if (channel === "control") void handle(sock, msg, "control");
      else {
        queue.push({ sock, msg });
        wake?.();
      }
    }
  }

  async function work() {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      await handle(next.sock, next.msg, "shell");
    }
  }

  async function heartbeat() {
    for await (const frames of s.hb) await s.hb.send(frames);
  }

  async function shutdown(code = 0): Promise<never> {
    if (!shuttingDown) {
      shuttingDown = true;
      streams.flush();
      // Let the reply and the last status leave before the sockets close.
      await Promise.race([Promise.all([iopubChain, ...sendChains.values()]), new Promise((r) => setTimeout(r, 500))]);
      for (const sock of Object.values(s)) sock.close();
    }
    return deps.exit(code);
  }

  const swallow = (what: string) => (e: unknown) => {
    if (!shuttingDown) streams.log(`tslm kernel: ${what} stopped: ${String(e)}`);
  };
  void receive(s.shell, "shell").catch(swallow("shell"));
  void receive(s.control, "control").catch(swallow("control"));
  void heartbeat().catch(swallow("heartbeat"));
  void work();
  status(undefined, "starting");

  return { publishDisplay, track, sendStream, shutdown, streams };
}
