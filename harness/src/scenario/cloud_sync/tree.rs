//! Folders that a sync daemon changes under our feet: listing, comparing and copying
//! them while entries appear, grow and vanish. An entry that vanishes while it is read is
//! simply left out (or makes two folders differ); the daemon's own names (markers,
//! files in flight) are left out everywhere.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What one entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A file and its length.
    File(u64),
    /// A symlink or anything else (never in an export).
    Other,
}

/// Every entry under a root, by path relative to it.
pub type Listing = BTreeMap<PathBuf, Kind>;

/// Names to leave out (a daemon's own).
pub type Skip = fn(&str) -> bool;

fn vanished(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

/// Lists `root` recursively (a missing root lists empty).
pub fn list(root: &Path, skip: Skip) -> io::Result<Listing> {
    let mut out = Listing::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = match fs::read_dir(root.join(&rel)) {
            Ok(e) => e,
            Err(e) if vanished(&e) => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) if vanished(&e) => continue,
                Err(e) => return Err(e),
            };
            let name = entry.file_name();
            if name.to_str().is_some_and(skip) {
                continue;
            }
            let meta = match fs::symlink_metadata(entry.path()) {
                Ok(m) => m,
                Err(e) if vanished(&e) => continue,
                Err(e) => return Err(e),
            };
            let path = rel.join(&name);
            let kind = if meta.is_dir() {
                stack.push(path.clone());
                Kind::Dir
            } else if meta.is_file() {
                Kind::File(meta.len())
            } else {
                Kind::Other
            };
            out.insert(path, kind);
        }
    }
    Ok(out)
}

/// The bytes of every file in a listing.
pub fn bytes(listing: &Listing) -> u64 {
    listing.values().map(|k| if let Kind::File(n) = k { *n } else { 0 }).sum()
}

/// Whether `a` and `b` hold the same entries with the same contents.
pub fn same(a: &Path, b: &Path, skip: Skip) -> io::Result<bool> {
    let listing = list(a, skip)?;
    if listing != list(b, skip)? {
        return Ok(false);
    }
    for (rel, kind) in &listing {
        if matches!(kind, Kind::File(_)) && !same_content(&a.join(rel), &b.join(rel))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether two files have the same bytes (false when either has vanished).
fn same_content(a: &Path, b: &Path) -> io::Result<bool> {
    let open = |p: &Path| match fs::File::open(p) {
        Ok(f) => Ok(Some(io::BufReader::with_capacity(1 << 16, f))),
        Err(e) if vanished(&e) => Ok(None),
        Err(e) => Err(e),
    };
    let (Some(mut fa), Some(mut fb)) = (open(a)?, open(b)?) else { return Ok(false) };
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends; the count read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Copies what `src` holds now into `dst` (created): a snapshot of a folder in flux.
/// A file is copied as far as it can be read at that moment.
pub fn copy(src: &Path, dst: &Path, skip: Skip) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for (rel, kind) in list(src, skip)? {
        let to = dst.join(&rel);
        match kind {
            Kind::Dir => fs::create_dir_all(&to)?,
            Kind::File(_) => {
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent)?;
                }
                match fs::copy(src.join(&rel), &to) {
                    Err(e) if vanished(&e) => {}
                    other => {
                        other?;
                    }
                }
            }
            Kind::Other => {}
        }
    }
    Ok(())
}

/// Removes everything in `root` but the names `keep` accepts (a daemon's marker).
pub fn empty(root: &Path, keep: Skip) -> io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(keep) {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
        match removed {
            Err(e) if vanished(&e) => {}
            other => other?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_tmp(name: &str) -> bool {
        name.ends_with(".tmp")
    }

    #[test]
    fn lists_compares_copies_and_empties_leaving_skipped_names_alone() {
        let t = tempfile::tempdir().unwrap();
        let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
        for d in [&a, &b] {
            fs::create_dir_all(d.join("var")).unwrap();
            fs::write(d.join("var/g1.bin"), b"12345").unwrap();
            fs::write(d.join("obs_manifest.json"), b"{}").unwrap();
        }
        fs::write(b.join("var/.g2.bin.tmp"), b"partial").unwrap();
        let listing = list(&a, skip_tmp).unwrap();
        assert_eq!(listing.len(), 3);
        assert_eq!(listing[Path::new("var/g1.bin")], Kind::File(5));
        assert_eq!(bytes(&listing), 7);
        assert!(same(&a, &b, skip_tmp).unwrap(), "the temporary file is not part of the copy");
        fs::write(b.join("var/g1.bin"), b"12346").unwrap();
        assert!(!same(&a, &b, skip_tmp).unwrap(), "same length, other bytes");
        assert!(!same(&a, &t.path().join("missing"), skip_tmp).unwrap());
        copy(&b, &c, skip_tmp).unwrap();
        assert!(same(&b, &c, skip_tmp).unwrap());
        assert!(!c.join("var/.g2.bin.tmp").exists());
        empty(&b, skip_tmp).unwrap();
        let left: Vec<_> = fs::read_dir(&b).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(list(&t.path().join("missing"), skip_tmp).unwrap().is_empty());
    }
}
