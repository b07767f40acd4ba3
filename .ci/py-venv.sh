#!/usr/bin/env bash
# Makes the Python environment CI tests the package in: a fresh virtual environment (PY_VENV,
# default target/py-venv) with the test tools, and servecast installed the way a user installs it,
# `pip install .` at the repository's root (maturin builds the bindings crate, python/, in release
# mode; it shares target/ with the main crate, whose release build it reuses). Also builds the
# wheel file (target/wheels/servecast-VERSION-cp39-abi3-PLATFORM.whl) and checks its tag: one
# abi3 wheel per platform serves every CPython >= 3.9.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${PY_VENV:-$CARGO_TARGET_DIR/py-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@"; }
pip install --quiet maturin -r python/requirements-test.txt
# The venv's maturin builds (no isolated build environment to download it into).
export PATH="$(cd "$venv/bin" && pwd):$PATH"
echo "== maturin build --release (the wheel)"
rm -rf "$CARGO_TARGET_DIR/wheels"
maturin build --release --quiet --out "$CARGO_TARGET_DIR/wheels" 2>&1 | grep -v "^📦\|^🔗\|^🐍\|^⚠️\|^🍹" || true
wheel="$(ls "$CARGO_TARGET_DIR"/wheels/servecast-*.whl)"
case "$(basename "$wheel")" in
  servecast-*-cp39-abi3-*.whl) echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))" ;;
  *) echo "error: $wheel is not an abi3 wheel for CPython >= 3.9" >&2; exit 1 ;;
esac
echo "== pip install . (fresh venv: $venv)"
pip install --quiet --no-build-isolation .
"$venv/bin/python" -c "import servecast; print('servecast', servecast.__version__, 'from', servecast.__file__)"
