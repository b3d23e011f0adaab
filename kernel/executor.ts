/**
 * Compiles and runs cells. TypeScript work is tslab's converter in the
 * compiler worker (type check against the declarations of earlier cells,
 * transpile, find the last expression); this file runs the result and reports outcomes as values or
 * structured errors instead of printing them, which is what lets the server
 * send `execute_result` and `error` messages.
 */
import Module, { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import vm from "node:vm";
import type { Compiler } from "./compiler.js";
import { diagnosticsError, thrownError, type ErrorContent } from "./errors.js";

export type Outcome = { ok: true; hasValue: boolean; value?: unknown } | { ok: false; error: ErrorContent };

export interface Executor {
  /** Compiles and runs one cell; `name` labels its stack frames (`cell[3]`). */
  execute(src: string, name?: string): Promise<Outcome>;
  complete(src: string, cursor: number): ReturnType<Compiler["complete"]>;
  /** Quick info at the cursor, as text. */
  inspect(src: string, cursor: number): Promise<string | undefined>;
  /**
   * Stops the running cell: before it starts (while compiling), or while it
   * awaits (its async work is abandoned, not cancelled). Synchronous code is
   * stopped by SIGINT itself (vm's breakOnSigint).
   */
  interrupt(): void;
  /**
   * Makes `names` of `module` defined as if an earlier cell had imported
   * them: `decl` (the import statement) becomes the earlier cells'
   * declarations TypeScript checks against, and the module's values become
   * locals. For names TypeScript has already accepted (nothing is compiled).
   */
  preload(decl: string, module: Record<string, unknown>, names: readonly string[]): void;
  /** Values of the names defined so far. */
  readonly locals: Record<string, unknown>;
  close(): void;
}

export interface ExecutorDeps {
  compiler: Compiler;
  /** Folder relative imports and `require` resolve from (the notebook's). */
  rootDir: string;
  /** Modules answered without loading: the preloaded library and tslab's display API. */
  modules: Record<string, unknown>;
}

const CELL_ARGS = Symbol.for("tslm.kernel.cellArgs");

class InterruptedError extends Error {
  override name = "KeyboardInterrupt";
}

/**
 * The cell's `exports` object. TypeScript's CommonJS output defines imported
 * names with getters; storing plain values keeps later cells free to
 * reassign them (tslab does the same).
 */
function createLocals(): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  return new Proxy(target, {
    defineProperty(_t, prop, attrs) {
      if (prop === "__esModule") return true;
      target[prop as string] = attrs.get ? attrs.get() : attrs.value;
      return true;
    },
  });
}

/** Why a module failed to load from a cell, in words a notebook user can act on. */
function explainRequireError(id: string, e: unknown): unknown {
  const code = (e as { code?: string } | null)?.code;
  if (code === "ERR_REQUIRE_ASYNC_MODULE") {
    return new Error(`cannot load "${id}" from a cell: it uses top-level await, which require() (the kernel's module loader) does not support. tslm's own helpers load such packages internally (e.g. vegaLite() for vega).`, { cause: e });
  }
  return e;
}

/**
 * The `require` of cells: the modules the kernel answers itself (`modules`),
 * local .ts files cells import (compiled by the converter as "side outputs"),
 * else Node's own, from `rootDir`.
 */
function createCellRequire(rootDir: string, modules: Record<string, unknown>) {
  const sideOutputs = new Map<string, string>();
  const sideModules = new Map<string, Module>();

  function wrapRequire(base: NodeJS.Require, dir: string): NodeJS.Require {
    const req = ((id: string) => {
      if (Object.prototype.hasOwnProperty.call(modules, id)) return modules[id];
      const side = requireSide(id, dir);
      if (side !== undefined) return side;
      try {
        return base(id);
      } catch (e) {
        throw explainRequireError(id, e);
      }
    }) as NodeJS.Require;
    return Object.assign(req, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions });
  }

  function requireSide(id: string, dir: string): unknown {
    if (!id.startsWith(".") && !id.startsWith("/")) return undefined;
    let file = join(dir, id);
    if (extname(file) === "") file += ".js";
    const cached = sideModules.get(file);
    if (cached) return cached.exports;
    const code = sideOutputs.get(file);
    if (code === undefined) return undefined;
    const mod = new Module(file) as Module & { _compile(code: string, file: string): void };
    mod.filename = file;
    mod.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
    mod.require = wrapRequire(createRequire(file), dirname(file));
    sideModules.set(file, mod);
    mod._compile(code, file);
    return mod.exports;
  }

  return {
    require: wrapRequire(createRequire(join(rootDir, "__tslm_cell__.js")), rootDir),
    /** New compiled local files replace the old ones (and their loaded modules). */
    addSideOutputs(outputs: readonly { path: string; data: string }[]) {
      for (const out of outputs) {
        sideModules.delete(out.path);
        sideOutputs.set(out.path, out.data);
      }
    },
  };
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const { compiler, rootDir, modules } = deps;
  const locals = createLocals();
  const cells = createCellRequire(rootDir, modules);
  let prevDecl = "";
  // The running cell's interrupt: set at the start of each execution (so an
  // interrupt during compilation counts), rejected by interrupt().
  let running: { interrupted: boolean; reject(e: Error): void; promise: Promise<never> } | undefined;
  const interruptedError = () => ({ ok: false as const, error: thrownError(new InterruptedError("interrupted")) });

  async function execute(src: string, name = "cell"): Promise<Outcome> {
    let reject!: (e: Error) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    promise.catch(() => undefined);
    const self = { interrupted: false, reject, promise };
    running = self;
    try {
      return await executeCell(src, name, self);
    } finally {
      if (running === self) running = undefined;
    }
  }

  async function executeCell(src: string, name: string, self: { interrupted: boolean; promise: Promise<never> }): Promise<Outcome> {
    // `/** @module name */` cells define in-memory modules (tslab's convention).
    const meta = src.includes("@module") ? await compiler.metadata(src) : {};
    if (meta.module) {
      const diagnostics = await compiler.addModule(meta.module, src, meta);
      return diagnostics.length ? { ok: false, error: diagnosticsError(diagnostics, src) } : { ok: true, hasValue: false };
    }
    const converted = await compiler.convert(prevDecl, src);
    cells.addSideOutputs(converted.sideOutputs ?? []);
    if (converted.diagnostics.length > 0) return { ok: false, error: diagnosticsError(converted.diagnostics, src) };
    if (self.interrupted) return interruptedError();
    if (!converted.output) {
      prevDecl = converted.declOutput ?? "";
      return { ok: true, hasValue: false };
    }
    // Declarations stay visible even if the cell throws part-way (as in Python),
    // so later cells can use what ran before the error.
    const commit = () => (prevDecl = converted.declOutput ?? "");
    const g = globalThis as Record<symbol, unknown>;
    g[CELL_ARGS] = [locals, cells.require];
    const fn = converted.hasToplevelAwait ? "async function" : "function";
    const code = `(${fn} (exports, require) { ${converted.output}\n})(...globalThis[Symbol.for("tslm.kernel.cellArgs")])`;
    let result: unknown;
    try {
      result = vm.runInThisContext(code, { filename: name, breakOnSigint: true });
      if (converted.hasToplevelAwait) await Promise.race([result, self.promise]);
    } catch (e) {
      commit();
      if (e instanceof Error && /Script execution was interrupted/.test(e.message)) return interruptedError();
      return { ok: false, error: thrownError(e) };
    } finally {
      delete g[CELL_ARGS];
    }
    commit();
    const last = converted.lastExpressionVar;
    if (!last) return { ok: true, hasValue: false };
    const value = locals[last];
    delete locals[last];
    return { ok: true, hasValue: true, value };
  }

  return {
    execute,
    complete: (src, cursor) => compiler.complete(prevDecl, src, cursor),
    inspect: (src, cursor) => compiler.inspect(prevDecl, src, cursor),
    interrupt() {
      if (!running || running.interrupted) return; // nothing runs: like IPython, an idle interrupt does nothing
      running.interrupted = true;
      running.reject(new InterruptedError("interrupted"));
    },
    preload(decl, module, names) {
      prevDecl = decl;
      for (const name of names) if (name in module) locals[name] = module[name];
    },
    locals,
    close: () => void compiler.close(),
  };
}
