/**
 * Preloading tslm into the kernel: the names to import and the module
 * resolution that lets tslab's TypeScript find tslm's types from any notebook
 * folder.
 *
 * tslab compiles cells with TypeScript 5.0 in Node10 resolution from the
 * notebook's folder, where `tslm` is usually not installed. We map the
 * virtual folder `<cwd>/node_modules/tslm` onto the kernel's own package (a
 * symlink as far as TypeScript can tell: its realpath is the package root), so
 * `import { ... } from "tslm"` in a cell resolves types from
 * `dist/lib/index.d.ts` and their dependencies from the package's own
 * node_modules. At run time the cell's `require("tslm")` is answered with the
 * module the kernel already loaded.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The part of TypeScript's API used here (tslab's bundled TypeScript 5.0). */
type TS = typeof import("@tslab/typescript-for-tslab");

/**
 * Names exported by a declaration file, following `export * from "./x.js"`
 * and `export { a } from` chains through relative files. Parsing only (no
 * type checking), so it takes milliseconds.
 */
export function exportedNames(ts: TS, dtsFile: string): string[] {
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return; // a missing re-export target shows up as a type error on import, not here
    }
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
    const relative = (spec: string) => resolve(dirname(file), spec.replace(/\.js$/, ".d.ts"));
    for (const st of sf.statements) {
      if (ts.isExportDeclaration(st)) {
        const from = st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
        if (!st.exportClause) {
          if (from?.startsWith(".")) visit(relative(from));
        } else if (ts.isNamedExports(st.exportClause)) {
          for (const el of st.exportClause.elements) names.add(el.name.text);
        } else if (ts.isNamespaceExport(st.exportClause)) {
          names.add(st.exportClause.name.text);
        }
        continue;
      }
      const modifiers = ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined;
      if (!modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      if (modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) continue;
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
      } else if (
        (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st) || ts.isModuleDeclaration(st)) &&
        st.name &&
        ts.isIdentifier(st.name)
      ) {
        names.add(st.name.text);
      }
    }
  };
  visit(dtsFile);
  return [...names].sort();
}

/** The import statement that preloads `names` from `pkg`. */
export function preloadSource(pkg: string, names: readonly string[]): string {
  return names.length ? `import { ${names.join(", ")} } from "${pkg}";` : "";
}

/**
 * Makes `<cwd>/node_modules/<name>` resolve to `root` for TypeScript's file
 * system (`ts.sys`, which tslab's converter delegates to). Must run before the
 * converter is created (its compiler host binds `realpath` then).
 */
export function mapPackageIntoCwd(ts: TS, cwd: string, name: string, root: string): void {
  const virtual = join(cwd, "node_modules", name);
  const real = (p: string): string | undefined => (p === virtual ? root : p.startsWith(virtual + "/") ? root + p.slice(virtual.length) : undefined);
  const sys = ts.sys as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ["fileExists", "directoryExists", "readFile", "getDirectories", "readDirectory", "getModifiedTime", "getFileSize", "watchFile", "watchDirectory"]) {
    const original = sys[method];
    if (typeof original !== "function") continue;
    sys[method] = function (this: unknown, path: unknown, ...rest: unknown[]) {
      const mapped = typeof path === "string" ? real(path) : undefined;
      return original.call(ts.sys, mapped ?? path, ...rest);
    };
  }
  const realpath = sys.realpath;
  sys.realpath = (path: unknown) => {
    const mapped = typeof path === "string" ? real(path) : undefined;
    return mapped ?? (realpath ? realpath.call(ts.sys, path) : path);
  };
  // Node10 resolution only looks for a package when its parent folder exists.
  const directoryExists = sys.directoryExists;
  sys.directoryExists = (path: unknown) => path === join(cwd, "node_modules") || (directoryExists.call(ts.sys, path) as boolean);
}

/**
 * Stops TypeScript from watching files outside the notebook folder (the
 * library's and node_modules' declarations: hundreds of inotify watches and
 * ~10% of the preload's CPU). Local .ts files imported by cells are still
 * watched, so editing them is picked up; restart the kernel after rebuilding
 * the library.
 */
export function quietWatchers(ts: TS, cwd: string): void {
  const sys = ts.sys as unknown as Record<string, ((path: string, ...rest: unknown[]) => unknown) | undefined>;
  const local = (p: string) => p.startsWith(cwd + "/") && !p.includes("/node_modules/");
  const noop = { close() {} };
  for (const method of ["watchFile", "watchDirectory"]) {
    const original = sys[method];
    if (!original) continue;
    sys[method] = (path: string, ...rest: unknown[]) => (local(path) ? original.call(ts.sys, path, ...rest) : noop);
  }
}
