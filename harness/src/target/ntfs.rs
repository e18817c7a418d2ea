//! `ntfs`: NTFS, the format of Windows disks, made by `mkntfs` (quick format) on a
//! sparse image and mounted by `ntfs-3g` (the kernel's ntfs3 module is not available
//! here), in the foreground (`-o no_detach`) as our child.
//!
//! NTFS itself has no practical file-count limit (2³² − 1 files); what an export of many
//! small files meets is the volume's space: every file takes a 1 KiB MFT record (small
//! payloads live inside it), and the MFT grows into the free space until ENOSPC, "No
//! space left on device". The image's size sets that limit.

use super::loopfs::sparse_image;
use super::{finish, fuse, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::Path;
use std::process::Command;

const MIN_SIZE: u64 = 8 << 20;

pub(super) fn provision(work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let name = "ntfs";
    tools::require_root(name)?;
    let mkfs = tools::require(name, "mkntfs", "ntfs-3g")?;
    let ntfs3g = tools::require(name, "ntfs-3g", "ntfs-3g")?;
    fuse::available(name)?;

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let image = sparse_image(&guard, name, &dir, size_bytes.max(MIN_SIZE))?;
    // -F: an image file, not a block device; -Q: do not zero the volume (sparse stays sparse).
    tools::run(name, "mkfs", Command::new(&mkfs).args(["-q", "-F", "-Q"]).arg(&image))?;
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| tools::io_failed(name, "mount point", e))?;
    let mut cmd = Command::new(&ntfs3g);
    cmd.args(["-o", "no_detach"]).arg(&image).arg(&mnt);
    let pid = fuse::foreground(&guard, name, "ntfs-3g", cmd, &mnt, &dir.join("ntfs-3g.log"))?;

    let footprint = Footprint {
        private_dir: Some(dir),
        mount_point: Some(mnt.clone()),
        image: Some(image),
        daemons: vec![("ntfs-3g".into(), pid)],
        ..Footprint::default()
    };
    finish(&TargetSpec::Ntfs, &mnt, guard, footprint)
}
