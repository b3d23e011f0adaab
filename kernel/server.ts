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

/** A shell request waiting its turn (one request at a time, in arrival order). */
interface Queued {
  sock: Router;
  msg: Message;
}

/** What the handlers share: the sockets, the signed senders, the cell being run and the queue. */
interface ServerState {
  deps: ServerDeps;
  s: Sockets;
  session: string;
  /** Publishes on IOPub (one queued send at a time: zeromq allows one pending send per socket). */
  publish(msg: Message<unknown>): void;
  /** Replies on a router socket (queued per socket). */
  reply(sock: Router, parent: Message, type: string, content: unknown): Promise<void>;
  status(parent: Message | undefined, state: "busy" | "idle" | "starting"): void;
  /** Resolves when every send queued so far has left. */
  drained(): Promise<unknown>;
  /** A stream message on the current cell; false when no cell ran yet. */
  sendStream(name: "stdout" | "stderr", text: string): boolean;
  streams: StreamCapture;
  executionCount: number;
  /** The cell outputs belong to. */
  current?: Message;
  tracked: Promise<unknown>[];
  queue: Queued[];
  wake?: () => void;
  shuttingDown: boolean;
}

export async function startServer(deps: ServerDeps): Promise<KernelServer> {
  const conn = deps.connection;
  if (conn.key && conn.signature_scheme && conn.signature_scheme !== "hmac-sha256") {
    throw new Error(`unsupported signature_scheme ${JSON.stringify(conn.signature_scheme)} in the connection file; expected "hmac-sha256"`);
  }
  const st = createState(deps, await bindSockets(conn));
  const publishDisplay: KernelServer["publishDisplay"] = (data, options) => {
    st.streams.flush();
    const content = { data, metadata: options.metadata ?? {}, transient: options.displayId ? { display_id: options.displayId } : {} };
    if (!st.current) return;
    st.publish(child(st.current, options.update ? "update_display_data" : "display_data", content, st.session));
  };
  const track = (work: Promise<unknown>) => {
    st.tracked.push(work);
    work.catch((e: unknown) => st.streams.log(`tslm kernel: background display failed: ${String(e)}`));
  };
  const swallow = (what: string) => (e: unknown) => {
    if (!st.shuttingDown) st.streams.log(`tslm kernel: ${what} stopped: ${String(e)}`);
  };
  void receive(st, st.s.shell, "shell").catch(swallow("shell"));
  void receive(st, st.s.control, "control").catch(swallow("control"));
  void heartbeat(st.s.hb).catch(swallow("heartbeat"));
  void work(st);
  st.status(undefined, "starting");
  return { publishDisplay, track, sendStream: st.sendStream, shutdown: (code) => shutdown(st, code), streams: st.streams };
}

async function bindSockets(conn: ConnectionInfo): Promise<Sockets> {
  const zmq = await import("zeromq");
  const s: Sockets = { shell: new zmq.Router(), control: new zmq.Router(), stdin: new zmq.Router(), iopub: new zmq.Publisher(), hb: new zmq.Reply() };
  const address = (port: number) => (conn.transport === "ipc" ? `ipc://${conn.ip}-${port}` : `tcp://${conn.ip}:${port}`);
  await Promise.all([
    s.shell.bind(address(conn.shell_port)),
    s.control.bind(address(conn.control_port)),
    s.stdin.bind(address(conn.stdin_port)),
    s.iopub.bind(address(conn.iopub_port)),
    s.hb.bind(address(conn.hb_port)),
  ]);
  return s;
}

/** The state with its senders (every message signed with the connection's key, sends queued per socket) and the captured streams. */
function createState(deps: ServerDeps, s: Sockets): ServerState {
  const key = deps.connection.key;
  const session = randomUUID();
  let iopubChain: Promise<void> = Promise.resolve();
  const sendChains = new Map<Router, Promise<void>>();
  const publish = (msg: Message<unknown>) => {
    const frames = encode(msg, key);
    iopubChain = iopubChain.then(() => s.iopub.send(frames)).catch(() => undefined);
  };
  const send = (sock: Router, msg: Message<unknown>) => {
    const frames = encode(msg, key);
    const next = (sendChains.get(sock) ?? Promise.resolve()).then(() => sock.send(frames)).catch(() => undefined);
    sendChains.set(sock, next);
    return next;
  };
  const sendStream = (name: "stdout" | "stderr", text: string): boolean => {
    if (!st.current) return false;
    publish(child(st.current, "stream", { name, text }, session));
    return true;
  };
  const st: ServerState = {
    deps,
    s,
    session,
    publish,
    reply: (sock, parent, type, content) => send(sock, child(parent, type, content, session, parent.identities)),
    status: (parent, state) => publish(child(parent, "status", { execution_state: state }, session)),
    drained: () => Promise.all([iopubChain, ...sendChains.values()]),
    sendStream,
    streams: deps.captureStreams(sendStream),
    executionCount: 0,
    tracked: [],
    queue: [],
    shuttingDown: false,
  };
  return st;
}

async function handleExecute(st: ServerState, sock: Router, msg: Message): Promise<"ok" | "error"> {
  const c = msg.content as { code?: string; silent?: boolean; store_history?: boolean };
  const code = String(c.code ?? "");
  const silent = Boolean(c.silent);
  const storeHistory = c.store_history ?? !silent;
  if (storeHistory && !silent) st.executionCount += 1;
  const count = st.executionCount;
  st.current = msg;
  st.tracked = [];
  if (!silent) st.publish(child(msg, "execute_input", { code, execution_count: count }, st.session));
  const notice = st.deps.startupNotice?.();
  if (notice) process.stderr.write(notice);

  const { error, result } = await runCell(st, code, count, silent);
  st.streams.flush();
  if (result) st.publish(child(msg, "execute_result", { execution_count: count, data: result, metadata: {} }, st.session));
  if (error) {
    if (!silent) st.publish(child(msg, "error", error, st.session));
    // Abort what was queued before this reply; requests sent after seeing it always run.
    const stopOnError = (msg.content as { stop_on_error?: boolean }).stop_on_error ?? true;
    const aborted = stopOnError ? takeQueuedExecutes(st.queue) : [];
    await st.reply(sock, msg, "execute_reply", { status: "error", execution_count: count, ...error });
    for (const a of aborted) {
      st.status(a.msg, "busy");
      void st.reply(a.sock, a.msg, "execute_reply", { status: "aborted", execution_count: null });
      st.status(a.msg, "idle");
    }
    return "error";
  }
  await st.reply(sock, msg, "execute_reply", { status: "ok", execution_count: count, user_expressions: {}, payload: [] });
  return "ok";
}

/** Runs a cell and the displays it started; its failure, or its last value's bundle. */
async function runCell(st: ServerState, code: string, count: number, silent: boolean): Promise<{ error?: ErrorContent; result?: Bundle }> {
  try {
    const executor = await st.deps.executor;
    const outcome = await executor.execute(code, `cell[${count}]`);
    // Displays started by the cell (async chart renders) finish before the reply.
    const settled = await Promise.allSettled(st.tracked);
    const failed = settled.find((r) => r.status === "rejected");
    if (!outcome.ok) return { error: outcome.error };
    if (failed) return { error: thrownError((failed as PromiseRejectedResult).reason) };
    if (outcome.hasValue && outcome.value !== undefined && !silent) return { result: await st.deps.toBundle(outcome.value) };
    return {};
  } catch (e) {
    return { error: thrownError(e) };
  }
}

async function handle(st: ServerState, sock: Router, msg: Message, channel: "shell" | "control"): Promise<void> {
  const type = msg.header.msg_type;
  st.status(msg, "busy");
  try {
    const handler = HANDLERS[type];
    if (handler) await handler(st, sock, msg);
    else st.streams.log(`tslm kernel: ignoring unsupported ${channel} message ${type}`);
  } catch (e) {
    st.streams.log(`tslm kernel: failed to handle ${type}: ${(e as Error).stack ?? String(e)}`);
  } finally {
    st.status(msg, "idle");
  }
}

type Handler = (st: ServerState, sock: Router, msg: Message) => Promise<unknown>;

const none: Handler = async () => undefined;

/** Request handlers by message type (Jupyter messaging spec 5.3). */
const HANDLERS: Record<string, Handler> = {
  kernel_info_request: (st, sock, msg) => st.reply(sock, msg, "kernel_info_reply", st.deps.kernelInfo()),
  execute_request: handleExecute,
  async is_complete_request(st, sock, msg) {
    const r = await st.deps.isComplete(String((msg.content as { code?: string }).code ?? ""));
    await st.reply(sock, msg, "is_complete_reply", r.completed ? { status: "complete" } : { status: "incomplete", indent: r.indent ?? "" });
  },
  async complete_request(st, sock, msg) {
    const { code, cursor_pos } = msg.content as { code: string; cursor_pos: number };
    const info = await (await st.deps.executor).complete(code, cursor_pos);
    await st.reply(sock, msg, "complete_reply", { status: "ok", matches: info.candidates, cursor_start: info.start, cursor_end: info.end, metadata: {} });
  },
  async inspect_request(st, sock, msg) {
    const { code, cursor_pos } = msg.content as { code: string; cursor_pos: number };
    const text = await (await st.deps.executor).inspect(code, cursor_pos);
    await st.reply(sock, msg, "inspect_reply", text ? { status: "ok", found: true, data: { "text/plain": text }, metadata: {} } : { status: "ok", found: false, data: {}, metadata: {} });
  },
  comm_info_request: (st, sock, msg) => st.reply(sock, msg, "comm_info_reply", { status: "ok", comms: {} }),
  history_request: (st, sock, msg) => st.reply(sock, msg, "history_reply", { status: "ok", history: [] }),
  async interrupt_request(st, sock, msg) {
    (await Promise.race([st.deps.executor, Promise.resolve(undefined)]))?.interrupt();
    await st.reply(sock, msg, "interrupt_reply", { status: "ok" });
  },
  async shutdown_request(st, sock, msg) {
    const restart = Boolean((msg.content as { restart?: boolean }).restart);
    await st.reply(sock, msg, "shutdown_reply", { status: "ok", restart });
    st.status(msg, "idle");
    await shutdown(st, 0);
  },
  // No widgets (comms) yet; Jupyter's spec says unknown comms are ignored.
  comm_open: none,
  comm_msg: none,
  comm_close: none,
};

/** Removes and returns the execute requests waiting in the queue. */
function takeQueuedExecutes(queue: Queued[]): Queued[] {
  const taken = queue.filter((q) => q.msg.header.msg_type === "execute_request");
  for (const t of taken) queue.splice(queue.indexOf(t), 1);
  return taken;
}

async function receive(st: ServerState, sock: Router, channel: "shell" | "control") {
  for await (const frames of sock) {
    let msg: Message;
    try {
      msg = decode(frames, st.deps.connection.key);
    } catch (e) {
      st.streams.log(`tslm kernel: dropped a ${channel} message: ${(e as Error).message}`);
      continue;
    }
    if (channel === "control") void handle(st, sock, msg, "control");
    else {
      st.queue.push({ sock, msg });
      st.wake?.();
    }
  }
}

async function work(st: ServerState) {
  for (;;) {
    const next = st.queue.shift();
    if (!next) {
      await new Promise<void>((r) => (st.wake = r));
      st.wake = undefined;
      continue;
    }
    await handle(st, next.sock, next.msg, "shell");
  }
}

async function heartbeat(hb: Reply) {
  for await (const frames of hb) await hb.send(frames);
}

async function shutdown(st: ServerState, code = 0): Promise<never> {
  if (!st.shuttingDown) {
    st.shuttingDown = true;
    st.streams.flush();
    // Let the reply and the last status leave before the sockets close.
    await Promise.race([st.drained(), new Promise((r) => setTimeout(r, 500))]);
    for (const sock of Object.values(st.s)) sock.close();
  }
  return st.deps.exit(code);
}
