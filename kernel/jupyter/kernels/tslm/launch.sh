#!/bin/sh
# Starts the tslm kernel of this checkout (this folder is kernel/jupyter/kernels/tslm).
# Used through JUPYTER_PATH=<checkout>/kernel/jupyter. `tslm kernel install` writes a
# kernelspec with absolute paths instead. TSLM_NODE picks the node binary.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH= cd -- "$here/../../../.." && pwd)
node=${TSLM_NODE:-$(command -v node)}
if [ -z "$node" ]; then
  echo "tslm kernel: node was not found on PATH; set TSLM_NODE to the node binary" >&2
  exit 1
fi
if [ ! -f "$root/dist/kernel/main.js" ]; then
  echo "tslm kernel: $root is not built yet; run npm run build there" >&2
  exit 1
fi
exec "$node" "$root/dist/kernel/main.js" "$@"
