/**
 * The declarations notebooks compile against, prepared at build time
 * (`node dist/kernel/build-notebook-types.js`, part of `npm run build`) so a
 * kernel start does less TypeScript work:
 *
 * - the names tslm exports, as TypeScript's checker sees them (so the
 *   kernel need not parse the declaration graph to list them, nor compile an
 *   import cell to find out which ones TypeScript rejects);
 * - the text of every declaration file tslm's API pulls in from
 *   `node_modules` (zod, arquero, ...) with comments removed, served to the
 *   compiler in place of the files. Types are unchanged and the files keep
 *   their paths, so a cell that imports `zod` itself sees the same
 *   declarations as tslm's signatures. Packages in `KEEP_DOCS` (TF.js, whose
 *   ops users hover in notebooks) and tslm's own files keep their comments.
 *
 * Every entry records the size, mtime and content hash of its source file;
 * an entry whose file changed is ignored (the file is read from disk), and
 * the names are used only while all of tslm's own declaration files are
 * unchanged.
 */
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";

type TS = typeof import("@tslab/typescript-for-tslab");

export const NOTEBOOK_TYPES_FORMAT = 2;
/** Packages whose declarations keep their documentation comments. */
export const KEEP_DOCS = ["@tensorflow/tfjs-core"];

export interface NotebookTypesFile {
  /** Relative to the package root. */
  path: string;
  size: number;
  mtimeMs: number;
  /** sha1 of the content (hex, 16 digits): decides when the mtime differs (a copy, an npm install). */
  hash: string;
  /** tslm's own declaration file (the names depend on it). */
  own: boolean;
  /** Comment-free text, absent for files served as they are (own files, KEEP_DOCS, unparsable). */
  text?: string;
}

export interface NotebookTypes {
  format: number;
  /** The TypeScript version that verified the names. */
  typescript: string;
  /** Every name `import { ... } from "tslm"` accepts, sorted. */
  names: string[];
  /** The subset of `names` that are values (the rest are types only). */
  values: string[];
  files: NotebookTypesFile[];
}

export function notebookTypesPath(pkgRoot: string): string {
  return join(pkgRoot, "dist", "kernel", "notebook-types.json");
}

export const contentHash = (data: string | Uint8Array): string => createHash("sha1").update(data).digest("hex").slice(0, 16);

/** `p` with symbolic links resolved (TypeScript reads packages by their real paths, e.g. under pnpm's store), or `p`. */
const realPath = (p: string): string => {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
};

/** The file is as it was at build time: same size, and same mtime or else same content. */
const fresh = (abs: string, f: NotebookTypesFile): boolean => {
  try {
    const st = statSync(abs);
    if (st.size !== f.size) return false;
    return st.mtimeMs === f.mtimeMs || contentHash(readFileSync(abs)) === f.hash;
  } catch {
    return false;
  }
};

export interface LoadedNotebookTypes {
  /** The names, when every own file is unchanged since the build; else undefined. */
  names?: string[];
  /** Real path (symbolic links resolved) to comment-free text, for files unchanged since the build. */
  texts: Map<string, string>;
  /** Why the names are not used (missing, stale, other TypeScript). */
  stale?: string;
}

/** Reads the prepared types; never throws (a missing or broken file means "none"). */
export function loadNotebookTypes(pkgRoot: string, tsVersion: string, read: (p: string) => string = (p) => readFileSync(p, "utf8")): LoadedNotebookTypes {
  let data: NotebookTypes;
  try {
    data = JSON.parse(read(notebookTypesPath(pkgRoot))) as NotebookTypes;
  } catch (e) {
    return { texts: new Map(), stale: `no prepared notebook types (${(e as Error).message.split("\n")[0]}); run \`npm run build\`` };
  }
  if (data.format !== NOTEBOOK_TYPES_FORMAT) return { texts: new Map(), stale: `prepared notebook types have format ${data.format}, expected ${NOTEBOOK_TYPES_FORMAT}` };
  const texts = new Map<string, string>();
  let stale: string | undefined;
  if (data.typescript !== tsVersion) stale = `prepared with TypeScript ${data.typescript}, the kernel runs ${tsVersion}`;
  for (const f of data.files) {
    const abs = isAbsolute(f.path) ? f.path : join(pkgRoot, f.path);
    if (f.own) {
      if (!stale && !fresh(abs, f)) stale = `${f.path} changed since the notebook types were prepared; run \`npm run build\``;
    } else if (f.text !== undefined && fresh(abs, f)) texts.set(realPath(abs), f.text);
  }
  return { names: stale ? undefined : data.names, texts, stale };
}

/**
 * Makes TypeScript's file system (`ts.sys`, which tslab's converter reads
 * through) answer `texts` for those files. Install before
 * `mapPackageIntoCwd`, which then maps notebook paths onto these real ones.
 */
export function serveTexts(ts: TS, texts: ReadonlyMap<string, string>): void {
  if (texts.size === 0) return;
  const sys = ts.sys as unknown as { readFile(path: string, encoding?: string): string | undefined; realpath?(path: string): string };
  const readFile = sys.readFile;
  sys.readFile = (path, encoding) => {
    const hit = texts.get(path) ?? (path.includes("/node_modules/") && sys.realpath ? texts.get(sys.realpath(path)) : undefined);
    return hit ?? readFile.call(ts.sys, path, encoding);
  };
}

/** Text without comments, keeping the triple-slash directives TypeScript reads from them; undefined if it does not parse cleanly. */
export function stripComments(ts: TS, fileName: string, text: string): string | undefined {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  if ((sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics?.length) return undefined;
  const body = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed }).printFile(sf);
  // The printer keeps the file's leading directives; any it dropped go back on top.
  const dropped = (text.match(/^\s*\/\/\/\s*<(reference|amd-module)\b[^\n]*/gm) ?? []).map((d) => d.trim()).filter((d) => !body.includes(d));
  return (dropped.length ? dropped.join("\n") + "\n" : "") + body;
}

/** Path of `abs` relative to `root` with forward slashes (for the JSON file). */
export function relPath(root: string, abs: string): string {
  return relative(root, abs).split("\\").join("/");
}
