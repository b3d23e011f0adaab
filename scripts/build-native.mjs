#!/usr/bin/env node
// Builds the native CPU kernels in native/ with node-gyp (npm's bundled copy;
// no header download: --nodedir points at the system's Node headers). A failed
// build is not fatal: the reason goes to native/build/build-error.txt and tslm
// runs on the wasm backend, saying why once.
//
//   node scripts/build-native.mjs [--force]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const nativeDir = join(root, "native");
const buildDir = join(nativeDir, "build");
const product = join(buildDir, "Release", "tslm_native.node");
const errorFile = join(buildDir, "build-error.txt");
const force = process.argv.includes("--force");

function log(msg) {
  process.stderr.write(`tslm native: ${msg}\n`);
}

/** npm's bundled node-gyp: npm sets npm_config_node_gyp inside scripts; otherwise look beside node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(root, "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    "/usr/share/nodejs/npm/node_modules/node-gyp/bin/node-gyp.js",
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  ];
  return candidates.find((p) => p && existsSync(p));
}

/** Headers for --nodedir: npm config, then the system's (Debian/NodeSource put them in /usr/include/node). */
function findNodeDir() {
  const fromEnv = process.env.npm_config_nodedir;
  if (fromEnv && existsSync(join(fromEnv, "include", "node", "node_api.h"))) return fromEnv;
  for (const dir of [join(dirname(process.execPath), ".."), "/usr", "/usr/local"]) {
    if (existsSync(join(dir, "include", "node", "node_api.h"))) return dir;
  }
  return undefined;
}

function newestSource() {
  let newest = statSync(join(nativeDir, "binding.gyp")).mtimeMs;
  for (const f of readdirSync(join(nativeDir, "src"))) newest = Math.max(newest, statSync(join(nativeDir, "src", f)).mtimeMs);
  return newest;
}

function fail(reason, output = "") {
  mkdirSync(buildDir, { recursive: true });
  rmSync(product, { force: true }); // a stale binary would not match the JavaScript side
  const tail = output.split("\n").filter((l) => /error|Error|not found|No such/.test(l)).slice(-8).join("\n");
  writeFileSync(errorFile, `${reason}\n${tail}\n`);
  log(`build failed, tslm will use the wasm backend: ${reason}`);
  if (tail) log(tail);
  process.exit(0);
}

if (!existsSync(join(nativeDir, "binding.gyp"))) process.exit(0);
if (!force && existsSync(product) && statSync(product).mtimeMs >= newestSource()) process.exit(0);

const gyp = findNodeGyp();
if (!gyp) fail("node-gyp was not found (it ships with npm)");
const nodedir = findNodeDir();
if (!nodedir) fail("Node headers (include/node/node_api.h) were not found; install Debian's libnode-dev or nodejs headers");
if (!existsSync("/usr/include/dnnl.hpp") && !existsSync("/usr/local/include/dnnl.hpp"))
  fail("oneDNN headers (dnnl.hpp) were not found; install libdnnl-dev (scripts/system-deps.sh)");

rmSync(errorFile, { force: true });
const haveMakefile = existsSync(join(buildDir, "Makefile"));
const steps = force ? [["clean"], ["configure"], ["build"]] : haveMakefile ? [["build"]] : [["configure"], ["build"]];
const jobs = String(Math.max(1, Math.min(4, (await import("node:os")).availableParallelism())));
for (const step of steps) {
  const args = [gyp, ...step, `--nodedir=${nodedir}`];
  if (step[0] !== "clean") args.push("--release");
  if (step[0] === "build") args.push("--jobs", jobs);
  const r = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: "utf8", env: { ...process.env, npm_config_nodedir: nodedir } });
  if (r.status !== 0) fail(`node-gyp ${step[0]} exited with ${r.status ?? r.signal}`, `${r.stdout}\n${r.stderr}`);
}
if (!existsSync(product)) fail("node-gyp finished but produced no tslm_native.node");
log(`built ${product.slice(root.length)}`);
