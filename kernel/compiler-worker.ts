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
import type { CompilerRequest, CompilerSetup } from "./compiler.js";

const setup = workerData as CompilerSetup;
const tslabReq = createRequire(join(dirname(createRequire(import.meta.url).resolve("tslab/package.json")), "package.json"));
const ts = tslabReq("@tslab/typescript-for-tslab") as typeof import("@tslab/typescript-for-tslab");
const conv = tslabReq("./dist/converter.js") as typeof ConverterModule;
const { getCodeMetadata } = tslabReq("./dist/metadata.js") as { getCodeMetadata(src: string): Record<string, unknown> };
const { printQuickInfo } = tslabReq("./dist/inspect.js") as { printQuickInfo(info: unknown): string };

if (setup.mapPackage) mapPackageIntoCwd(ts, setup.cwd, setup.mapPackage.name, setup.mapPackage.root);
quietWatchers(ts, setup.cwd);

let converter: ConverterModule.Converter | undefined;
// Created on first use: answering `names` first lets the main thread start the preload early.
const c = () => (converter ??= conv.createConverter({ isJS: false, isBrowser: false }));

function handle(req: CompilerRequest): unknown {
  switch (req.op) {
    case "names":
      return exportedNames(ts, req.dts);
    case "version":
      return ts.version;
    case "convert":
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
