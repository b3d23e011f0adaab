#!/usr/bin/env node
// The `tslm` command. The library is written in TypeScript and compiled to
// dist/ by `npm run build` (run automatically by `npm install`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/lib/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("tslm: the library is not built yet; run `npm run build` in " + fileURLToPath(new URL("..", import.meta.url)) + "\n");
  process.exit(1);
}
const { main: run } = await import(main.href);
await run(process.argv.slice(2));
