//! Filesystem targets: the real filesystems an export is benchmarked on.
//!
//! A [`TargetSpec`] names one (`tmpfs`, `disk`, `xfs`, `btrfs`, `sshfs`, `sshfs:20ms`,
//! `name=/path`); [`provision`] makes it exist and returns a [`Target`] whose `root` is a
//! fresh, empty directory on that filesystem; dropping the `Target` removes everything
//! provisioned for it.
//!
//! | target | what is provisioned (under the caller's `work_dir`, which is on the disk) |
//! |---|---|
//! | `tmpfs` | a tmpfs mount of `size_bytes` (`tmpfs.rs`) |
//! | `disk` | a temp directory: whatever filesystem `work_dir` is on (`disk.rs`) |
//! | `xfs`, `btrfs` | a sparse image file, `mkfs`, `losetup`, mount (`loopfs.rs`) |
//! | `sshfs` | a private sshd on 127.0.0.1 with throwaway keys, an sshfs mount of a directory it serves (`sshfs.rs`) |
//! | `sshfs:Nms` | the same through a loopback proxy delaying each direction N ms (`delay_proxy.rs`) |
//! | `name=/path` | nothing: a fresh subdirectory of the user's directory (`user.rs`) |
//! | `exfat` | a sparse image on a loop device, `mkfs.exfat` (128 KiB clusters), the `exfat-fuse` daemon (`exfat.rs`) |
//! | `ntfs` | a sparse image, `mkntfs`, `ntfs-3g` in the foreground as our child (`ntfs.rs`) |
//! | `fat32` | a sparse image, `mkfs.vfat -F 32`, `fusefat -o rw+` as our child (`fat32.rs`) |
//! | `ext4-few-inodes:N` | a sparse image, `mkfs.ext4 -N N`, a loop device, mount (`ext4_few_inodes.rs`) |
//! | `tmpfs-nr-inodes:N` | a tmpfs mount with `nr_inodes=N` (`tmpfs.rs`) |
//! | `ulimit-nofile:N` | a temp directory as `disk`; every run's command gets RLIMIT_NOFILE N through `prlimit` (`ulimit_nofile.rs`) |
//!
//! The last six are the guide's "too many files" limits (a FAT32 directory holds 65,536
//! entries, a small or large-clustered volume few files, an inode table or `nr_inodes`
//! a fixed count, RLIMIT_NOFILE the files open at once); the `too-many-files` scenario
//! (`crate::scenario::file_limits`) searches each for the largest export that fits.
//!
//! All but `disk`, `ulimit-nofile:N` and user paths need root; without it, or without a
//! needed tool, `provision` returns [`TargetError::Skipped`] with the reason (naming the Debian
//! package; `scripts/install-fs-deps.sh` installs them all), so a sweep can go on with
//! the other targets. Teardown is in `guard.rs`: in reverse order of creation on drop,
//! on panic, and on SIGINT/SIGTERM (then the process exits 130).
//!
//! SIGKILL runs no teardown, so each provisioned target first writes a ledger
//! (`ledger.rs`: `work_dir/cellucid-target-NAME-XXXXXX.ledger.json`, naming its private
//! directory and, before each is created, its mount, image, loop device and daemons) and
//! removes it last. [`reclaim::stale`] (at the start of a sweep or gate) and
//! `cellucid-bench targets clean` remove what targets of dead owners left (`reclaim.rs`,
//! with process identity and pidfd signals in `procs.rs`).

mod delay_proxy;
mod disk;
mod exfat;
mod ext4_few_inodes;
mod fat32;
mod fuse;
pub(crate) mod guard;
pub mod info;
pub mod ledger;
mod loopfs;
mod ntfs;
pub mod procs;
pub mod reclaim;
mod spec;
mod sshfs;
mod tmpfs;
pub(crate) mod tools;
mod ulimit_nofile;
mod user;

pub use delay_proxy::DelayProxy;
pub use guard::cleanup_all;
pub use spec::TargetSpec;

use guard::{Guard, Resource};
use ledger::{Entry, Ledger};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a target is not available.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target cannot exist here (not root, a tool is missing, no FUSE); not a fault.
    #[error("target {target} skipped: {reason}")]
    Skipped { target: String, reason: String },
    /// Provisioning (or a later operation) went wrong at `step`; everything already
    /// provisioned has been torn down.
    #[error("target {target} failed at {step}: {detail}")]
    Failed { target: String, step: String, detail: String },
    /// A `--target` value that does not parse.
    #[error("bad target {spec:?}: {reason}")]
    BadSpec { spec: String, reason: String },
}

/// The filesystem a target's `root` is on, as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    /// `tmpfs`, `ext4`, `xfs`, `btrfs`, `fuse.sshfs`, `overlay`, … (statfs magic,
    /// refined by mountinfo for FUSE and ext).
    pub fs_type: String,
    /// The mount's options then the superblock's, each once (`rw,relatime,inode64,…`).
    pub mount_options: String,
    pub total_bytes: u64,
    /// Bytes an unprivileged writer can still use (`f_bavail`).
    pub free_bytes: u64,
    /// The mount's source: `/dev/loop3`, `tmpfs`, `root@127.0.0.1:/…`, …
    pub device: String,
}

/// What a target put on the machine, for reports and for tests that check teardown.
#[derive(Debug, Clone, Default)]
pub struct Footprint {
    /// The target's private directory under `work_dir` (images, keys, mount point).
    pub private_dir: Option<PathBuf>,
    pub mount_point: Option<PathBuf>,
    pub image: Option<PathBuf>,
    pub loop_device: Option<PathBuf>,
    /// Daemons as (name, pid): `sshd`, `sshfs`, the FUSE filesystems' daemons.
    pub daemons: Vec<(String, u32)>,
    /// The delay proxy's loopback port.
    pub proxy_port: Option<u16>,
    /// The ledger naming all of the above (`ledger.rs`), removed at teardown.
    pub ledger: Option<PathBuf>,
    /// Wall time `provision` took.
    pub provisioned_in: Duration,
}

/// A provisioned filesystem. Dropping it tears down what was provisioned.
pub struct Target {
    pub spec: TargetSpec,
    /// A fresh empty directory on the target filesystem, for exports.
    pub root: PathBuf,
    /// The filesystem as it was right after provisioning.
    pub info: TargetInfo,
    footprint: Footprint,
    guard: Guard,
    /// `ulimit-nofile:N`: the open-file limit every run's command gets.
    nofile: Option<ulimit_nofile::Limit>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("spec", &self.spec)
            .field("root", &self.root)
            .field("info", &self.info)
            .field("footprint", &self.footprint)
            .finish()
    }
}

/// Makes `spec` exist. `work_dir` (on the disk) holds the target's private directory:
/// image files, keys, mount points. `size_bytes` sizes tmpfs and the xfs/btrfs images
/// (raised to what mkfs accepts: 320 MiB for xfs, 256 MiB for btrfs, 16 MiB for tmpfs).
/// Of the limited targets, `exfat`, `ntfs` and `fat32` images are `size_bytes` (at least
/// 8 MiB for exfat and ntfs, 34 MiB for fat32, whose 65,525 clusters of 512 bytes are the
/// FAT32 minimum), `ext4-few-inodes:N` at least 16 MiB, `tmpfs-nr-inodes:N` as tmpfs.
/// `disk`, `sshfs`, `ulimit-nofile:N` and user paths use the space they have.
pub fn provision(spec: &TargetSpec, work_dir: &Path, size_bytes: u64) -> Result<Target, TargetError> {
    let started = Instant::now();
    let mut target = match spec {
        TargetSpec::Tmpfs => tmpfs::provision(spec, work_dir, size_bytes, None),
        TargetSpec::Disk => disk::provision(work_dir),
        TargetSpec::Xfs => loopfs::provision(loopfs::Kind::Xfs, work_dir, size_bytes),
        TargetSpec::Btrfs => loopfs::provision(loopfs::Kind::Btrfs, work_dir, size_bytes),
        TargetSpec::Sshfs { latency_ms } => sshfs::provision(spec, *latency_ms, work_dir),
        TargetSpec::Path { name, path } => user::provision(spec, name, path),
        TargetSpec::Exfat => exfat::provision(work_dir, size_bytes),
        TargetSpec::Ntfs => ntfs::provision(work_dir, size_bytes),
        TargetSpec::Fat32 => fat32::provision(work_dir, size_bytes),
        TargetSpec::Ext4FewInodes { inodes } => ext4_few_inodes::provision(spec, *inodes, work_dir, size_bytes),
        TargetSpec::TmpfsNrInodes { inodes } => tmpfs::provision(spec, work_dir, size_bytes, Some(*inodes)),
        TargetSpec::UlimitNofile { limit } => ulimit_nofile::provision(spec, *limit, work_dir),
    }?;
    target.footprint.provisioned_in = started.elapsed();
    target.footprint.ledger = target.guard.ledger_path();
    Ok(target)
}

impl Target {
    /// The filesystem now (free space shrinks as exports run).
    pub fn info_now(&self) -> Result<TargetInfo, TargetError> {
        info::query(&self.root)
    }

    /// Empties the kernel's page, dentry and inode caches (`sync`, then
    /// `echo 3 > /proc/sys/vm/drop_caches`) so the next run reads cold. Root only.
    pub fn drop_caches(&self) -> Result<(), TargetError> {
        let name = self.spec.name();
        tools::require_root(&name)?;
        tools::write_back_dirty_pages();
        std::fs::write("/proc/sys/vm/drop_caches", b"3\n")
            .map_err(|e| tools::io_failed(&name, "drop_caches", format!("/proc/sys/vm/drop_caches: {e}")))
    }

    /// What was provisioned (mount point, image, loop device, daemon pids, proxy port).
    pub fn footprint(&self) -> &Footprint {
        &self.footprint
    }

    /// The command a run on this target executes: `cmd` itself, or for
    /// `ulimit-nofile:N` `prlimit --nofile=N:N -- cmd`, which sets the limit and execs
    /// `cmd` (same process, so the launcher's rusage is still the writer's).
    pub fn wrap(&self, cmd: std::process::Command) -> std::process::Command {
        match &self.nofile {
            Some(limit) => limit.wrap(&cmd),
            None => cmd,
        }
    }

    /// The open-file limit runs get on this target (`ulimit-nofile:N`), if any.
    pub fn nofile_limit(&self) -> Option<u64> {
        self.nofile.as_ref().map(ulimit_nofile::Limit::value)
    }

    /// Tears down now and reports what could not be removed (drop only logs it).
    pub fn teardown(mut self) -> Result<(), TargetError> {
        let problems = self.guard.teardown();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TargetError::Failed { target: self.spec.name(), step: "teardown".into(), detail: problems.join("; ") })
        }
    }
}

/// Creates the target's ledger and then its private directory under `work_dir` (unique,
/// so parallel targets never collide), both registered for removal; returns the
/// directory's canonical path. Also used by scenarios that start daemons of their own
/// (`crate::scenario::cloud_sync`), so that what they start is on a ledger too.
pub(crate) fn private_dir(guard: &Guard, target: &str, work_dir: &Path) -> Result<PathBuf, TargetError> {
    let failed = |e: std::io::Error| tools::io_failed(target, "work dir", format!("{}: {e}", work_dir.display()));
    std::fs::create_dir_all(work_dir).map_err(failed)?;
    let work = work_dir.canonicalize().map_err(failed)?;
    let ledger = Ledger::create(&work, target).map_err(failed)?;
    let dir = ledger.private_dir().to_path_buf();
    guard.keep_ledger(ledger);
    guard.record(target, Entry::Dir { path: dir.clone() })?;
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .map_err(|e| tools::io_failed(target, "work dir", format!("{}: {e}", dir.display())))?;
    guard.push(Resource::Dir(dir.clone()));
    Ok(dir)
}

/// `mount(2)`: kernel filesystems need no helper program.
fn mount(
    target: &str,
    source: &str,
    mount_point: &Path,
    fs_type: &str,
    flags: libc::c_ulong,
    data: &str,
) -> Result<(), TargetError> {
    let c = |s: &[u8]| CString::new(s).map_err(|e| tools::io_failed(target, "mount", e));
    let (src, mnt, ty, dat) =
        (c(source.as_bytes())?, c(mount_point.as_os_str().as_bytes())?, c(fs_type.as_bytes())?, c(data.as_bytes())?);
    // SAFETY: four NUL-terminated strings that outlive the call.
    let r = unsafe { libc::mount(src.as_ptr(), mnt.as_ptr(), ty.as_ptr(), flags, dat.as_ptr().cast()) };
    if r == 0 {
        Ok(())
    } else {
        Err(tools::io_failed(
            target,
            "mount",
            format!("mount -t {fs_type} {source} {}: {}", mount_point.display(), std::io::Error::last_os_error()),
        ))
    }
}

/// Creates `parent/exports` (the fresh root) and reads the filesystem's info.
fn finish(spec: &TargetSpec, parent: &Path, guard: Guard, footprint: Footprint) -> Result<Target, TargetError> {
    let name = spec.name();
    let root = parent.join("exports");
    std::fs::create_dir(&root)
        .map_err(|e| tools::io_failed(&name, "create root", format!("{}: {e}", root.display())))?;
    let info = info::query(&root)?;
    Ok(Target { spec: spec.clone(), root, info, footprint, guard, nofile: None })
}
