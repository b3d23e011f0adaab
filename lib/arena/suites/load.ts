/**
 * Loads and validates a suite folder. Every problem names the file, the line
 * and the key; all problems of a file are reported together (up to 20) so a
 * suite author fixes them in one pass.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { DataError, ConfigError, type Location } from "../../util/errors.js";
import { readYaml, resolveConfig } from "../../util/config.js";
import { packageInfo } from "../../util/package.js";
import { parseJsonStrict, readTextFile } from "../../util/files.js";
import { contentHash } from "../store/hash.js";
import type { SuiteInfo, SuitePrompt } from "../types.js";
import { PromptLineSchema, SuiteFileSchema } from "./schema.js";

const MAX_PROBLEMS = 20;

/** Where suites are looked up by name: `eval-suites/` in the working folder, then in the tslm package. */
export function suiteSearchPath(cwd = process.cwd()): string[] {
  const dirs = [join(cwd, "eval-suites")];
  const pkg = join(packageInfo().root, "eval-suites");
  if (!dirs.includes(pkg)) dirs.push(pkg);
  return dirs;
}

/** Finds a suite folder from a path or a name. */
export function findSuite(nameOrPath: string, searchPath: string[] = suiteSearchPath()): string {
  const asPath = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  if (existsSync(join(asPath, "suite.yaml"))) return asPath;
  if (/^[A-Za-z0-9._-]+$/.test(nameOrPath)) {
    for (const d of searchPath) {
      const dir = join(d, nameOrPath);
      if (existsSync(join(dir, "suite.yaml"))) return dir;
    }
  }
  throw new ConfigError(`no suite '${nameOrPath}': expected a folder holding suite.yaml, or a suite name under ${searchPath.join(" or ")}`, { key: "suite" });
}

/**
 * Loads `suite.yaml` and its prompts file.
 * @throws ConfigError / DataError naming the file, line and key of every problem.
 * @example loadSuite("general").prompts.length >= 60
 */
export function loadSuite(nameOrPath: string, searchPath?: string[]): SuiteInfo {
  const dir = findSuite(nameOrPath, searchPath);
  const yamlFile = join(dir, "suite.yaml");
  const { value, lineOf } = readYaml(yamlFile);
  const meta = resolveConfig(SuiteFileSchema, value, { file: yamlFile, lineOf });
  const promptsFile = promptsPath(dir, meta.prompts, { file: yamlFile, line: lineOf("prompts"), key: "prompts" });
  const prompts = parsePrompts(readTextFile(promptsFile, "prompts file"), promptsFile, meta.categories);
  for (const c of Object.keys(meta.category_generation ?? {})) {
    if (!meta.categories.includes(c)) {
      throw new ConfigError(`category_generation names '${c}', which is not in categories`, { file: yamlFile, line: lineOf(`category_generation.${c}`), key: `category_generation.${c}` });
    }
  }
  const judgeTypes = ["llm", "reference", "human", "custom", "ensemble"];
  if (meta.judge && !judgeTypes.includes(String(meta.judge.type))) {
    throw new ConfigError(`judge.type must be one of ${judgeTypes.join(", ")}; got ${JSON.stringify(meta.judge.type)}`, { file: yamlFile, line: lineOf("judge.type"), key: "judge.type" });
  }
  const body = {
    name: meta.name,
    version: meta.version,
    description: meta.description,
    categories: meta.categories,
    judge: meta.judge,
    generation: meta.generation,
    category_generation: meta.category_generation,
    prompts,
  };
  return { ...body, hash: contentHash(body) };
}

/**
 * Where a suite's `prompts:` file is: a relative path must stay inside the
 * suite folder (after following links), so a shared suite cannot make tslm
 * read (and echo in its errors) a file elsewhere; an absolute path is an
 * explicit choice and is taken as written.
 */
export function promptsPath(dir: string, prompts: string, where: Location): string {
  const file = isAbsolute(prompts) ? prompts : resolve(dir, prompts);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigError(`prompts file ${file} does not exist`, where);
  if (!isAbsolute(prompts)) {
    const inside = relative(realpathSync(dir), realpathSync(file));
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      throw new ConfigError(`prompts path '${prompts}' leads out of the suite folder ${dir}; keep the prompts file in the folder, or write an absolute path`, where);
    }
  }
  return file;
}

/** Parses and validates prompts.jsonl text. */
export function parsePrompts(text: string, file: string, categories: readonly string[]): SuitePrompt[] {
  const problems: { line: number; key?: string; message: string }[] = [];
  const prompts: SuitePrompt[] = [];
  const seen = new Map<string, number>();
  const allowed = new Set(categories);
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let i = 0; i < lines.length && problems.length < MAX_PROBLEMS; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = parseJsonStrict(raw);
    } catch (e) {
      problems.push({ line, message: `not valid JSON: ${(e as Error).message}` });
      continue;
    }
    const r = PromptLineSchema.safeParse(value);
    if (!r.success) {
      for (const issue of r.error.issues.slice(0, 3)) {
        if (issue.code === "unrecognized_keys") {
          const keys = (issue as { keys: string[] }).keys;
          problems.push({ line, key: keys[0], message: `unknown key '${keys[0]}'; known keys: id, category, prompt, messages, reference, tags` });
        } else {
          const key = issue.path.map(String).join(".");
          problems.push({ line, key: key || undefined, message: issue.message.replace(/^Invalid input: /, "") });
        }
      }
      continue;
    }
    const p = r.data;
    if (seen.has(p.id)) {
      problems.push({ line, key: "id", message: `duplicate id '${p.id}' (first on line ${seen.get(p.id)})` });
      continue;
    }
    seen.set(p.id, line);
    if (!allowed.has(p.category)) {
      problems.push({ line, key: "category", message: `category '${p.category}' is not in suite.yaml's categories (${categories.join(", ")})` });
      continue;
    }
    const prompt: SuitePrompt = {
      id: p.id,
      category: p.category,
      messages: p.messages ?? [{ role: "user", content: p.prompt! }],
    };
    if (p.reference !== undefined) prompt.reference = p.reference;
    if (p.tags) prompt.tags = p.tags;
    prompts.push(prompt);
  }
  if (problems.length > 0) {
    const first = problems[0];
    const list = problems.map((p) => `  ${file}:${p.line}${p.key ? ` key '${p.key}'` : ""}: ${p.message}`).join("\n");
    throw new DataError(
      `${problems.length}${problems.length >= MAX_PROBLEMS ? "+" : ""} problem(s) in prompts file:\n${list}\n`,
      { file, line: first.line, key: first.key },
    );
  }
  if (prompts.length === 0) throw new DataError("prompts file holds no prompts", { file });
  return prompts;
}

/** Keeps the prompts a run asked for (categories, ids, limit), in suite order. */
export function selectPrompts(
  prompts: readonly SuitePrompt[],
  sel: { categories?: string[]; ids?: string[]; limit?: number } = {},
): SuitePrompt[] {
  let out = [...prompts];
  if (sel.categories) {
    const want = new Set(sel.categories);
    const known = new Set(prompts.map((p) => p.category));
    for (const c of want) if (!known.has(c)) throw new ConfigError(`no prompt has category '${c}'`, { key: "prompts.categories" });
    out = out.filter((p) => want.has(p.category));
  }
  if (sel.ids) {
    const byId = new Map(out.map((p) => [p.id, p]));
    out = sel.ids.map((id) => {
      const p = byId.get(id);
      if (!p) throw new ConfigError(`no prompt with id '${id}' in the suite (after the category filter)`, { key: "prompts.ids" });
      return p;
    });
  }
  if (sel.limit !== undefined) out = out.slice(0, sel.limit);
  if (out.length === 0) throw new ConfigError("the prompt selection is empty", { key: "prompts" });
  return out;
}
