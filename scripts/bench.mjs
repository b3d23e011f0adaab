#!/usr/bin/env node
// `npm run bench -- NAME [--json] [options]` runs bench/NAME.ts. With --json
// the benchmark prints one JSON object as its last line. `--help` (or -h)
// prints the benchmark's options: the doc comment at the top of its file,
// where every benchmark documents them.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(new URL("../bench", import.meta.url))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3));
const usage = `usage: npm run bench -- NAME [--json] [options]   (npm run bench -- NAME --help lists NAME's options)\nbenchmarks: ${available.join(", ") || "(none)"}\n`;

if (name === undefined || name === "--help" || name === "-h") {
  process.stdout.write(usage);
  process.exit(0);
}
if (!available.includes(name)) {
  process.stderr.write(`unknown benchmark '${name}'\n${usage}`);
  process.exit(2);
}
const file = `bench/${name}.ts`;

/** The first block comment of a file, without its comment markers. */
function docComment(path) {
  const m = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(path, "utf8"));
  if (!m) return `(bench/${name}.ts has no doc comment)`;
  return m[1]
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
}

if (rest.includes("--help") || rest.includes("-h")) {
  process.stdout.write(docComment(new URL(`../${file}`, import.meta.url)) + "\n");
  process.exit(0);
}
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
