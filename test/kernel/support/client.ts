/**
 * A minimal Jupyter client for kernel tests: starts the compiled kernel
 * (dist/kernel/main.js) on 127.0.0.1 with a fresh connection file and talks
 * to it over ZeroMQ (shell and control as DEALER, iopub as SUB).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { Dealer, Subscriber } from "zeromq";
import { child, decode, encode, type ConnectionInfo, type Message } from "../../../kernel/protocol.js";
import { packageInfo } from "../../../lib/util/package.js";

export const KERNEL_MAIN = join(packageInfo().root, "dist", "kernel", "main.js");

/** The plain tslab 1.0.22 kernel's command (`{connection_file}` is replaced), for comparisons. */
export const TSLAB_KERNEL = [process.execPath, join(dirname(createRequire(import.meta.url).resolve("tslab/package.json")), "bin", "tslab"), "kernel", "--config-path", "{connection_file}"];

/**
 * User + system CPU time of a process so far, all threads, from /proc (Linux;
 * clock ticks of 10 ms). Unlike wall time it barely depends on the other load
 * of a shared machine.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function connectionInfo(): Promise<ConnectionInfo> {
  const ports = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    key: randomBytes(16).toString("hex"),
    signature_scheme: "hmac-sha256",
    shell_port: ports[0],
    iopub_port: ports[1],
    stdin_port: ports[2],
    control_port: ports[3],
    hb_port: ports[4],
  };
}

export interface ExecuteResult {
  reply: Message;
  /** IOPub messages of this request, without status messages. */
  iopub: Message[];
}

export class KernelClient {
  readonly session = randomBytes(8).toString("hex");
  private shell = new Dealer();
  private control = new Dealer();
  private iopub = new Subscriber();
  private inbox: Message[] = [];
  private replies = new Map<string, (m: Message) => void>();
  private waiters: (() => void)[] = [];
  stderr = "";
  stdout = "";
  exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: ConnectionInfo,
    readonly dir: string,
  ) {
    proc.stderr?.on("data", (b) => (this.stderr += b.toString()));
    proc.stdout?.on("data", (b) => (this.stdout += b.toString()));
    this.exited = new Promise((r) => proc.on("exit", (code) => r(code)));
  }

  /**
   * Starts a kernel in a fresh temporary folder (outside the repository):
   * tslm's by default, or `command` (its `{connection_file}` replaced);
   * `options.prepare` may add files to the folder first.
   */
  static async start(args: string[] = [], command?: string[], options: { env?: Record<string, string>; prepare?: (dir: string) => void } = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "tslm-kernel-test-"));
    options.prepare?.(dir);
    const conn = await connectionInfo();
    const file = join(dir, "connection.json");
    writeFileSync(file, JSON.stringify(conn));
    const argv = command ? command.map((a) => a.replace("{connection_file}", file)) : [process.execPath, KERNEL_MAIN, "--connection-file", file, ...args];
    const proc = spawn(argv[0], argv.slice(1), { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TSLM_PROGRESS: "", ...options.env } });
    const c = new KernelClient(proc, conn, dir);
    await c.connect();
    return c;
  }

  private addr(port: number): string {
    return `tcp://127.0.0.1:${port}`;
  }

  private async connect(): Promise<void> {
    this.shell.connect(this.addr(this.conn.shell_port));
    this.control.connect(this.addr(this.conn.control_port));
    this.iopub.connect(this.addr(this.conn.iopub_port));
    this.iopub.subscribe();
    void this.pump(this.shell);
    void this.pump(this.control);
    void (async () => {
      try {
        for await (const frames of this.iopub) {
          this.inbox.push(decode(frames, this.conn.key));
          for (const w of this.waiters.splice(0)) w();
        }
      } catch {
        // closed
      }
    })();
    // IOPub subscriptions take a moment: ask for kernel_info until its status arrives.
    const deadline = Date.now() + 60000;
    for (;;) {
      const msg = child(undefined, "kernel_info_request", {}, this.session);
      const reply = this.request(this.shell, msg);
      const ok = await Promise.race([
        reply.then(() => this.waitFor((m) => m.parent_header.msg_id === msg.header.msg_id && m.header.msg_type === "status", 500).then(() => true, () => false)),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
      ]);
      if (ok) return;
      if (Date.now() > deadline || this.proc.exitCode !== null) throw new Error(`kernel did not answer: ${this.stderr}`);
    }
  }

  private async pump(sock: Dealer) {
    try {
      for await (const frames of sock) {
        const m = decode(frames, this.conn.key);
        this.replies.get(m.parent_header.msg_id as string)?.(m);
      }
    } catch {
      // closed
    }
  }

  request(sock: Dealer, msg: Message<unknown>): Promise<Message> {
    const p = new Promise<Message>((r) => this.replies.set(msg.header.msg_id, r));
    void sock.send(encode(msg, this.conn.key));
    return p;
  }

  /** Waits for an IOPub message matching `pred` (already received ones count). */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 60000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out waiting for an iopub message")), timeoutMs);
      const check = () => {
        const m = this.inbox.find(pred);
        if (m) {
          clearTimeout(t);
          resolve(m);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Sends a shell request (default execute_request) without waiting. */
  send(type: string, content: Record<string, unknown>, channel: "shell" | "control" = "shell"): { msg: Message<unknown>; reply: Promise<Message> } {
    const msg = child(undefined, type, content, this.session);
    return { msg, reply: this.request(channel === "shell" ? this.shell : this.control, msg) };
  }

  /** Runs code; resolves with the reply and every IOPub message up to idle. */
  async execute(code: string, extra: Record<string, unknown> = {}): Promise<ExecuteResult> {
    const { msg, reply } = this.send("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true, ...extra });
    const id = msg.header.msg_id;
    const r = await reply;
    await this.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === "status" && (m.content as { execution_state: string }).execution_state === "idle");
    const iopub = this.inbox.filter((m) => m.parent_header.msg_id === id && m.header.msg_type !== "status");
    return { reply: r, iopub };
  }

  /** Closes the client's sockets, kills the kernel if it still runs, removes the folder. */
  async close(): Promise<void> {
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Outputs of one type. */
export function ofType(r: ExecuteResult, type: string): Message[] {
  return r.iopub.filter((m) => m.header.msg_type === type);
}
