#!/usr/bin/env bash
# Builds the Python package (python/: PyO3 bindings, built by maturin) into a fresh virtual
# environment (target/py-venv unless PY_VENV says otherwise) and runs python/tests with pytest.
# The wheel's crate builds in the workspace's target/ (CARGO_TARGET_DIR, if set, instead), so the
# main crate's release artifacts from the steps before are reused. The tests compare against the
# CLI's JSON: SERVECAST_BIN (default target/release/servecast, built here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${PY_VENV:-$CARGO_TARGET_DIR/py-venv}"
echo "== cargo fmt / clippy of the bindings (python/)"
cargo fmt -p servecast-py -- --check
cargo clippy --release -p servecast-py -- -D warnings
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check maturin pytest pandas
echo "== pip install ./python (maturin, release)"
# The venv's maturin builds the wheel (no isolated build environment to download it into).
PATH="$(cd "$venv/bin" && pwd):$PATH" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation ./python
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
