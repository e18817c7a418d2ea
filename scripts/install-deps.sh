#!/usr/bin/env bash
# Install what cellucid-bench needs on a fresh Debian machine, and nothing that is
# already there: libhdf5 (the `hdf5` crate links it through pkg-config), pkg-config,
# and a Rust toolchain check. Safe to run again. Needs root (or sudo) only when a
# package is missing.
set -euo pipefail

need=()
dpkg -s libhdf5-dev >/dev/null 2>&1 || need+=(libhdf5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)

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
