//! The ledger: a small JSON file beside a target's private directory that says, before
//! each provisioning step, what the step is about to create, so that what a SIGKILLed
//! process left (which no teardown could remove) can be found and removed later by
//! [`reclaim`](super::reclaim).
//!
//! `WORK/cellucid-target-NAME-XXXXXX.ledger.json` is created first (the random part made
//! unique by `O_EXCL`), and the private directory `WORK/cellucid-target-NAME-XXXXXX` is
//! named after it, so even that directory is on record before it exists. Every change
//! rewrites the whole file atomically (a temporary file, `fsync`, `rename`, `fsync` of
//! the directory): a crash at any instant leaves the old or the new ledger, never half of
//! one. Teardown removes the ledger last, and only when everything else went.
//!
//! An entry is written *before* its resource exists and may be updated once it does (a
//! loop device's name, a daemon's pid), so a ledger may name things that were never
//! made; reclaiming those is a no-op.

use super::procs;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name ending of a ledger.
pub const SUFFIX: &str = ".ledger.json";
/// The prefix of ledgers and private directories.
pub const PREFIX: &str = "cellucid-target-";
const VERSION: u32 = 1;

/// The process that provisioned a target; its resources are its own while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: u32,
    /// Start time in clock ticks after boot (`/proc/PID/stat` field 22).
    pub start_ticks: u64,
    pub boot_id: String,
}

impl Owner {
    /// Whether the owner still runs (same pid, start time and boot).
    pub fn is_alive(&self) -> bool {
        procs::alive(self.pid, self.start_ticks, &self.boot_id)
    }
}

/// One thing a target creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Dir { path: PathBuf },
    /// An image file.
    File { path: PathBuf },
    /// A loop device backed by `image`; `device` once `losetup` has named it.
    LoopDevice { image: PathBuf, device: Option<PathBuf> },
    Mount { path: PathBuf },
    /// A daemon; `pid` and `start_ticks` once it has been spawned. Its arguments name a
    /// path under the private directory, which is how it is recognised later.
    Process { name: String, pid: Option<u32>, start_ticks: Option<u64> },
}

impl Entry {
    /// Whether `other` describes the same resource (an update replaces it).
    fn same_resource(&self, other: &Entry) -> bool {
        match (self, other) {
            (Entry::LoopDevice { image: a, .. }, Entry::LoopDevice { image: b, .. }) => a == b,
            (Entry::Process { name: a, .. }, Entry::Process { name: b, .. }) => a == b,
            _ => self == other,
        }
    }
}

/// A ledger's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// The target's name (`tmpfs`, `sshfs:20ms`, …).
    pub target: String,
    pub owner: Owner,
    /// The target's private directory (canonical), under which everything else lives.
    pub private_dir: PathBuf,
    /// In order of creation.
    pub entries: Vec<Entry>,
}

/// An open ledger, owned by the provisioning [`Guard`](super::guard::Guard).
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    record: Record,
}

impl Ledger {
    /// Creates a ledger for `target` in `work_dir` (which must exist; a canonical path
    /// keeps the recorded paths comparable with mountinfo's). The private directory's
    /// path is [`Ledger::private_dir`]; it is not created here.
    pub fn create(work_dir: &Path, target: &str) -> std::io::Result<Ledger> {
        let safe: String = target.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
        let (_, path) = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{safe}-"))
            .suffix(SUFFIX)
            .tempfile_in(work_dir)?
            .keep()
            .map_err(|e| e.error)?;
        let private_dir = private_dir_of(&path).ok_or_else(|| std::io::Error::other("ledger name without its suffix"))?;
        let (pid, start_ticks) = procs::myself();
        let owner = Owner { pid, start_ticks, boot_id: procs::boot_id() };
        let ledger = Ledger { path, record: Record { version: VERSION, target: target.to_string(), owner, private_dir, entries: Vec::new() } };
        ledger.save()?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn private_dir(&self) -> &Path {
        &self.record.private_dir
    }

    /// Records `entry` durably, replacing an earlier entry for the same resource.
    pub fn record(&mut self, entry: Entry) -> std::io::Result<()> {
        match self.record.entries.iter_mut().find(|e| e.same_resource(&entry)) {
            Some(e) => *e = entry,
            None => self.record.entries.push(entry),
        }
        self.save()
    }

    fn save(&self) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(&self.record).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.path)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()
    }
}

/// The private directory a ledger at `path` stands for.
pub fn private_dir_of(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    Some(path.with_file_name(name.strip_suffix(SUFFIX)?))
}

/// Reads the ledger at `path`.
pub fn read(path: &Path) -> Result<Record, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let record: Record = serde_json::from_slice(&text).map_err(|e| format!("{}: not a target ledger: {e}", path.display()))?;
    if record.version != VERSION {
        return Err(format!("{}: ledger version {} (this build reads {VERSION})", path.display(), record.version));
    }
    Ok(record)
}

/// The ledgers in `dir` (none when it does not exist).
pub fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX)))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_on_disk_at_once_and_updates_replace() {
        let dir = tempfile::tempdir().expect("tmp");
        let work = dir.path().canonicalize().expect("canonical");
        let mut l = Ledger::create(&work, "sshfs:20ms").expect("create");
        let name = l.path().file_name().and_then(|n| n.to_str()).expect("name").to_string();
        assert!(name.starts_with("cellucid-target-sshfs-20ms-") && name.ends_with(SUFFIX), "{name}");
        assert_eq!(l.private_dir(), private_dir_of(l.path()).expect("dir"));
        assert!(!l.private_dir().exists(), "the directory is only named");
        l.record(Entry::Dir { path: l.private_dir().to_path_buf() }).expect("record");
        l.record(Entry::Process { name: "sshd".into(), pid: None, start_ticks: None }).expect("record");
        l.record(Entry::Process { name: "sshd".into(), pid: Some(7), start_ticks: Some(9) }).expect("record");
        let r = read(l.path()).expect("read");
        assert_eq!(r.target, "sshfs:20ms");
        assert_eq!(r.owner.pid, std::process::id());
        assert!(r.owner.is_alive());
        assert_eq!(r.entries.len(), 2, "{:?}", r.entries);
        assert_eq!(r.entries[1], Entry::Process { name: "sshd".into(), pid: Some(7), start_ticks: Some(9) });
        assert_eq!(list(&work).expect("list"), vec![l.path().to_path_buf()]);
        assert!(list(&work.join("missing")).expect("list").is_empty());
    }
}
