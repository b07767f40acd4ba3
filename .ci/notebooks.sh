#!/usr/bin/env bash
# Runs the notebooks in notebooks/ with `pytest --nbmake`, from a virtual environment this script
# creates (target/nb-venv unless NB_VENV says otherwise). The notebooks drive the servecast binary
# (SERVECAST_BIN, default target/release/servecast, built here if missing) through its JSON output.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NB_VENV:-target/nb-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
if [ -z "${SERVECAST_BIN:-}" ]; then
  if [ ! -x target/release/servecast ]; then
    cargo build --release --quiet
  fi
  export SERVECAST_BIN="$PWD/target/release/servecast"
fi
export MPLBACKEND=Agg
"$venv/bin/python" -m pytest --nbmake --nbmake-timeout=300 -q notebooks/
