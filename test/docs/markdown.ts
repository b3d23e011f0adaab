/**
 * Just enough Markdown for the documentation specs: the anchors GitHub gives
 * a page's headings and the relative links a page makes, outside code.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

/** A line is inside a fenced code block from its opening ``` or ~~~ to the closing one. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  text.split("\n").forEach((l, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (m) {
      if (fence === null) fence = m[1][0];
      else if (m[1][0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: l });
  });
  return out;
}

/**
 * GitHub's heading anchor (github-slugger): lower case, punctuation and
 * symbols dropped (letters, marks, digits, `_`, `-` and spaces kept), each
 * space a hyphen; inline code keeps its text, not its backticks.
 * @example slug("The main job: `npm start`") === "the-main-job-npm-start"
 */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a page offers: its ATX headings (repeats get -1, -2, ... as on GitHub) and explicit `<a id|name>`. */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: l } of proseLines(text)) {
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(l);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of l.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(a[1]);
  }
  return out;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
export function links(text: string): Link[] {
  const out: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    const l = raw.replace(/`[^`]*`/g, "``"); // inline code is not a link, but `[x](y)` around code is
    for (const m of l.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line, target: m[1] });
    const def = /^ {0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(l);
    if (def) out.push({ line, target: def[1] });
  }
  return out;
}

/**
 * The relative links of `file` that do not resolve: a missing file or folder,
 * or an `#anchor` that the target Markdown page (or the page itself) lacks.
 * External links (`https:`, `mailto:` ...) are not followed.
 * Each problem reads `README.md:12: docs/x.md#y: no heading gives #y`.
 */
export function brokenLinks(file: string, root: string): string[] {
  const problems: string[] = [];
  const pages = new Map<string, Set<string>>();
  const anchorsOf = (page: string) => {
    let a = pages.get(page);
    if (!a) pages.set(page, (a = anchors(readFileSync(page, "utf8"))));
    return a;
  };
  const where = relative(root, file);
  for (const { line, target } of links(readFileSync(file, "utf8"))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
    const hash = target.indexOf("#");
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? "" : decodeURIComponent(target.slice(hash + 1));
    const dest = path === "" ? file : resolve(dirname(file), path);
    if (!existsSync(dest)) {
      problems.push(`${where}:${line}: ${target}: no such file`);
      continue;
    }
    if (anchor === "") continue;
    if (!dest.endsWith(".md") || !statSync(dest).isFile()) {
      problems.push(`${where}:${line}: ${target}: an anchor into something that is not a Markdown page`);
    } else if (!anchorsOf(dest).has(anchor)) {
      problems.push(`${where}:${line}: ${target}: no heading gives #${anchor}`);
    }
  }
  return problems;
}
