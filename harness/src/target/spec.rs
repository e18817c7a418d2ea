//! `TargetSpec`: which filesystem to benchmark on, as written on the command line.
//!
//! Grammar (one `--target` each): `tmpfs`, `disk`, `xfs`, `btrfs`, `sshfs`,
//! `sshfs:20ms` (sshfs through the loopback delay proxy, 20 ms added to each direction),
//! and `name=/path` (a directory of the user's, on whatever filesystem it lives on).
//!
//! Targets with a file-count limit (the guide's "too many files"): `exfat`, `ntfs`,
//! `fat32`, `ext4-few-inodes:N` (ext4 made with at least N inodes), `tmpfs-nr-inodes:N`
//! (a tmpfs holding N inodes) and `ulimit-nofile:N` (the disk, with the writer's
//! RLIMIT_NOFILE set to N). As for `sshfs:20ms` → `sshfs+20ms`, the parameter is written
//! with `:` and named with `+` (`ext4-few-inodes+1000`).

use super::TargetError;
use std::fmt;
use std::path::PathBuf;

/// One filesystem target. All but `Disk` and `Path` are provisioned (mounted) by the
/// harness and need root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A fresh tmpfs (RAM) mount.
    Tmpfs,
    /// A fresh directory under the work directory: the disk the harness runs from.
    Disk,
    /// XFS on a loop-mounted sparse image file.
    Xfs,
    /// btrfs on a loop-mounted sparse image file.
    Btrfs,
    /// sshfs to a private sshd on 127.0.0.1; `latency_ms` > 0 routes it through the
    /// delay proxy, which holds every chunk `latency_ms` in each direction (so a
    /// request/response round trip gains 2 × `latency_ms`).
    Sshfs { latency_ms: u32 },
    /// A user directory (`name=/path`): never provisioned, never removed.
    Path { name: String, path: PathBuf },
    /// exFAT (exfatprogs' mkfs.exfat, 128 KiB clusters as on large USB sticks) on a loop
    /// device, mounted by exfat-fuse.
    Exfat,
    /// NTFS (mkntfs) on an image file, mounted by ntfs-3g.
    Ntfs,
    /// FAT32 (`mkfs.vfat -F 32`) on an image file, mounted read-write by fusefat.
    Fat32,
    /// ext4 on a loop-mounted image made with `mkfs.ext4 -N inodes` (mkfs rounds the
    /// count to whole inode-table blocks in every block group: 576 for 600 on 64 MiB).
    Ext4FewInodes { inodes: u64 },
    /// A tmpfs mounted with `nr_inodes=inodes`.
    TmpfsNrInodes { inodes: u64 },
    /// A directory on the disk, with every run's RLIMIT_NOFILE (`ulimit -n`) set to `limit`.
    UlimitNofile { limit: u64 },
}

/// The targets that take a count (`KIND:N`, named `KIND+N`).
const COUNTED: [&str; 3] = ["ext4-few-inodes", "tmpfs-nr-inodes", "ulimit-nofile"];

/// The largest count a parameterised target takes (beyond it the limit is no limit).
const MAX_COUNT: u64 = 1 << 32;

/// The built-in names; a user target may not take one, so that result tables stay
/// unambiguous.
const BUILTIN: [&str; 8] = ["tmpfs", "disk", "xfs", "btrfs", "sshfs", "exfat", "ntfs", "fat32"];

impl TargetSpec {
    /// The name used in result tables: `tmpfs`, `disk`, `xfs`, `btrfs`, `sshfs`,
    /// `sshfs+20ms`, `exfat`, `ntfs`, `fat32`, `ext4-few-inodes+N`, `tmpfs-nr-inodes+N`,
    /// `ulimit-nofile+N`, or the user's name.
    pub fn name(&self) -> String {
        match self {
            TargetSpec::Tmpfs => "tmpfs".into(),
            TargetSpec::Disk => "disk".into(),
            TargetSpec::Xfs => "xfs".into(),
            TargetSpec::Btrfs => "btrfs".into(),
            TargetSpec::Sshfs { latency_ms: 0 } => "sshfs".into(),
            TargetSpec::Sshfs { latency_ms } => format!("sshfs+{latency_ms}ms"),
            TargetSpec::Path { name, .. } => name.clone(),
            TargetSpec::Exfat => "exfat".into(),
            TargetSpec::Ntfs => "ntfs".into(),
            TargetSpec::Fat32 => "fat32".into(),
            TargetSpec::Ext4FewInodes { inodes } => format!("ext4-few-inodes+{inodes}"),
            TargetSpec::TmpfsNrInodes { inodes } => format!("tmpfs-nr-inodes+{inodes}"),
            TargetSpec::UlimitNofile { limit } => format!("ulimit-nofile+{limit}"),
        }
    }

    /// Parses one `--target` value (see the module docs for the grammar).
    pub fn parse(s: &str) -> Result<TargetSpec, TargetError> {
        let bad = |reason: String| TargetError::BadSpec { spec: s.to_string(), reason };
        let s_trim = s.trim();
        if let Some((name, path)) = s_trim.split_once('=') {
            let name = name.trim();
            if name.is_empty() {
                return Err(bad("the name before '=' is empty".into()));
            }
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.+".contains(c)) {
                return Err(bad(format!("name {name:?} may only use letters, digits, '_', '-', '.', '+'")));
            }
            let reserved = name.starts_with("sshfs+") || COUNTED.iter().any(|c| name.starts_with(&format!("{c}+")));
            if BUILTIN.contains(&name) || reserved {
                return Err(bad(format!("name {name:?} is a built-in target's name")));
            }
            if path.is_empty() {
                return Err(bad("the path after '=' is empty".into()));
            }
            return Ok(TargetSpec::Path { name: name.to_string(), path: PathBuf::from(path) });
        }
        match s_trim {
            "tmpfs" => Ok(TargetSpec::Tmpfs),
            "disk" => Ok(TargetSpec::Disk),
            "xfs" => Ok(TargetSpec::Xfs),
            "btrfs" => Ok(TargetSpec::Btrfs),
            "sshfs" => Ok(TargetSpec::Sshfs { latency_ms: 0 }),
            "exfat" => Ok(TargetSpec::Exfat),
            "ntfs" => Ok(TargetSpec::Ntfs),
            "fat32" => Ok(TargetSpec::Fat32),
            other => {
                if let Some(spec) = parse_counted(other).map_err(bad)? {
                    return Ok(spec);
                }
                let Some(lat) = other.strip_prefix("sshfs:") else {
                    return Err(bad(
                        "expected tmpfs, disk, xfs, btrfs, sshfs, sshfs:<N>ms, exfat, ntfs, fat32, \
                         ext4-few-inodes:<N>, tmpfs-nr-inodes:<N>, ulimit-nofile:<N> or name=/path"
                            .into(),
                    ));
                };
                let digits = lat.strip_suffix("ms").unwrap_or(lat);
                let latency_ms: u32 = digits
                    .parse()
                    .map_err(|_| bad(format!("latency {lat:?} is not a whole number of milliseconds")))?;
                if latency_ms > 10_000 {
                    return Err(bad(format!("latency {latency_ms} ms is above the 10000 ms limit")));
                }
                Ok(TargetSpec::Sshfs { latency_ms })
            }
        }
    }

    /// Whether provisioning needs root (mount, losetup, sshd as root for sshfs).
    pub fn needs_root(&self) -> bool {
        !matches!(self, TargetSpec::Disk | TargetSpec::Path { .. } | TargetSpec::UlimitNofile { .. })
    }
}

/// `ext4-few-inodes:N`, `tmpfs-nr-inodes:N`, `ulimit-nofile:N` (`Ok(None)`: none of them).
fn parse_counted(s: &str) -> Result<Option<TargetSpec>, String> {
    let Some((kind, count)) = COUNTED.iter().find_map(|k| Some((*k, s.strip_prefix(k)?))) else {
        return Ok(None);
    };
    let Some(digits) = count.strip_prefix(':') else {
        return Err(format!("{kind} needs a count: {kind}:<N>"));
    };
    let n: u64 = digits.parse().map_err(|_| format!("{kind}: {digits:?} is not a whole number"))?;
    if n == 0 || n > MAX_COUNT {
        return Err(format!("{kind}: {n} is outside 1..={MAX_COUNT}"));
    }
    Ok(Some(match kind {
        "ext4-few-inodes" => TargetSpec::Ext4FewInodes { inodes: n },
        "tmpfs-nr-inodes" => TargetSpec::TmpfsNrInodes { inodes: n },
        _ => TargetSpec::UlimitNofile { limit: n },
    }))
}

/// Displays the parseable form: `parse(&spec.to_string()) == spec`.
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Sshfs { latency_ms } if *latency_ms > 0 => write!(f, "sshfs:{latency_ms}ms"),
            TargetSpec::Path { name, path } => write!(f, "{name}={}", path.display()),
            TargetSpec::Ext4FewInodes { inodes } => write!(f, "ext4-few-inodes:{inodes}"),
            TargetSpec::TmpfsNrInodes { inodes } => write!(f, "tmpfs-nr-inodes:{inodes}"),
            TargetSpec::UlimitNofile { limit } => write!(f, "ulimit-nofile:{limit}"),
            other => f.write_str(&other.name()),
        }
    }
}

impl std::str::FromStr for TargetSpec {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetSpec::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_round_trips() {
        for (text, name) in [
            ("tmpfs", "tmpfs"),
            ("disk", "disk"),
            ("xfs", "xfs"),
            ("btrfs", "btrfs"),
            ("sshfs", "sshfs"),
            ("sshfs:20ms", "sshfs+20ms"),
            ("scratch=/mnt/scratch", "scratch"),
            ("exfat", "exfat"),
            ("ntfs", "ntfs"),
            ("fat32", "fat32"),
            ("ext4-few-inodes:1000", "ext4-few-inodes+1000"),
            ("tmpfs-nr-inodes:500", "tmpfs-nr-inodes+500"),
            ("ulimit-nofile:256", "ulimit-nofile+256"),
        ] {
            let spec = TargetSpec::parse(text).unwrap();
            assert_eq!(spec.name(), name);
            assert_eq!(spec.to_string(), text);
            assert_eq!(TargetSpec::parse(&spec.to_string()).unwrap(), spec);
        }
        assert_eq!(TargetSpec::parse("sshfs:5").unwrap(), TargetSpec::Sshfs { latency_ms: 5 });
        assert_eq!(TargetSpec::parse("sshfs:0ms").unwrap().name(), "sshfs");
        assert!(TargetSpec::parse("a=/x=y").is_ok(), "only the first '=' splits");
    }

    #[test]
    fn refuses_bad_specs() {
        for text in [
            "",
            "ext4",
            "sshfs:",
            "sshfs:fast",
            "sshfs:-3ms",
            "=/x",
            "a=",
            "xfs=/x",
            "sshfs+2ms=/x",
            "a b=/x",
            "exfat=/x",
            "ext4-few-inodes+9=/x",
            "ext4-few-inodes",
            "ext4-few-inodes:",
            "ext4-few-inodes:0",
            "tmpfs-nr-inodes:many",
            "ulimit-nofile:-1",
            "ulimit-nofile:99999999999",
        ] {
            assert!(matches!(TargetSpec::parse(text), Err(TargetError::BadSpec { .. })), "{text:?}");
        }
    }

    #[test]
    fn root_needs() {
        assert!(TargetSpec::Tmpfs.needs_root());
        assert!(TargetSpec::Sshfs { latency_ms: 20 }.needs_root());
        assert!(!TargetSpec::Disk.needs_root());
        assert!(!TargetSpec::parse("u=/tmp").unwrap().needs_root());
        assert!(!TargetSpec::UlimitNofile { limit: 64 }.needs_root());
        assert!(TargetSpec::Ext4FewInodes { inodes: 64 }.needs_root());
    }
}
