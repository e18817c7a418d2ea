//! `TargetSpec`: which filesystem to benchmark on, as written on the command line.
//!
//! Grammar (one `--target` each): `tmpfs`, `disk`, `xfs`, `btrfs`, `sshfs`,
//! `sshfs:20ms` (sshfs through the loopback delay proxy, 20 ms added to each direction),
//! and `name=/path` (a directory of the user's, on whatever filesystem it lives on).

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
}

/// The built-in names; a user target may not take one, so that result tables stay
/// unambiguous.
const BUILTIN: [&str; 5] = ["tmpfs", "disk", "xfs", "btrfs", "sshfs"];

impl TargetSpec {
    /// The name used in result tables: `tmpfs`, `disk`, `xfs`, `btrfs`, `sshfs`,
    /// `sshfs+20ms`, or the user's name.
    pub fn name(&self) -> String {
        match self {
            TargetSpec::Tmpfs => "tmpfs".into(),
            TargetSpec::Disk => "disk".into(),
            TargetSpec::Xfs => "xfs".into(),
            TargetSpec::Btrfs => "btrfs".into(),
            TargetSpec::Sshfs { latency_ms: 0 } => "sshfs".into(),
            TargetSpec::Sshfs { latency_ms } => format!("sshfs+{latency_ms}ms"),
            TargetSpec::Path { name, .. } => name.clone(),
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
            if BUILTIN.contains(&name) || name.starts_with("sshfs+") {
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
            other => {
                let Some(lat) = other.strip_prefix("sshfs:") else {
                    return Err(bad("expected tmpfs, disk, xfs, btrfs, sshfs, sshfs:<N>ms or name=/path".into()));
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
        !matches!(self, TargetSpec::Disk | TargetSpec::Path { .. })
    }
}

/// Displays the parseable form: `parse(&spec.to_string()) == spec`.
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Sshfs { latency_ms } if *latency_ms > 0 => write!(f, "sshfs:{latency_ms}ms"),
            TargetSpec::Path { name, path } => write!(f, "{name}={}", path.display()),
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
        for text in ["", "ext4", "sshfs:", "sshfs:fast", "sshfs:-3ms", "=/x", "a=", "xfs=/x", "sshfs+2ms=/x", "a b=/x"]
        {
            assert!(matches!(TargetSpec::parse(text), Err(TargetError::BadSpec { .. })), "{text:?}");
        }
    }

    #[test]
    fn root_needs() {
        assert!(TargetSpec::Tmpfs.needs_root());
        assert!(TargetSpec::Sshfs { latency_ms: 20 }.needs_root());
        assert!(!TargetSpec::Disk.needs_root());
        assert!(!TargetSpec::parse("u=/tmp").unwrap().needs_root());
    }
}
