#!/usr/bin/env bash
# The GPU machine's checks, one run (prepared by scripts/device/prepare-gpu.sh,
# with .gpu and .gl copied beside it): writes into $OUT (default /tmp/gpu-out)
#   hf-fixtures.tar  test/fixtures/hf/* built by transformers (scripts/device/hf-fixtures.py)
#   hf.log           that script's output
#   gpu.json, gpu.log  `bench/gpu.ts`: TF.js webgpu training beside PyTorch CUDA
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.log"
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" | tee -a "$OUT/gpu.log"

if [ -z "${SKIP_HF:-}" ]; then
rm -rf /tmp/hf && timeout 240 python3 scripts/device/hf-fixtures.py /tmp/hf >"$OUT/hf.log" 2>&1
echo "hf-fixtures exit $?" | tee -a "$OUT/hf.log"
tar -C /tmp/hf -cf "$OUT/hf-fixtures.tar" . 2>/dev/null
fi

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/node .gpu/node_modules/webgpu/dist/linux-x64
xz -dc .gpu/node.xz >/tmp/node/node && chmod +x /tmp/node/node
xz -dc .gpu/dawn.node.xz >.gpu/node_modules/webgpu/dist/linux-x64/dawn.node
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
export XDG_RUNTIME_DIR=/tmp
# NVIDIA's Vulkan driver (libGLX_nvidia) needs glvnd's libraries, unpacked from .gl.
ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null >>"$OUT/gpu.log"
/tmp/node/node --version >>"$OUT/gpu.log"
# shellcheck disable=SC2086
timeout "${GPU_BENCH_TIMEOUT:-300}" /tmp/node/node .gpu/bench/gpu.mjs ${GPU_BENCH_ARGS:---configs C,D --batches 8,64 --steps 5 --warmup 2} --json \
  >"$OUT/gpu.json" 2>>"$OUT/gpu.log"
echo "gpu bench exit $?" >>"$OUT/gpu.log"
grep -v '^Warning: max' "$OUT/gpu.log" | tail -40
