#!/usr/bin/env bash
# The recipes of docs/cluster/, each at small scale on this machine, in the environment
# .ci/py-venv.sh makes (PY_VENV, default target/py-venv; made here if missing):
# - ray_sweep.py on a local Ray (ray.init() here), over the Python package: 4 shards mapped as
#   Ray tasks and merged must give the document the unsharded sweep gives, from the package
#   (byte for byte) and from the CLI; its table must start with the rows README.md shows;
# - k8s-indexed-job.yaml and slurm-array.sh run verbatim per index (.ci/cluster_recipes.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${PY_VENV:-$CARGO_TARGET_DIR/py-venv}"
"$venv/bin/python" -c "import servecast, ray, yaml" 2>/dev/null || .ci/py-venv.sh
bin="${SERVECAST_BIN:-$CARGO_TARGET_DIR/release/servecast}"
[ -x "$bin" ] || cargo build --release --quiet
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
RAY_AUTH_MODE=disabled "$venv/bin/python" docs/cluster/ray_sweep.py --shards 4 --format json > "$out/ray.json"
"$venv/bin/python" - "$out/package.json" <<'PY'
import json, runpy, sys
import servecast
recipe = runpy.run_path("docs/cluster/ray_sweep.py")  # its SWEEP, without running main()
with open(sys.argv[1], "w") as f:
    print(json.dumps(servecast.sweep(**recipe["SWEEP"]), indent=2), file=f)
PY
cmp "$out/ray.json" "$out/package.json"
"$bin" sweep --gpu a100-80g --model llama-3.1-8b --qps 4,8 --num-requests 120 \
  --axis max_num_seqs=16,32,64,128 --axis util=0.6,0.8,0.9 --quiet --format json > "$out/cli.json"
"$venv/bin/python" -c "import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a!=b)" \
  "$out/ray.json" "$out/cli.json"
echo "ray recipe: 4 Ray tasks merged = the unsharded sweep (package and CLI)"
RAY_AUTH_MODE=disabled "$venv/bin/python" docs/cluster/ray_sweep.py --shards 4 > "$out/table.txt"
"$venv/bin/python" - "$out/table.txt" <<'PY'
import sys
table = open(sys.argv[1]).read()
section = open("README.md").read().split("### At cluster scale", 1)[1].split("\n### ", 1)[0]
shown = section.split("```text\n", 1)[1].split("```", 1)[0]
if not table.startswith(shown):
    sys.exit(f"README.md's Ray table is not what ray_sweep.py prints:\n{table}")
print(f"ray recipe: its table starts with the {len(shown.splitlines())} lines README.md shows")
PY
echo "== the Kubernetes Indexed Job and the Slurm array, per index"
"$venv/bin/python" .ci/cluster_recipes.py "$bin"
