/**
 * The TypeScript side of the kernel, in a worker thread: tslab's converter
 * (type check, transpile) runs here so the main thread can load the library
 * and serve the sockets at the same time. Requests are answered in order.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import type * as ConverterModule from "tslab/dist/converter.js";
import { exportedNames, mapPackageIntoCwd, quietWatchers } from "./preload.js";
import { loadNotebookTypes, serveTexts } from "./notebook-types.js";
import { loadConverter } from "./tslab-hooks.js";
import { requireWithCodeCache } from "./code-cache.js";
import type { CompilerRequest, CompilerSetup, PreloadNames } from "./compiler.js";

const setup = workerData as CompilerSetup;
const tslabReq = createRequire(join(dirname(createRequire(import.meta.url).resolve("tslab/package.json")), "package.json"));
// TypeScript through V8's code cache (written once the first compile is done).
const tsLoad = requireWithCodeCache(tslabReq.resolve("@tslab/typescript-for-tslab"));
const ts = tsLoad.exports as typeof import("@tslab/typescript-for-tslab");
const debug = (text: string) => process.env.TSLM_KERNEL_DEBUG === "1" && process.stderr.write(`${text}\n`);
debug(`TypeScript loaded (code cache: ${tsLoad.cache})`);
let cacheSaveScheduled = false;
function scheduleCacheSave() {
  if (cacheSaveScheduled || tsLoad.cache === "used" || tsLoad.cache === "off") return;
  cacheSaveScheduled = true;
  // After the first compile, when idle: the cache then holds the functions startup compiled.
  setTimeout(() => {
    const where = tsLoad.save();
    debug(where ? `code cache written to ${where}` : "code cache not written");
  }, 2000).unref();
}
const conv = loadConverter(tslabReq, { cwd: setup.cwd });
const { getCodeMetadata } = tslabReq("./dist/metadata.js") as { getCodeMetadata(src: string): Record<string, unknown> };
const { printQuickInfo } = tslabReq("./dist/inspect.js") as { printQuickInfo(info: unknown): string };

// Prepared declarations (build step): the export list and comment-free third-party files.
// TSLM_KERNEL_PREPARED_TYPES=0 ignores them (the kernel then reads and checks everything itself).
const usePrepared = setup.mapPackage && process.env.TSLM_KERNEL_PREPARED_TYPES !== "0";
const prepared = usePrepared ? loadNotebookTypes(setup.mapPackage!.root, ts.version) : undefined;
if (prepared) serveTexts(ts, prepared.texts);
if (setup.mapPackage) mapPackageIntoCwd(ts, setup.cwd, setup.mapPackage.name, setup.mapPackage.root);
quietWatchers(ts, setup.cwd);

let converter: ConverterModule.Converter | undefined;
// Created on first use: answering `names` first lets the main thread start the preload early.
const c = () => (converter ??= conv.createConverter({ isJS: false, isBrowser: false }));

function names(dts: string): PreloadNames {
  if (prepared?.names) return { names: prepared.names, verified: true };
  return { names: exportedNames(ts, dts), verified: false, why: prepared ? prepared.stale : "prepared notebook types not used (TSLM_KERNEL_PREPARED_TYPES=0)" };
}

function handle(req: CompilerRequest): unknown {
  switch (req.op) {
    case "names":
      return names(req.dts);
    case "version":
      return ts.version;
    case "convert":
      scheduleCacheSave();
      return c().convert(req.prevDecl, req.src);
    case "addModule":
      return c().addModule(req.name, req.src, req.meta as never);
    case "complete": {
      const { start, end, candidates } = c().complete(req.prevDecl, req.src, req.cursor);
      return { start, end, candidates };
    }
    case "inspect": {
      const info = c().inspect(req.prevDecl, req.src, req.cursor);
      return info ? printQuickInfo(info) : undefined;
    }
    case "isComplete":
      return conv.isCompleteCode(req.src);
    case "metadata":
      return getCodeMetadata(req.src);
    case "close":
      converter?.close();
      return undefined;
  }
}

parentPort!.on("message", (req: CompilerRequest) => {
  try {
    parentPort!.postMessage({ id: req.id, ok: true, result: handle(req) });
  } catch (e) {
    parentPort!.postMessage({ id: req.id, ok: false, error: (e as Error)?.stack ?? String(e) });
  }
});
