#!/usr/bin/env bash
# Prepares .gpu/ and .gl/ (both ignored) for scripts/device/gpu-checks.sh on a
# GPU machine that has no Node.js and no network: this machine's node binary
# and Dawn's addon compressed with xz, bench/gpu.ts bundled into one module,
# and Debian's Vulkan loader with the glvnd libraries NVIDIA's Vulkan driver
# needs. Run from the repository root after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs=/tmp/tslm-gpu-pkgs
rm -rf .gpu && mkdir -p "$pkgs" .gpu/bench .gpu/node_modules/webgpu .gl
npm install --prefix "$pkgs" --no-save --no-audit --no-fund --ignore-scripts webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0 >/dev/null
PKGS="$pkgs/node_modules" node scripts/device/bundle-gpu-bench.mjs
cp bench/_pytorch_train.py .gpu/bench/
cp "$pkgs"/node_modules/webgpu/{index.js,package.json} .gpu/node_modules/webgpu/
xz -T2 -6 -c "$pkgs"/node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
if ! ls .gl/libvulkan1_*.deb .gl/libglvnd0_*.deb >/dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  apt-get $o update >/dev/null
  (cd .gl && apt-get $o download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libgles2 libopengl0)
fi
du -ch .gpu/node.xz .gpu/dawn.node.xz .gpu/bench .gpu/node_modules .gl | tail -1
