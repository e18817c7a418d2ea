#!/usr/bin/env bash
# Install what harness/tests/slurm.rs needs to run scripts/slurm/sweep-array.sh on a real
# one-node Slurm cluster: slurm-wlm (slurmctld, slurmd and the client commands sbatch,
# squeue, sinfo, scancel) and munge (munged, which Slurm authenticates with). The test
# starts its own munged, slurmctld and slurmd on 127.0.0.1 with a generated slurm.conf
# and munge key in a temporary directory, so the packages' system services are left as
# they are set up (without /etc/slurm/slurm.conf, slurmctld and slurmd do not start).
# Only what is missing is installed; without root this exits 0 with a message (the test
# needs root and skips then anyway).
set -euo pipefail
. "$(dirname "$0")/lib/apt-missing.sh"
apt_install_missing install-slurm "the Slurm test (harness/tests/slurm.rs) will be skipped" \
  slurm-wlm munge
