#!/usr/bin/env node
// `npm test [-- FILES... | mocha args]`: installs missing system packages
// (Jupyter, oneDNN, Chromium, SciPy), builds the library and the
// native addon, then runs the specs with mocha: all of them, or only FILES
// when given. The last line printed is `N passed, N failed`.
//   TSLM_TEST_NO_SETUP=1  skips the system packages and the build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// Progress bars of long tests would interleave with mocha's report.
const env = { ...process.env, TSLM_PROGRESS: process.env.TSLM_PROGRESS ?? "0" };
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit", env }).status ?? 1;

const args = process.argv.slice(2);
if (process.env.TSLM_TEST_NO_SETUP !== "1") {
  if (run("bash", ["scripts/system-deps.sh"]) !== 0) process.exit(1);
  if (run("npm", ["run", "--silent", "build"]) !== 0) process.exit(1);
}

// The spec list lives here, not in .mocharc.json, so `npx mocha FILE` runs
// only FILE.
const files = args.filter((a) => !a.startsWith("-") && (/\.test\.ts$|[*]/.test(a) || existsSync(new URL(`../${a}`, import.meta.url))));
const mochaArgs = files.length > 0 ? args : [...args, "test/**/*.test.ts"];
process.exit(run("npx", ["mocha", ...mochaArgs]));
