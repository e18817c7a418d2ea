//! `xfs` and `btrfs`: a filesystem made on a sparse image file under `work_dir`, attached
//! to a loop device and mounted. The image lives on the disk, so its blocks pass through
//! the disk's page cache as well (`Target::drop_caches` empties both).
//!
//! Steps, each registered for teardown as soon as it exists: image file → `mkfs` →
//! `losetup --find --show` → `mount(2)`. The steps are shared with the other image
//! targets (`ext4_few_inodes.rs`; `exfat.rs`, `ntfs.rs` and `fat32.rs` for the image and
//! the loop device).

use super::guard::Resource;
use super::{finish, Entry, mount, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Xfs,
    Btrfs,
}

impl Kind {
    fn spec(self) -> TargetSpec {
        match self {
            Kind::Xfs => TargetSpec::Xfs,
            Kind::Btrfs => TargetSpec::Btrfs,
        }
    }
    fn fs_type(self) -> &'static str {
        match self {
            Kind::Xfs => "xfs",
            Kind::Btrfs => "btrfs",
        }
    }
    /// (mkfs program, Debian package)
    fn mkfs(self) -> (&'static str, &'static str) {
        match self {
            Kind::Xfs => ("mkfs.xfs", "xfsprogs"),
            Kind::Btrfs => ("mkfs.btrfs", "btrfs-progs"),
        }
    }
    /// The smallest image mkfs accepts with default options (xfsprogs ≥ 5.19 refuses
    /// filesystems under 300 MB; btrfs's floor is about 114 MiB with DUP metadata).
    fn min_size(self) -> u64 {
        match self {
            Kind::Xfs => 320 << 20,
            Kind::Btrfs => 256 << 20,
        }
    }
}

pub(super) fn provision(kind: Kind, work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let name = kind.fs_type();
    tools::require_root(name)?;
    let (mkfs_tool, package) = kind.mkfs();
    let mkfs = tools::require(name, mkfs_tool, package)?;
    let losetup = tools::require(name, "losetup", "mount")?;

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let image = sparse_image(&guard, name, &dir, size_bytes.max(kind.min_size()))?;
    tools::run(name, "mkfs", Command::new(&mkfs).args(["-q", "-f"]).arg(&image))?;
    mount_image(&kind.spec(), guard, &losetup, dir, image, name)
}

/// The steps every loop-image target shares after its own mkfs: `image` (in the private
/// `dir`) attached to a loop device, mounted as `fs_type`, the target finished with that
/// footprint.
pub(super) fn mount_image(
    spec: &TargetSpec,
    guard: Guard,
    losetup: &Path,
    dir: PathBuf,
    image: PathBuf,
    fs_type: &str,
) -> Result<Target, TargetError> {
    let name = spec.name();
    let device = attach(&guard, &name, losetup, &image)?;
    let mnt = mount_device(&guard, &name, &dir, &device, fs_type)?;
    let footprint = Footprint {
        private_dir: Some(dir),
        mount_point: Some(mnt.clone()),
        image: Some(image),
        loop_device: Some(device),
        ..Footprint::default()
    };
    finish(spec, &mnt, guard, footprint)
}

/// Creates `dir/NAME.img`, sparse, of `size` bytes (on record first, removed at
/// teardown): only what the filesystem writes takes space on the disk.
pub(super) fn sparse_image(guard: &Guard, name: &str, dir: &Path, size: u64) -> Result<PathBuf, TargetError> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let image = dir.join(format!("{safe}.img"));
    guard.record(name, Entry::File { path: image.clone() })?;
    let file = std::fs::File::create(&image).map_err(|e| tools::io_failed(name, "image", e))?;
    guard.push(Resource::File(image.clone()));
    file.set_len(size).map_err(|e| tools::io_failed(name, "image", e))?;
    Ok(image)
}

/// `losetup --find --show IMAGE`: the loop device now backing `image` (on record before
/// and after, detached at teardown).
pub(super) fn attach(guard: &Guard, name: &str, losetup: &Path, image: &Path) -> Result<PathBuf, TargetError> {
    guard.record(name, Entry::LoopDevice { image: image.to_path_buf(), device: None })?;
    let out = tools::run(name, "losetup", Command::new(losetup).args(["--find", "--show"]).arg(image))?;
    let device = PathBuf::from(out.trim());
    if !device.starts_with("/dev") {
        return Err(tools::io_failed(name, "losetup", format!("unexpected output {out:?}")));
    }
    guard.push(Resource::LoopDevice(device.clone()));
    guard.record(name, Entry::LoopDevice { image: image.to_path_buf(), device: Some(device.clone()) })?;
    Ok(device)
}

/// Mounts `device` (a kernel filesystem of `fs_type`) on `dir/mnt`; returns the mount point.
pub(super) fn mount_device(guard: &Guard, name: &str, dir: &Path, device: &Path, fs_type: &str) -> Result<PathBuf, TargetError> {
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| tools::io_failed(name, "mount point", e))?;
    guard.record(name, Entry::Mount { path: mnt.clone() })?;
    mount(name, &device.to_string_lossy(), &mnt, fs_type, 0, "")?;
    guard.push(Resource::Mount(mnt.clone()));
    Ok(mnt)
}
