#!/usr/bin/env bash
# Install the tools the harness's filesystem targets need (harness/src/target/):
#   xfsprogs (mkfs.xfs), btrfs-progs (mkfs.btrfs), sshfs + fuse3 (the FUSE mount and
#   fusermount3), openssh-server (sshd, the far end of sshfs), openssh-client (ssh-keygen,
#   ssh). Only what is missing is installed. Without root nothing can be installed and the
#   root-only targets are skipped anyway, so this exits 0 with a message in that case.
set -euo pipefail

need=()
for pkg in xfsprogs btrfs-progs sshfs openssh-server openssh-client fuse3; do
  # dpkg -s succeeds for removed-but-configured packages too; check the status line.
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need+=("$pkg")
  fi
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-fs-deps: not root; not installing ${need[*]} (the xfs, btrfs and sshfs targets will be skipped)" >&2
  exit 0
fi

echo "install-fs-deps: installing ${need[*]}" >&2
apt-get update -qq
# policy-rc.d would be the usual way to stop sshd starting; the harness never uses the
# system sshd service, so it is simply left as the package sets it up.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
