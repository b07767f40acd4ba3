#!/usr/bin/env bash
# Runs the notebooks in notebooks/ with `pytest --nbmake` in the environment .ci/py-venv.sh makes
# (PY_VENV, default target/py-venv: servecast installed with `pip install .`, made here if
# missing). The notebooks use the servecast Python package.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${PY_VENV:-$CARGO_TARGET_DIR/py-venv}"
"$venv/bin/python" -c "import servecast, nbmake" 2>/dev/null || .ci/py-venv.sh
export MPLBACKEND=Agg
"$venv/bin/python" -m pytest --nbmake --nbmake-timeout=300 -q notebooks/
