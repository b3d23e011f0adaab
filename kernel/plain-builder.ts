/**
 * A plain TypeScript `Program` in the shape of the builder program that
 * tslab's watch host creates for every compile.
 *
 * tslab compiles each cell with a watch program whose default `createProgram`
 * is `createEmitAndSemanticDiagnosticsBuilderProgram`. That builder tracks
 * which files are affected by a change for incremental emit: on every new
 * program (one or two per cell) it creates a type checker and resolves the
 * imports of *every* file (TypeScript 5.0's `BuilderState.create`). tslab
 * never asks for affected files: it checks and emits one named file at a time
 * (`getPreEmitDiagnosticsOfFiles`, `builder.emit(file)`) and only asks the
 * builder for a file's dependencies. With tslm's declarations in the program
 * (~760 files: tslm, TF.js, zod, arquero) that walk was about half of every
 * cell's compile time, so the kernel gives the watch host this wrapper
 * instead (`host.createProgram`).
 */
import type * as TSNS from "@tslab/typescript-for-tslab";

type TS = typeof TSNS;
type Program = TSNS.Program;
type SourceFile = TSNS.SourceFile;

/** The builder-program methods the watch program and tslab's converter call. */
export interface PlainBuilder {
  getProgram(): Program;
  getProgramOrUndefined(): Program;
  releaseProgram(): void;
  getCompilerOptions(): TSNS.CompilerOptions;
  getCurrentDirectory(): string;
  getSourceFile(fileName: string): SourceFile | undefined;
  getSourceFiles(): readonly SourceFile[];
  getOptionsDiagnostics: Program["getOptionsDiagnostics"];
  getGlobalDiagnostics: Program["getGlobalDiagnostics"];
  getConfigFileParsingDiagnostics: Program["getConfigFileParsingDiagnostics"];
  getSyntacticDiagnostics: Program["getSyntacticDiagnostics"];
  getSemanticDiagnostics: Program["getSemanticDiagnostics"];
  getDeclarationDiagnostics: Program["getDeclarationDiagnostics"];
  emit: Program["emit"];
  /** `file` and the files it reaches through imports and `/// <reference path>`, by file name (as the builder answers). */
  getAllDependencies(file: SourceFile): string[];
}

/** `sourceFile.resolvedModules` (internal in TypeScript 5.0): resolutions by module name and mode. */
interface ResolvedModules {
  forEach(cb: (resolution: { resolvedModule?: { resolvedFileName: string } } | undefined) => void): void;
}

/**
 * The files `file` depends on: itself, then everything reachable through
 * resolved imports and path references. A script (a file that is not a
 * module) may affect every file, so it depends on all of them, as in
 * TypeScript's `BuilderState.getAllDependencies`.
 */
export function allDependencies(ts: TS, program: Program, file: SourceFile): string[] {
  const commonJs = (file as unknown as { commonJsModuleIndicator?: unknown }).commonJsModuleIndicator !== undefined;
  if (!ts.isExternalModule(file) && !commonJs) return program.getSourceFiles().map((f) => f.fileName);
  const seen = new Set<string>([file.fileName]);
  const queue = [file];
  for (let f = queue.pop(); f; f = queue.pop()) {
    const targets = f.referencedFiles.map((r) => ts.resolveTripleslashReference(r.fileName, f!.fileName));
    (f as unknown as { resolvedModules?: ResolvedModules }).resolvedModules?.forEach((r) => {
      if (r?.resolvedModule) targets.push(r.resolvedModule.resolvedFileName);
    });
    for (const name of targets) {
      const dep = program.getSourceFile(name);
      if (!dep || seen.has(dep.fileName)) continue;
      seen.add(dep.fileName);
      queue.push(dep);
    }
  }
  return [...seen];
}

/**
 * `host.createProgram` for a watch compiler host: a new program reusing the
 * old one's unchanged files, wrapped as a builder. The type checker is made
 * at once, as the builder does, so every file is bound when tslab reads the
 * cell file's `locals` right after.
 */
export function createPlainBuilder(
  ts: TS,
  rootNames: readonly string[] | undefined,
  options: TSNS.CompilerOptions | undefined,
  host: TSNS.CompilerHost | undefined,
  old: PlainBuilder | undefined,
  configFileParsingDiagnostics?: readonly TSNS.Diagnostic[],
  projectReferences?: readonly TSNS.ProjectReference[],
): PlainBuilder {
  // No root names: the watch program only asks to re-wrap the current program (new config diagnostics).
  const program =
    rootNames === undefined && old
      ? old.getProgram()
      : ts.createProgram({ rootNames: rootNames ?? [], options: options ?? {}, host, oldProgram: old?.getProgramOrUndefined(), configFileParsingDiagnostics, projectReferences });
  program.getTypeChecker();
  return {
    getProgram: () => program,
    getProgramOrUndefined: () => program,
    releaseProgram: () => undefined,
    getCompilerOptions: () => program.getCompilerOptions(),
    getCurrentDirectory: () => program.getCurrentDirectory(),
    getSourceFile: (fileName) => program.getSourceFile(fileName),
    getSourceFiles: () => program.getSourceFiles(),
    getOptionsDiagnostics: (token) => program.getOptionsDiagnostics(token),
    getGlobalDiagnostics: (token) => program.getGlobalDiagnostics(token),
    getConfigFileParsingDiagnostics: () => program.getConfigFileParsingDiagnostics(),
    getSyntacticDiagnostics: (file, token) => program.getSyntacticDiagnostics(file, token),
    getSemanticDiagnostics: (file, token) => program.getSemanticDiagnostics(file, token),
    getDeclarationDiagnostics: (file, token) => program.getDeclarationDiagnostics(file, token),
    emit: (file, writeFile, token, dtsOnly, transformers) => program.emit(file, writeFile, token, dtsOnly, transformers),
    getAllDependencies: (file) => allDependencies(ts, program, file),
  };
}
