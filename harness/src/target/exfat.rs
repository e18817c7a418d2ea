//! `exfat`: exFAT, the format of SD cards and USB sticks over 32 GB, made by exfatprogs'
//! `mkfs.exfat` with 128 KiB clusters (Microsoft's default for 32–256 GB volumes) on a
//! loop device over a sparse image, and mounted by `exfat-fuse` (this kernel has no exfat
//! module). exfat-fuse opens a block device, not an image file, hence the loop device.
//!
//! Every file takes at least one cluster, so a volume holds at most as many files as it
//! has clusters: an export of many small gene files fills a 32 GB stick at 256k files,
//! whatever their size. The limit is `size_bytes / 128 KiB` files (minus the folders and
//! the allocation bitmap): ENOSPC, "No space left on device", beyond.
//!
//! `mount.exfat-fuse` has no foreground option; it detaches its daemon once mounted
//! (`fuse::detaching`).

use super::loopfs::{attach, sparse_image};
use super::{finish, fuse, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;
use std::process::Command;

/// The cluster size of exFAT volumes of 32–256 GB.
const CLUSTER: &str = "128K";
const MIN_SIZE: u64 = 8 << 20;

pub(super) fn provision(work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let name = "exfat";
    tools::require_root(name)?;
    let mkfs = tools::require(name, "mkfs.exfat", "exfatprogs")?;
    let mount = tools::require(name, "mount.exfat-fuse", "exfat-fuse")?;
    let losetup = tools::require(name, "losetup", "mount")?;
    fuse::available(name)?;

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let image = sparse_image(&guard, name, &dir, size_bytes.max(MIN_SIZE))?;
    let device = attach(&guard, name, &losetup, &image)?;
    tools::run(name, "mkfs", Command::new(&mkfs).args(["-c", CLUSTER]).arg(&device))?;
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| tools::io_failed(name, "mount point", e))?;
    let mut cmd = Command::new(&mount);
    cmd.arg(&device).arg(&mnt);
    let pid = fuse::detaching(&guard, name, "exfat-fuse", cmd, &mnt)?;

    let footprint = Footprint {
        private_dir: Some(dir),
        mount_point: Some(mnt.clone()),
        image: Some(image),
        loop_device: Some(device),
        daemons: vec![("exfat-fuse".into(), pid)],
        ..Footprint::default()
    };
    finish(&TargetSpec::Exfat, &mnt, guard, footprint)
}
