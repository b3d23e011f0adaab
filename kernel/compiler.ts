/**
 * The main thread's handle on the TypeScript worker (compiler-worker.ts):
 * every call is a message and a promise. Identical `convert` calls in flight
 * share one answer, so the preload can be compiled while the library loads.
 */
import { Worker } from "node:worker_threads";
import type { CompletionInfo, ConvertResult, Diagnostic, IsCompleteResult } from "tslab/dist/converter.js";

export interface CompilerSetup {
  cwd: string;
  /** Makes `<cwd>/node_modules/<name>` resolve to `root` for TypeScript. */
  mapPackage?: { name: string; root: string };
}

/** The names to preload: from the prepared notebook types (checked by TypeScript at build time), or parsed from the declarations. */
export interface PreloadNames {
  names: string[];
  verified: boolean;
  /** Why the prepared list was not used. */
  why?: string;
}

export type CompilerRequest = { id: number } & (
  | { op: "names"; dts: string }
  | { op: "version" }
  | { op: "convert"; prevDecl: string; src: string }
  | { op: "addModule"; name: string; src: string; meta: unknown }
  | { op: "complete" | "inspect"; prevDecl: string; src: string; cursor: number }
  | { op: "isComplete" | "metadata"; src: string }
  | { op: "close" }
);

export interface Compiler {
  names(dts: string): Promise<PreloadNames>;
  version(): Promise<string>;
  convert(prevDecl: string, src: string): Promise<ConvertResult>;
  addModule(name: string, src: string, meta: unknown): Promise<Diagnostic[]>;
  complete(prevDecl: string, src: string, cursor: number): Promise<Pick<CompletionInfo, "start" | "end" | "candidates">>;
  /** Quick info at the cursor as text, or undefined. */
  inspect(prevDecl: string, src: string, cursor: number): Promise<string | undefined>;
  isComplete(src: string): Promise<IsCompleteResult>;
  metadata(src: string): Promise<{ module?: string; mode?: string; jsx?: boolean }>;
  close(): Promise<void>;
}

export function startCompiler(setup: CompilerSetup, log: (text: string) => void): Compiler {
  const worker = new Worker(new URL("./compiler-worker.js", import.meta.url), { workerData: setup, stdout: true, stderr: true });
  worker.unref();
  // TypeScript's own messages are not cell output.
  worker.stdout.on("data", (b: Buffer) => log(`tslm kernel (compiler): ${b.toString().trimEnd()}`));
  worker.stderr.on("data", (b: Buffer) => log(`tslm kernel (compiler): ${b.toString().trimEnd()}`));
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let failed: Error | undefined;
  worker.on("message", (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(`TypeScript compiler failed: ${m.error}`));
  });
  const fail = (e: Error) => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on("error", (e) => fail(new Error(`the TypeScript worker crashed: ${e.stack ?? e.message}`)));
  worker.on("exit", (code) => fail(new Error(`the TypeScript worker exited (code ${code})`)));

  function call(op: CompilerRequest["op"], args: Record<string, unknown>): Promise<never> {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op, ...args });
    });
  }

  const inflight = new Map<string, Promise<ConvertResult>>();
  return {
    names: (dts) => call("names", { dts }),
    version: () => call("version", {}),
    convert(prevDecl, src) {
      const key = `${prevDecl}\u0000${src}`;
      let p = inflight.get(key);
      if (!p) {
        p = call("convert", { prevDecl, src });
        inflight.set(key, p);
        const forget = () => inflight.delete(key);
        p.then(forget, forget);
      }
      return p;
    },
    addModule: (name, src, meta) => call("addModule", { name, src, meta }),
    complete: (prevDecl, src, cursor) => call("complete", { prevDecl, src, cursor }),
    inspect: (prevDecl, src, cursor) => call("inspect", { prevDecl, src, cursor }),
    isComplete: (src) => call("isComplete", { src }),
    metadata: (src) => call("metadata", { src }),
    async close() {
      await call("close", {}).catch(() => undefined);
      await worker.terminate();
    },
  };
}
