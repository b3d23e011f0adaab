/**
 * Loads tslab's converter with a fix it has no option for: shorthand
 * properties naming an earlier cell's variable (`{ model }`) compile to
 * `{ model: exports.model }`. tslab rewrites references to earlier cells'
 * names as `exports.name`, but it finds them with `getSymbolAtLocation`,
 * which answers the *property* for a shorthand, so `{ model }` was left
 * pointing at a global that does not exist ("model is not defined").
 *
 * tslab reads TypeScript through `require`, and TypeScript's exports are
 * read-only getters, so the converter module is loaded while the require
 * cache answers a thin wrapper of TypeScript that intercepts
 * `createWatchProgram` (the builder arrives in the host's
 * `afterProgramCreate`, and its `emit` takes the extra transformer). The same
 * hook gives the host a cheaper program per compile (plain-builder.ts).
 */
import { createRequire } from "node:module";
import type * as ConverterModule from "tslab/dist/converter.js";
import { createPlainBuilder, type PlainBuilder } from "./plain-builder.js";

type TS = typeof import("@tslab/typescript-for-tslab");
type Node = import("@tslab/typescript-for-tslab").Node;
type SourceFile = import("@tslab/typescript-for-tslab").SourceFile;
type TypeChecker = import("@tslab/typescript-for-tslab").TypeChecker;
type TransformationContext = import("@tslab/typescript-for-tslab").TransformationContext;
type Transformer = import("@tslab/typescript-for-tslab").TransformerFactory<SourceFile>;
type CustomTransformers = import("@tslab/typescript-for-tslab").CustomTransformers;

/** The parts of a builder program the hooks use. */
export interface BuilderLike {
  getProgram(): { getTypeChecker(): TypeChecker; getCurrentDirectory(): string };
  emit(file?: SourceFile, write?: unknown, cancel?: unknown, dtsOnly?: boolean, transformers?: CustomTransformers): unknown;
}

/**
 * A transformer that rewrites `{ name }` to `{ name: exports.name }` (and
 * `{ name = d }` in destructuring to `{ name: exports.name = d }`) when
 * `name` is declared in an earlier cell, i.e. in `prevFile`.
 */
export function shorthandToExports(ts: TS, checker: TypeChecker, prevFile: string): Transformer {
  const fromPrev = (decl: Node) => decl.getSourceFile().fileName === prevFile;
  return (ctx: TransformationContext) => {
    const f = ctx.factory;
    const visit = (node: Node): Node => {
      if (ts.isShorthandPropertyAssignment(node)) {
        const symbol = checker.getShorthandAssignmentValueSymbol(node);
        if (symbol?.declarations?.some(fromPrev)) {
          const name = node.name.text;
          const value = f.createPropertyAccessExpression(f.createIdentifier("exports"), f.createIdentifier(name));
          const init = node.objectAssignmentInitializer ? f.createAssignment(value, ts.visitNode(node.objectAssignmentInitializer, visit) as import("@tslab/typescript-for-tslab").Expression) : value;
          return ts.setTextRange(f.createPropertyAssignment(f.createIdentifier(name), init), node);
        }
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    return (sf: SourceFile) => ts.visitNode(sf, visit) as SourceFile;
  };
}

/** Wraps `builder.emit` so every emit also runs the shorthand rewrite first. */
function hookEmit(ts: TS, builder: BuilderLike, prevFile: string): void {
  const emit = builder.emit.bind(builder);
  builder.emit = (file, write, cancel, dtsOnly, transformers) => {
    const fix = shorthandToExports(ts, builder.getProgram().getTypeChecker(), prevFile);
    const merged: CustomTransformers = { ...transformers, before: [fix, ...(transformers?.before ?? [])] };
    return emit(file, write, cancel, dtsOnly, merged);
  };
}

export interface HookOptions {
  /** The notebook folder (tslab's converter keeps earlier cells' declarations in `<cwd>/__prev__.d.ts`). */
  cwd: string;
}

/**
 * Requires tslab's `dist/converter.js` (from `tslabRequire`, a require rooted
 * in tslab's package) with the fix installed. Call once per thread, before
 * anything else requires the converter.
 */
export function loadConverter(tslabRequire: NodeJS.Require, options: HookOptions): typeof ConverterModule {
  const tsPath = tslabRequire.resolve("@tslab/typescript-for-tslab");
  const ts = tslabRequire(tsPath) as TS;
  const prevFile = `${options.cwd.replace(/\\/g, "/").replace(/\/$/, "")}/__prev__.d.ts`;
  const hooked = Object.create(ts, {
    // tslab's `__importStar` passes an object marked as an ES module through unchanged.
    __esModule: { value: true },
    createWatchProgram: {
      value: (host: { afterProgramCreate?: (b: BuilderLike) => void; createProgram?: (...args: Parameters<typeof createPlainBuilder> extends [TS, ...infer R] ? R : never) => PlainBuilder }) => {
        host.createProgram = (...args) => createPlainBuilder(ts, ...args);
        const after = host.afterProgramCreate;
        host.afterProgramCreate = (builder) => {
          hookEmit(ts, builder, prevFile);
          after?.call(host, builder);
        };
        return ts.createWatchProgram(host as never);
      },
    },
  }) as TS;
  const converterPath = tslabRequire.resolve("./dist/converter.js");
  const cache = createRequire(converterPath).cache;
  const entry = cache[tsPath];
  if (!entry) throw new Error(`tslm kernel: TypeScript (${tsPath}) is not in the require cache`);
  if (cache[converterPath]) throw new Error("tslm kernel: tslab's converter was loaded before its hooks were installed");
  const original = entry.exports;
  entry.exports = hooked;
  try {
    return tslabRequire(converterPath) as typeof ConverterModule;
  } finally {
    entry.exports = original;
  }
}
