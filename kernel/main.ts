/**
 * The tslm Jupyter kernel: tslab's TypeScript converter, tslm's server and
 * executor, and the library preloaded so cells use it with no import.
 *
 *   node dist/kernel/main.js --connection-file FILE [--no-preload]
 *
 * (`-f FILE`, `--config-path FILE` and a bare FILE are accepted too.)
 * Startup: start TypeScript in a worker thread and have it load tslm's
 * declarations (as if an earlier cell had run `import { ...every export... }
 * from "tslm"`) while this thread binds the sockets, answers kernel_info and
 * imports the library; then run cells. The export list comes from the build
 * step (build-notebook-types.ts), already checked by TypeScript; without it
 * the import is compiled as an invisible first cell. `TSLM_KERNEL_DEBUG=1`
 * logs the time of each step on stderr.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { packageInfo } from "../lib/util/package.js";
import { setDisplaySink } from "../lib/display/sink.js";
import { createExecutor, type Executor } from "./executor.js";
import { preloadSource } from "./preload.js";
import { startCompiler, type PreloadNames } from "./compiler.js";
import { captureStreams } from "./streams.js";
import { startServer, type KernelServer } from "./server.js";
import { watchParent } from "./lifecycle.js";
import type { ConnectionInfo } from "./protocol.js";
import { plainText } from "../lib/display/bundle.js";

export interface KernelArgs {
  connectionFile: string;
  preload: boolean;
}

export function parseArgs(argv: readonly string[]): KernelArgs {
  let connectionFile: string | undefined;
  let preload = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--connection-file" || a === "-f" || a === "--config-path") connectionFile = argv[++i];
    else if (a.startsWith("--connection-file=") || a.startsWith("--config-path=")) connectionFile = a.slice(a.indexOf("=") + 1);
    else if (a === "--no-preload") preload = false;
    else if (!a.startsWith("-") && !connectionFile) connectionFile = a;
    else throw new Error(`tslm kernel: unknown argument ${JSON.stringify(a)}; usage: main.js --connection-file FILE [--no-preload]`);
  }
  if (!connectionFile) throw new Error("tslm kernel: missing the connection file; usage: main.js --connection-file FILE [--no-preload]");
  return { connectionFile, preload };
}

async function run(args: KernelArgs): Promise<void> {
  const t0 = performance.now();
  const debug = process.env.TSLM_KERNEL_DEBUG === "1";
  const stderr = process.stderr.write.bind(process.stderr); // before streams are captured
  const log = (text: string) => void stderr(text.endsWith("\n") ? text : text + "\n");
  const mark = (what: string) => debug && log(`tslm kernel: ${what} at ${Math.round(performance.now() - t0)} ms`);
  const connection = JSON.parse(readFileSync(args.connectionFile, "utf8")) as ConnectionInfo;
  const pkg = packageInfo();
  const cwd = process.cwd();

  // TypeScript starts first, in its worker: the slowest part of startup runs
  // while this thread binds the sockets and loads the library.
  const compiler = startCompiler({ cwd, mapPackage: args.preload ? { name: pkg.name, root: pkg.root } : undefined }, log);
  const names: Promise<PreloadNames> = args.preload ? compiler.names(join(pkg.root, "dist", "lib", "index.d.ts")) : Promise.resolve({ names: [], verified: true });
  const preloadSrc = names.then((n) => preloadSource(pkg.name, n.names.filter((x) => /^[A-Za-z_$][\w$]*$/.test(x))));
  // Parse and bind tslm's declarations now, before the first cell asks. With
  // names TypeScript verified at build time, the import is only declared
  // (earlier cells' declarations); otherwise it is compiled as a cell, which
  // finds the names TypeScript rejects (the executor's identical request later shares it).
  if (args.preload) {
    void Promise.all([names, preloadSrc])
      .then(([n, src]) => (n.verified ? compiler.convert(`${src}\n`, "") : compiler.convert("", src)))
      .then(() => mark("tslm's types compiled"))
      .catch(() => undefined);
  }

  const tslab = tslabInfo();
  let resolveExecutor!: (e: Executor) => void;
  const executorReady = new Promise<Executor>((r) => (resolveExecutor = r));
  let toBundle = async (v: unknown): Promise<Record<string, unknown>> => ({ "text/plain": plainText(v) });
  let notice: string | undefined;

  const server = await startServer({
    connection,
    executor: executorReady,
    // A cell's last value shows as a REPL prints it (strings quoted); display(x) shows strings as they are.
    toBundle: (v) => (typeof v === "string" ? Promise.resolve({ "text/plain": inspect(v) }) : toBundle(v)),
    isComplete: (code) => compiler.isComplete(code),
    captureStreams,
    startupNotice: () => {
      const n = notice;
      notice = undefined;
      return n;
    },
    kernelInfo: () => kernelInfo(pkg.version, tslab),
    exit: (code) => process.exit(code),
  });
  mark("sockets bound");
  watchParent({
    onParentDeath: (why) => {
      log(`tslm kernel: exiting: ${why}`);
      void server.shutdown(0);
    },
  });
  process.on("SIGINT", () => void executorReady.then((e) => e.interrupt()));
  process.on("uncaughtException", (e) => process.stderr.write(`Uncaught exception: ${(e as Error)?.stack ?? String(e)}\n`));
  process.on("unhandledRejection", (e) => process.stderr.write(`Unhandled promise rejection: ${(e as Error)?.stack ?? String(e)}\n`));

  setDisplaySink({ publish: (data, options) => server.publishDisplay(data, options), track: (work) => server.track(work) });
  const modules: Record<string, unknown> = {};
  addTslabDisplayModule(modules, tslab.require, server);
  const executor = createExecutor({ compiler, rootDir: cwd, modules });

  if (args.preload) {
    try {
      const lib = (await import(pathToFileURL(join(pkg.root, "dist", "lib", "index.js")).href)) as Record<string, unknown>;
      mark("library imported");
      modules[pkg.name] = lib;
      if (typeof lib.toBundle === "function") toBundle = lib.toBundle as typeof toBundle;
      notice = await preloadLibrary(executor, pkg.name, lib, await names, await preloadSrc, log);
      mark("library preloaded");
    } catch (e) {
      notice = `tslm kernel: loading tslm failed (${(e as Error).message}); the kernel runs without it.\n`;
    }
    if (notice) log(notice);
  }
  resolveExecutor(executor);
}

/** tslab's require (rooted in its package) and the versions the banner names. */
function tslabInfo(): { require: NodeJS.Require; version: string; typescript: string } {
  const tslabDir = dirname(createRequire(import.meta.url).resolve("tslab/package.json"));
  const req = createRequire(join(tslabDir, "package.json"));
  return {
    require: req,
    version: (req("./package.json") as { version: string }).version,
    typescript: (req("@tslab/typescript-for-tslab/package.json") as { version: string }).version,
  };
}

/** The kernel_info reply's content. */
function kernelInfo(version: string, tslab: { version: string; typescript: string }): Record<string, unknown> {
  return {
    status: "ok",
    protocol_version: "5.3",
    implementation: "tslm",
    implementation_version: version,
    language_info: {
      name: "typescript",
      version: tslab.typescript,
      mimetype: "text/typescript",
      file_extension: ".ts",
      // `mode` selects TypeScript in JupyterLab; `name` + `typescript` in the classic notebook (as tslab does).
      codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
    },
    banner: `tslm ${version}: TypeScript ${tslab.typescript} on Node ${process.version} (tslab ${tslab.version})`,
    help_links: [],
  };
}

/** tslab's own display API (`import * as tslab from "tslab"`), publishing through the kernel's socket; loaded on first use. */
function addTslabDisplayModule(modules: Record<string, unknown>, tslabReq: NodeJS.Require, server: KernelServer): void {
  Object.defineProperty(modules, "tslab", {
    enumerable: true,
    get: () => {
      const jupyter = tslabReq("./dist/jupyter.js") as { lastWriteDisplayData: unknown };
      jupyter.lastWriteDisplayData = (content: { data: Record<string, unknown>; transient?: { display_id?: string } }, update: boolean) =>
        server.publishDisplay(content.data, { displayId: content.transient?.display_id, update });
      return tslabReq("./dist/public.js");
    },
  });
}

/**
 * Makes the library's exports defined in cells: declared (names TypeScript
 * verified at build time), or else imported by a compiled first cell.
 * Returns the notice for the first cell's stderr, if any.
 */
async function preloadLibrary(executor: Executor, pkg: string, lib: Record<string, unknown>, n: PreloadNames, src: string, log: (text: string) => void): Promise<string | undefined> {
  if (n.verified) {
    executor.preload(`${src}\n`, lib, n.names);
    return undefined;
  }
  if (n.why) log(`tslm kernel: ${n.why}`);
  const outcome = await preload(executor, pkg, src, n.names);
  if (outcome.dropped.length) log(`tslm kernel: not preloaded (TypeScript does not see them as exports of tslm): ${outcome.dropped.join(", ")}`);
  return outcome.ok ? undefined : `tslm kernel: preloading tslm failed; import what you need yourself.\n${outcome.error}\n`;
}

/**
 * Runs the preload import. Names TypeScript rejects (e.g. a name two modules
 * export, which `export *` leaves out) are dropped and the import retried, so
 * one bad export does not cost the whole preload.
 */
async function preload(executor: Executor, pkg: string, firstSrc: string, all: string[]): Promise<{ ok: boolean; dropped: string[]; error?: string }> {
  let names = all.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
  let src = firstSrc;
  const dropped: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await executor.execute(src, "preload");
    if (outcome.ok) return { ok: true, dropped };
    // TS2305 / TS2614 / TS2724: "Module ... has no exported member 'X'".
    const bad = new Set(outcome.error.traceback.map((l) => /TS(?:2305|2614|2724|2459|2460): .*?'([\w$]+)'/.exec(l)?.[1]).filter((n): n is string => Boolean(n)));
    if (bad.size === 0) return { ok: false, dropped, error: outcome.error.traceback.join("\n") };
    dropped.push(...bad);
    names = names.filter((n) => !bad.has(n));
    src = preloadSource(pkg, names);
  }
  return { ok: false, dropped, error: "too many names were rejected" };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  let args: KernelArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  run(args).catch((e) => {
    process.stderr.write(`tslm kernel: failed to start: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
