#!/usr/bin/env bash
# Install what the cellucid-r driver's mapping test (harness/tests/r_driver.rs) needs:
# R itself and the three packages scripts/writers/cellucid-r.R loads, all from Debian:
#   r-base-core (Rscript), r-cran-hdf5r (reads the .h5ad), r-cran-jsonlite (params.json and
#   the recording stand-in's output), r-cran-matrix (dgCMatrix).
# cellucid-r itself is in no registry this project reaches, so it is not installed here:
# the test runs the driver with its recording stand-in (README: "cellucid-r as a writer").
# Only what is missing is installed. Without root nothing can be installed; the test then
# skips with a reason when Rscript is absent (and fails when CI is set).
set -euo pipefail

need=()
for pkg in r-base-core r-cran-hdf5r r-cran-jsonlite r-cran-matrix; do
  # dpkg -s succeeds for removed-but-configured packages too; check the status line.
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need+=("$pkg")
  fi
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-r: not root; not installing ${need[*]} (the R driver test skips without Rscript, fails under CI)" >&2
  exit 0
fi

echo "install-r: installing ${need[*]}" >&2
# Another installer (or unattended-upgrades) may hold the dpkg lock: wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
