#!/usr/bin/env node
// `npm test [-- mocha args]`: installs missing system packages (Jupyter,
// OpenBLAS/oneDNN, Chromium), builds the library and the native addon, then
// runs every spec with mocha. The last line printed is `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status ?? 1;

const args = process.argv.slice(2);
const skipSetup = process.env.TSLM_TEST_NO_SETUP === "1";
if (!skipSetup) {
  if (run("bash", ["scripts/system-deps.sh"]) !== 0) process.exit(1);
  if (run("npm", ["run", "--silent", "build"]) !== 0) process.exit(1);
}
process.exit(run("npx", ["mocha", ...args]));
