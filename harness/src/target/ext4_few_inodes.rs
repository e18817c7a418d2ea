//! `ext4-few-inodes:N`: ext4 made with a small inode table (`mkfs.ext4 -N N`) on a loop
//! device. Every file and directory takes one inode, so an export of more files than
//! the table holds fails with ENOSPC ("No space left on device") while `df` still shows
//! free blocks: the "too many files" of a filesystem formatted for few, large files.
//!
//! mkfs rounds N to whole inode-table blocks in every block group; the real count is
//! what `statvfs` reports (`info::inodes`). No blocks are reserved for root (`-m 0`), so
//! that the inodes, not the space, are the limit.

use super::loopfs::{mount_image, sparse_image};
use super::{private_dir, tools, Guard, Target, TargetError, TargetSpec};
use std::path::Path;
use std::process::Command;

/// Below this mkfs.ext4 leaves little room for data beside the journal.
const MIN_SIZE: u64 = 16 << 20;

pub(super) fn provision(spec: &TargetSpec, inodes: u64, work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let name = spec.name();
    let name = name.as_str();
    tools::require_root(name)?;
    let mkfs = tools::require(name, "mkfs.ext4", "e2fsprogs")?;
    let losetup = tools::require(name, "losetup", "mount")?;

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let image = sparse_image(&guard, name, &dir, size_bytes.max(MIN_SIZE))?;
    tools::run(
        name,
        "mkfs",
        Command::new(&mkfs).args(["-q", "-F", "-m", "0", "-N"]).arg(inodes.to_string()).arg(&image),
    )?;
    mount_image(spec, guard, &losetup, dir, image, "ext4")
}
