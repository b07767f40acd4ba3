#!/usr/bin/env bash
# The Python package in CI: fmt and clippy of the bindings (python/), the wheel built and
# installed into a fresh virtual environment (.ci/py-venv.sh), then pytest python/tests. The
# tests compare against the CLI's JSON: SERVECAST_BIN (default target/release/servecast, built
# here if missing). .ci/notebooks.sh and .ci/ray.sh run in the same environment afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${PY_VENV:-$CARGO_TARGET_DIR/py-venv}"
echo "== cargo fmt / clippy of the bindings (python/)"
cargo fmt -p servecast-py -- --check
cargo clippy --release -p servecast-py -- -D warnings
.ci/py-venv.sh
if [ -z "${SERVECAST_BIN:-}" ]; then
  if [ ! -x "$CARGO_TARGET_DIR/release/servecast" ]; then
    cargo build --release --quiet
  fi
  export SERVECAST_BIN="$CARGO_TARGET_DIR/release/servecast"
fi
echo "== pytest python/tests"
# Run from python/tests so `import servecast` is the installed package, not the source folder.
cd python/tests
"$venv/bin/python" -m pytest -q .
