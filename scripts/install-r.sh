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
. "$(dirname "$0")/lib/apt-missing.sh"
apt_install_missing install-r \
  "the R driver test skips without Rscript, fails under CI" \
  r-base-core r-cran-hdf5r r-cran-jsonlite r-cran-matrix
