//! What filesystem a path is on: `statfs(2)` for the type magic and the sizes, and
//! `/proc/self/mountinfo` for the mount's options, source device and (for FUSE and the
//! ext family, which share one magic per family) the precise type name.

use super::{TargetError, TargetInfo};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Queries the filesystem holding `path` now (free space changes as exports run).
pub fn query(path: &Path) -> Result<TargetInfo, TargetError> {
    let failed =
        |detail: String| TargetError::Failed { target: path.display().to_string(), step: "statfs".into(), detail };
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|e| failed(e.to_string()))?;
    // SAFETY: statfs writes into a zeroed plain-data struct; the path is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statfs(c_path.as_ptr(), &mut st) };
    if r != 0 {
        return Err(failed(std::io::Error::last_os_error().to_string()));
    }
    // f_type is a signed word on some ABIs; the magics are 32-bit values.
    let magic = (st.f_type as u64) & 0xffff_ffff;
    // df uses the fragment size when the filesystem reports one.
    let unit = if st.f_frsize > 0 { st.f_frsize as u64 } else { st.f_bsize as u64 };
    let total_bytes = (st.f_blocks as u64).saturating_mul(unit);
    // f_bavail: what an unprivileged writer can still use (what the exports can fill).
    let free_bytes = (st.f_bavail as u64).saturating_mul(unit);

    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mount =
        std::fs::read_to_string("/proc/self/mountinfo").ok().and_then(|text| containing_mount(&text, &canonical));
    let fs_type = type_name(magic, mount.as_ref().map(|m| m.fs_type.as_str()));
    let (mount_options, device) = match mount {
        Some(m) => (merge_options(&m.mount_options, &m.super_options), m.source),
        None => (String::new(), String::new()),
    };
    Ok(TargetInfo { fs_type, mount_options, total_bytes, free_bytes, device })
}

/// The inodes of the filesystem holding `path`: (total, free for unprivileged users),
/// from `statvfs(2)`; `None` if it fails or the filesystem reports none (FUSE ones may).
pub fn inodes(path: &Path) -> Option<(u64, u64)> {
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into a zeroed plain-data struct; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut st) } != 0 || st.f_files == 0 {
        return None;
    }
    Some((st.f_files as u64, st.f_favail as u64))
}

/// The `statfs` magic's name (linux/magic.h), refined by mountinfo's type where one
/// magic covers several names: FUSE (`fuse.sshfs`, …) and ext2/3/4.
pub fn type_name(magic: u64, mountinfo_type: Option<&str>) -> String {
    let from_magic = match magic {
        0x0102_1994 => Some("tmpfs"),
        0x0000_EF53 => Some("ext4"),
        0x5846_5342 => Some("xfs"),
        0x9123_683E => Some("btrfs"),
        0x6573_5546 => Some("fuse"),
        0x794C_7630 => Some("overlay"),
        0x0000_6969 => Some("nfs"),
        0x2FC1_2FC1 => Some("zfs"),
        0xF2F5_2010 => Some("f2fs"),
        0xCA45_1A4E => Some("bcachefs"),
        0xFE53_4D42 => Some("smb2"),
        0xFF53_4D42 => Some("cifs"),
        0x0102_1997 => Some("9p"),
        0x858_458F6 => Some("ramfs"),
        0x7371_7368 => Some("squashfs"),
        0x0000_4D44 => Some("vfat"),
        0x5346_544E => Some("ntfs"),
        0x2011_BAB0 => Some("exfat"),
        0x00C3_6400 => Some("ceph"),
        _ => None,
    };
    match (from_magic, mountinfo_type) {
        (Some("fuse"), Some(t)) if t.starts_with("fuse") => t.to_string(),
        (Some("ext4"), Some(t)) if t.starts_with("ext") => t.to_string(),
        (Some(name), _) => name.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => format!("unknown(0x{magic:x})"),
    }
}

/// One line of `/proc/self/mountinfo`, the fields this module uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: PathBuf,
    pub mount_options: String,
    pub fs_type: String,
    pub source: String,
    pub super_options: String,
}

/// Parses mountinfo text (proc(5)): `id parent maj:min root mount_point options
/// [optional fields…] - fstype source super_options`. Malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            if l.len() < 6 || r.len() < 3 {
                return None;
            }
            Some(MountEntry {
                mount_point: PathBuf::from(unescape(l[4])),
                mount_options: l[5].to_string(),
                fs_type: r[0].to_string(),
                source: unescape(r[1]),
                super_options: r[2].to_string(),
            })
        })
        .collect()
}

/// All mounts of this process's namespace now (empty if mountinfo is unreadable).
pub fn mounts() -> Vec<MountEntry> {
    std::fs::read_to_string("/proc/self/mountinfo").map(|t| parse_mountinfo(&t)).unwrap_or_default()
}

/// Whether something is mounted exactly at `path` now.
pub fn is_mount_point(path: &Path) -> bool {
    mounts().iter().any(|m| m.mount_point == path)
}

/// The mount containing `path`: the longest mount point that is a prefix of it; of
/// equal ones the last listed, which is the one on top.
fn containing_mount(text: &str, path: &Path) -> Option<MountEntry> {
    let mut best: Option<MountEntry> = None;
    for m in parse_mountinfo(text) {
        if !path.starts_with(&m.mount_point) {
            continue;
        }
        let longer = best.as_ref().is_none_or(|b| m.mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if longer {
            best = Some(m);
        }
    }
    best
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Per-mount options then the superblock's, each once (`rw` appears in both).
fn merge_options(mount: &str, sup: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for o in mount.split(',').chain(sup.split(',')) {
        if !o.is_empty() && !seen.contains(&o) {
            seen.push(o);
        }
    }
    seen.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
42 27 0:39 / /tmp/my\\040dir rw,nosuid,nodev,relatime - fuse.sshfs root@127.0.0.1:/srv rw,user_id=0,group_id=0
43 27 7:0 / /tmp/x rw,relatime - xfs /dev/loop0 rw,attr2,inode64
44 43 0:40 / /tmp/x rw,relatime - tmpfs tmpfs rw,size=1024k
";

    #[test]
    fn parses_escapes_and_picks_the_top_mount() {
        let all = parse_mountinfo(SAMPLE);
        assert_eq!(all.len(), 5);
        assert_eq!(all[2].mount_point, PathBuf::from("/tmp/my dir"));
        assert_eq!(all[1].fs_type, "ext4");
        let m = containing_mount(SAMPLE, Path::new("/tmp/my dir/a/b")).unwrap();
        assert_eq!(m.fs_type, "fuse.sshfs");
        assert_eq!(m.source, "root@127.0.0.1:/srv");
        assert_eq!(merge_options(&m.mount_options, &m.super_options), "rw,nosuid,nodev,relatime,user_id=0,group_id=0");
        // Over-mounted: the later line (tmpfs) is on top.
        assert_eq!(containing_mount(SAMPLE, Path::new("/tmp/x/f")).unwrap().fs_type, "tmpfs");
        assert_eq!(containing_mount(SAMPLE, Path::new("/home")).unwrap().fs_type, "ext4");
        // Component-wise prefix: /tmp/xy is not under /tmp/x.
        assert_eq!(containing_mount(SAMPLE, Path::new("/tmp/xy")).unwrap().fs_type, "ext4");
    }

    #[test]
    fn names_magics() {
        assert_eq!(type_name(0x0102_1994, Some("tmpfs")), "tmpfs");
        assert_eq!(type_name(0x6573_5546, Some("fuse.sshfs")), "fuse.sshfs");
        assert_eq!(type_name(0x6573_5546, None), "fuse");
        assert_eq!(type_name(0xEF53, Some("ext3")), "ext3");
        assert_eq!(type_name(0x5846_5342, Some("weird")), "xfs");
        assert_eq!(type_name(0x1234, Some("erofs")), "erofs");
        assert_eq!(type_name(0x1234, None), "unknown(0x1234)");
    }

    #[test]
    fn queries_the_real_root() {
        let info = query(Path::new("/")).unwrap();
        assert!(info.total_bytes > 0);
        assert!(!info.fs_type.is_empty());
        assert!(info.mount_options.contains("rw") || info.mount_options.contains("ro"));
    }
}
