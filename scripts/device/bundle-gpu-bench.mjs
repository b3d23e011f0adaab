#!/usr/bin/env node
// Bundles bench/gpu.ts into .gpu/bench/gpu.mjs for a GPU machine that has no
// node_modules: one ES module holding tslm's model and training code, TF.js
// core and its webgpu backend (from PKGS, default /tmp/tslm-gpu-pkgs/node_modules), with
// the `webgpu` package (Dawn's native addon) left outside. Used by
// scripts/device/prepare-gpu.sh.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkgs = process.env.PKGS ?? "/tmp/tslm-gpu-pkgs/node_modules";
await build({
  entryPoints: [`${root}bench/gpu.ts`],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: `${root}.gpu/bench/gpu.mjs`,
  // ES module entries, so TF.js core exists once (its gradients register on the same copy).
  mainFields: ["module", "main"],
  nodePaths: [pkgs],
  // tslm's own pinned copies, shared by the webgpu backend.
  alias: {
    "@tensorflow/tfjs-core": `${root}node_modules/@tensorflow/tfjs-core`,
    "@tensorflow/tfjs-backend-cpu": `${root}node_modules/@tensorflow/tfjs-backend-cpu`,
  },
  external: ["webgpu", "*.node"],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning",
});
