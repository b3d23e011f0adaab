#!/usr/bin/env node
// `npm run bench -- NAME [--json] [options]` runs bench/NAME.ts. With --json
// the benchmark prints one JSON object as its last line.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(new URL("../bench", import.meta.url))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [--json]\nbenchmarks: ${available.join(", ") || "(none)"}\n`);
  process.exit(name ? 2 : 0);
}
const file = `bench/${name}.ts`;
if (!existsSync(new URL(`../${file}`, import.meta.url))) process.exit(2);
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
