#!/usr/bin/env bash
# The Ray recipe of docs/cluster/ray_sweep.py on a local Ray: 4 shards mapped as Ray tasks and
# merged must print the table the unsharded sweep prints, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${RAY_VENV:-target/ray-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ray>=2.9"
[ -x target/release/servecast ] || cargo build --release --quiet
export SERVECAST_BIN="$PWD/target/release/servecast"
out="$(mktemp -d)"
RAY_AUTH_MODE=disabled "$venv/bin/python" docs/cluster/ray_sweep.py --shards 4 --format json > "$out/ray.json"
"$SERVECAST_BIN" sweep --gpu a100-80g --model llama-3.1-8b --qps 4,8 --num-requests 120 \
  --axis max_num_seqs=16,32,64,128 --axis util=0.6,0.8,0.9 --quiet --format json > "$out/unsharded.json"
cmp "$out/ray.json" "$out/unsharded.json"
echo "ray recipe: 4 shards merged = the unsharded sweep"
rm -rf "$out"
