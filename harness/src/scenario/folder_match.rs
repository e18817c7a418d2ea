//! Which of two exports a folder holds: each of its files hashed and compared with the
//! same path in an export of A alone and one of B alone, made in their own directories.
//! "Equals B" means the same paths with the same bytes, nothing more and nothing less.

use crate::measure::tree::file_hashes;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Content hash by relative path ([`file_hashes`]).
pub type Hashes = BTreeMap<String, u64>;

/// The hashes of what is at `path`; `None` when nothing is.
pub fn hashes(path: &Path) -> Result<Option<Hashes>> {
    match file_hashes(path) {
        Ok(h) => Ok(Some(h)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot hash {}", path.display())),
    }
}

/// What the folder as a whole is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Equals {
    /// Exactly the A export.
    A,
    /// Exactly the B export.
    B,
    /// Anything else that holds files of A or B: both, or one of them partly.
    Mix,
    /// Nothing there, or nothing of A or B.
    None,
}

impl Equals {
    pub fn as_str(self) -> &'static str {
        match self {
            Equals::A => "A",
            Equals::B => "B",
            Equals::Mix => "mix",
            Equals::None => "none",
        }
    }
}

/// A folder compared with A and B, file by file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderMatch {
    pub equals: Equals,
    pub files: usize,
    /// Files with A's bytes where B's differ (or B has no such file).
    pub from_a: usize,
    /// Files with B's bytes where A's differ (or A has no such file).
    pub from_b: usize,
    /// Files whose bytes are the same in A and B (they tell nothing apart).
    pub in_both: usize,
    /// Files with neither's bytes (foreign, or partly written).
    pub neither: usize,
    /// B's files that are not there.
    pub missing_of_b: usize,
}

/// Compares `now` (the folder's hashes, `None` when it does not exist) with `a` and `b`.
pub fn classify(now: Option<&Hashes>, a: &Hashes, b: &Hashes) -> FolderMatch {
    let empty = Hashes::new();
    let now = now.unwrap_or(&empty);
    let mut m = FolderMatch { equals: Equals::None, files: now.len(), from_a: 0, from_b: 0, in_both: 0, neither: 0, missing_of_b: 0 };
    for (path, h) in now {
        match (a.get(path) == Some(h), b.get(path) == Some(h)) {
            (true, true) => m.in_both += 1,
            (true, false) => m.from_a += 1,
            (false, true) => m.from_b += 1,
            (false, false) => m.neither += 1,
        }
    }
    m.missing_of_b = b.keys().filter(|p| !now.contains_key(*p)).count();
    m.equals = if now.is_empty() || m.from_a + m.from_b + m.in_both == 0 {
        Equals::None
    } else if now == a {
        Equals::A
    } else if now == b {
        Equals::B
    } else {
        Equals::Mix
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(files: &[(&str, u64)]) -> Hashes {
        files.iter().map(|(p, x)| (p.to_string(), *x)).collect()
    }

    #[test]
    fn a_b_mix_and_none() {
        let a = h(&[("obs.json", 1), ("var/0.bin", 10), ("var/1.bin", 11), ("same.json", 7)]);
        let b = h(&[("obs.json", 2), ("var/0.bin", 20), ("var/1.bin", 21), ("same.json", 7)]);
        let m = classify(Some(&a), &a, &b);
        assert_eq!((m.equals, m.from_a, m.from_b, m.in_both, m.missing_of_b), (Equals::A, 3, 0, 1, 0));
        assert_eq!(classify(Some(&b), &a, &b).equals, Equals::B);
        // A writer that skipped the files it found: B's manifest over A's genes.
        let skipped = h(&[("obs.json", 2), ("var/0.bin", 10), ("var/1.bin", 11), ("same.json", 7)]);
        let m = classify(Some(&skipped), &a, &b);
        assert_eq!((m.equals, m.from_a, m.from_b, m.in_both), (Equals::Mix, 2, 1, 1));
        // Half of B written, then a failure: not B.
        let partial = h(&[("obs.json", 2), ("var/0.bin", 20)]);
        let m = classify(Some(&partial), &a, &b);
        assert_eq!((m.equals, m.missing_of_b), (Equals::Mix, 2));
        // A torn file is neither's.
        let torn = h(&[("obs.json", 2), ("var/0.bin", 20), ("var/1.bin", 99), ("same.json", 7)]);
        assert_eq!(classify(Some(&torn), &a, &b).neither, 1);
        assert_eq!(classify(None, &a, &b).equals, Equals::None);
        assert_eq!(classify(Some(&h(&[("x", 5)])), &a, &b).equals, Equals::None);
    }
}
