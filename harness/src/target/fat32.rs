//! `fat32`: FAT32, the format of small USB sticks and SD cards, made by dosfstools'
//! `mkfs.vfat -F 32` on a sparse image and mounted read-write by `fusefat -o rw+` (this
//! kernel has no vfat module), in the foreground (`-f`) as our child.
//!
//! A FAT32 directory holds at most 65,536 32-byte entries, and a long file name takes
//! one entry per 13 characters plus its 8.3 alias: a gene file name of 14–26 characters
//! takes 3, so `var/` is full at about 21,800 genes and the next file fails. fusefat is
//! slow (about 40 file creations a second into a small directory here, ~14/s into a large
//! one), so reaching that takes about an hour. A volume below FAT32's minimum of 65,525
//! clusters (`mkfs.vfat -F 32` makes one, with a warning) would fill sooner, but fusefat
//! hangs on it, so the image is at least 34 MiB. fusefat implements no `statfs`: the
//! target reports 0 bytes total and free.

use super::loopfs::sparse_image;
use super::{finish, fuse, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;
use std::process::Command;

/// 65,525 clusters of 512 bytes (the fewest a FAT32 volume may have) plus its two FATs.
const MIN_SIZE: u64 = 34 << 20;

pub(super) fn provision(work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let name = "fat32";
    tools::require_root(name)?;
    let mkfs = tools::require(name, "mkfs.vfat", "dosfstools")?;
    let fusefat = tools::require(name, "fusefat", "fusefat")?;
    fuse::available(name)?;

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let image = sparse_image(&guard, name, &dir, size_bytes.max(MIN_SIZE))?;
    // 512-byte sectors and clusters: the most clusters (files) for the size.
    tools::run(name, "mkfs", Command::new(&mkfs).args(["-F", "32", "-S", "512", "-s", "1"]).arg(&image))?;
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| tools::io_failed(name, "mount point", e))?;
    let mut cmd = Command::new(&fusefat);
    cmd.args(["-f", "-o", "rw+"]).arg(&image).arg(&mnt);
    let pid = fuse::foreground(&guard, name, "fusefat", cmd, &mnt, &dir.join("fusefat.log"))?;

    let footprint = Footprint {
        private_dir: Some(dir),
        mount_point: Some(mnt.clone()),
        image: Some(image),
        daemons: vec![("fusefat".into(), pid)],
        ..Footprint::default()
    };
    finish(&TargetSpec::Fat32, &mnt, guard, footprint)
}
