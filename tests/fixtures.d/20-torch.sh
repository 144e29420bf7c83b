#!/usr/bin/env bash
# torch fixtures: real torch.save files (tests/torch/gen_torch.py through /usr/bin/python3 with
# python3-torch) and corrupt archives/pickles (tools/mktorchbad) under OUT/torch/.
set -euo pipefail
build=$1 out=$2/torch
mkdir -p "$out"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 "$(dirname "$0")/../torch/gen_torch.py" "$out/real"
else
  echo "20-torch.sh: SKIPPING real torch.save fixtures: /usr/bin/python3 cannot import torch" \
       "(scripts/install-deps.sh installs python3-torch)" >&2
fi
/usr/bin/python3 "$(dirname "$0")/../torch/gen_bad.py" "$out/bad"
