#!/usr/bin/env bash
# Install the tools the harness's filesystem targets need (harness/src/target/):
#   xfsprogs (mkfs.xfs), btrfs-progs (mkfs.btrfs), sshfs + fuse3 (the FUSE mount and
#   fusermount3), openssh-server (sshd, the far end of sshfs), openssh-client (ssh-keygen,
#   ssh); for the targets with file-count limits: exfatprogs (mkfs.exfat) + exfat-fuse
#   (mount.exfat-fuse), ntfs-3g (mkntfs, ntfs-3g), dosfstools (mkfs.vfat) + fusefat
#   (fusefat); the kernel here has no vfat, exfat or ntfs3 module, so these are FUSE
#   mounts. ext4 (e2fsprogs) and prlimit (util-linux) are in every Debian system.
#   The sync daemons of the cloud-sync scenario (harness/src/scenario/cloud_sync/):
#   syncthing, rclone (serve webdav + mount, with fuse3). Only what is missing is
#   installed. Without root nothing can be installed and the root-only targets are
#   skipped anyway, so this exits 0 with a message in that case.
set -euo pipefail
. "$(dirname "$0")/lib/apt-missing.sh"
# The harness never uses the system sshd or syncthing services (it starts its own on
# 127.0.0.1), so they are left as the packages set them up.
apt_install_missing install-fs-deps \
  "the xfs, btrfs, sshfs, exfat, ntfs and fat32 targets and the cloud-sync scenario will be skipped" \
  xfsprogs btrfs-progs sshfs openssh-server openssh-client fuse3 \
  exfatprogs exfat-fuse ntfs-3g dosfstools fusefat syncthing rclone
