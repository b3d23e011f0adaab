/**
 * Build step: prepares `dist/kernel/notebook-types.json` (see
 * notebook-types.ts) from the compiled declarations in `dist/lib`, with the
 * TypeScript the kernel runs (tslab's).
 *
 *   node dist/kernel/build-notebook-types.js     # run by `npm run build` after tsc
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { packageInfo } from "../lib/util/package.js";
import { contentHash, KEEP_DOCS, NOTEBOOK_TYPES_FORMAT, notebookTypesPath, relPath, stripComments, type NotebookTypes, type NotebookTypesFile } from "./notebook-types.js";
import { writeFileAtomic } from "../lib/util/atomic.js";

type TS = typeof import("@tslab/typescript-for-tslab");

export function tslabTypeScript(): TS {
  const req = createRequire(import.meta.url);
  return createRequire(join(dirname(req.resolve("tslab/package.json")), "package.json"))("@tslab/typescript-for-tslab") as TS;
}

/**
 * The folders of `@types` packages a notebook's compiler includes on its own
 * (TypeScript's automatic type directives): those of `node_modules/@types`
 * folders from the package root upward (a notebook inside the checkout, or
 * in a project that has tslm installed), and tslab's own `@types`, which
 * tslab's converter falls back to when the notebook folder has no
 * `@types/node` (`getTypeRoots` in tslab's converter.js).
 */
export function kernelTypeRoots(ts: TS, root: string): string[] {
  const tslabDir = dirname(createRequire(import.meta.url).resolve("tslab/package.json"));
  const roots = [...(ts.getDefaultTypeRoots(root, ts.sys) ?? []), join(tslabDir, "node_modules", "@types")];
  return [...new Set(roots.map((r) => resolve(r)))].filter((r) => existsSync(r));
}

/** Computes the notebook types of the package at `root` (its `dist/lib/index.d.ts`). */
export function buildNotebookTypes(ts: TS, root: string): NotebookTypes {
  const entry = join(root, "dist", "lib", "index.d.ts");
  const options = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const program = ts.createProgram([entry], { ...options, types: [] });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(entry);
  const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
  if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}: run tsc first`);
  const names: string[] = [];
  const values: string[] = [];
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    const name = sym.getName();
    if (name === "default" || !/^[A-Za-z_$][\w$]*$/.test(name)) continue;
    names.push(name);
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    if (target.flags & ts.SymbolFlags.Value) values.push(name);
  }
  const own = join(root, "dist", "lib") + "/";
  const files: NotebookTypesFile[] = [];
  const seen = new Set<string>();
  // The automatic @types packages (@types/node above all: 2 MB, mostly documentation, parsed
  // at every kernel start) come stripped too: one program per type root (each may have its
  // own @types/node). TypeScript adds automatic types only to a program with root files; a
  // missing one will do.
  const typesPrograms = kernelTypeRoots(ts, root).map((r) => ts.createProgram([join(r, "__type_roots__.d.ts")], { ...options, typeRoots: [r], types: undefined }));
  for (const p of [program, ...typesPrograms]) {
    for (const file of p.getSourceFiles()) {
      const abs = resolve(file.fileName);
      if (p.isSourceFileDefaultLibrary(file) || abs.includes("/typescript-for-tslab/")) continue;
      const real = ts.sys.realpath ? ts.sys.realpath(abs) : abs;
      if (seen.has(real)) continue;
      seen.add(real);
      const st = statSync(real);
      const hash = contentHash(readFileSync(real));
      const isOwn = real.startsWith(own);
      const keep = isOwn || KEEP_DOCS.some((k) => real.includes(`/node_modules/${k}/`));
      const text = keep ? undefined : stripComments(ts, real, file.text);
      files.push({ path: relPath(root, real), size: st.size, mtimeMs: st.mtimeMs, hash, own: isOwn, ...(text !== undefined ? { text } : {}) });
    }
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { format: NOTEBOOK_TYPES_FORMAT, typescript: ts.version, names: names.sort(), values: values.sort(), files };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const t0 = performance.now();
  const root = packageInfo().root;
  try {
    const types = buildNotebookTypes(tslabTypeScript(), root);
    const out = notebookTypesPath(root);
    writeFileAtomic(out, JSON.stringify(types));
    const stripped = types.files.filter((f) => f.text !== undefined).length;
    process.stdout.write(`notebook types: ${types.names.length} names, ${types.files.length} declaration files (${stripped} without comments) -> ${relPath(root, out)} in ${Math.round(performance.now() - t0)} ms\n`);
  } catch (e) {
    process.stderr.write(`build-notebook-types: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
