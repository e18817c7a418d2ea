//! `tmpfs` and `tmpfs-nr-inodes:N`: a RAM filesystem mounted on a directory under
//! `work_dir`, capped at the requested size so an export that outgrows it fails with
//! ENOSPC instead of eating the machine's memory. With `nr_inodes=N` it also holds at
//! most N inodes (the root directory takes one): an export of more files fails with
//! ENOSPC while space is left, as on a filesystem that ran out of inodes.

use super::guard::Resource;
use super::{finish, Entry, mount, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;

/// Below this a tmpfs is too small to hold even a small export.
const MIN_SIZE: u64 = 16 << 20;

pub(super) fn provision(spec: &TargetSpec, work_dir: &Path, size_bytes: u64, nr_inodes: Option<u64>) -> Result<Target, TargetError> {
    let name = spec.name();
    let name = name.as_str();
    tools::require_root(name)?;
    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| tools::io_failed(name, "mount point", e))?;
    // size=0 (and nr_inodes=0) would mean "no limit" to the kernel; never pass them.
    let size = size_bytes.max(MIN_SIZE);
    let mut options = format!("size={size},mode=0755");
    if let Some(n) = nr_inodes {
        options.push_str(&format!(",nr_inodes={}", n.max(1)));
    }
    guard.record(name, Entry::Mount { path: mnt.clone() })?;
    mount(name, "cellucid-tmpfs", &mnt, "tmpfs", libc::MS_NOSUID | libc::MS_NODEV, &options)?;
    guard.push(Resource::Mount(mnt.clone()));
    let footprint = Footprint { private_dir: Some(dir), mount_point: Some(mnt.clone()), ..Footprint::default() };
    finish(spec, &mnt, guard, footprint)
}
