#!/usr/bin/env bash
# Install what cellucid-bench needs on a fresh Debian machine, and nothing that is
# already there: a C toolchain and cmake >= 3.26 (the `hdf5` crate builds a current HDF5
# from source and links it statically; Debian 12 ships cmake 3.25, so cmake comes from
# PyPI into a small venv, linked next to `cargo` so that every cargo run finds it),
# libhdf5-dev and pkg-config (for `--no-default-features` builds, and for the CI gate's
# builds of revisions older than the bundled HDF5), and a Rust toolchain check.
# Safe to run again. Needs root (or sudo) only when a package is missing.
set -euo pipefail

need=()
dpkg -s libhdf5-dev >/dev/null 2>&1 || need+=(libhdf5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# Python headers for the Python package (python/, built by maturin in scripts/test-python.sh).
python3 -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' >/dev/null 2>&1 || need+=(python3-dev)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
# `ci --counter instructions` counts an export's instructions under cachegrind.
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "install-deps: need root to install ${need[*]} (apt-get install ${need[*]})" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found. Install Rust (https://rustup.rs) and run again." >&2
  exit 1
fi

# cmake >= 3.26 for hdf5-metno-src (the bundled HDF5). A new enough cmake on PATH wins.
cmake_ok() {
  "$1" --version 2>/dev/null | awk 'NR == 1 { split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 26)) }'
}
if ! { command -v cmake >/dev/null 2>&1 && cmake_ok cmake; }; then
  venv="${CELLUCID_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cellucid-bench}/cmake-venv"
  if ! cmake_ok "$venv/bin/cmake"; then
    echo "install-deps: installing cmake (>= 3.26, from PyPI) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'cmake>=3.26,<4'
  fi
  # cargo's own bin directory is on PATH wherever cargo runs (rustup puts it there).
  bindir="$(dirname "$(command -v cargo)")"
  if [ ! -w "$bindir" ]; then
    echo "install-deps: cannot link cmake into $bindir; put $venv/bin on PATH (or export CMAKE=$venv/bin/cmake)" >&2
    exit 1
  fi
  ln -sf "$venv/bin/cmake" "$bindir/cmake"
  echo "install-deps: cmake $("$bindir/cmake" --version | awk 'NR == 1 { print $3 }') linked at $bindir/cmake" >&2
fi
