//! `Writers`: the built-ins plus every `--writers FILE`, looked up by name.

use super::{builtin, read_writers, Peer, Writer, WriterError};
use std::path::Path;

/// The writers a sweep (or `compare`, `recommend`) can use.
#[derive(Clone, Debug)]
pub struct Writers {
    all: Vec<Writer>,
}

impl Writers {
    /// The built-ins: ours, the reference at `peer`, and the PyPI writers 0.0.9 and
    /// 0.9.5 (which set up their own virtualenvs).
    pub fn builtin(peer: &Peer) -> Writers {
        Writers { all: vec![builtin::ours(), builtin::reference(peer), builtin::py_009(), builtin::py_095()] }
    }

    /// Adds writers; a name already known is an error naming both places.
    pub fn add(&mut self, writers: Vec<Writer>) -> Result<(), WriterError> {
        for w in writers {
            if let Some(first) = self.all.iter().find(|x| x.name == w.name) {
                return Err(WriterError::Duplicate { name: w.name.clone(), first: first.source.clone(), second: w.source.clone() });
            }
            self.all.push(w);
        }
        Ok(())
    }

    /// Adds the writers of each file.
    pub fn add_files(&mut self, files: &[impl AsRef<Path>]) -> Result<(), WriterError> {
        for f in files {
            self.add(read_writers(f.as_ref())?)?;
        }
        Ok(())
    }

    /// The writer called `name` (`ours` and `reference`, the old plan spellings, too).
    pub fn get(&self, name: &str) -> Result<&Writer, WriterError> {
        let name = legacy_name(name);
        self.all.iter().find(|w| w.name == name).ok_or_else(|| WriterError::Unknown { name: name.into(), known: self.names().join(", ") })
    }

    pub fn names(&self) -> Vec<&str> {
        self.all.iter().map(|w| w.name.as_str()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Writer> {
        self.all.iter()
    }
}

/// `ours` → `cellucid-bench`, `reference` → `cellucid-py-0.9.2` (plans and stores written
/// before writers were data); any other name unchanged.
pub fn legacy_name(name: &str) -> &str {
    match name {
        "ours" => builtin::OURS,
        "reference" => builtin::REFERENCE,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_names_resolve_and_duplicates_are_refused() {
        let mut w = Writers::builtin(&Peer::default_location());
        assert_eq!(w.get("ours").unwrap().name, "cellucid-bench");
        assert_eq!(w.get("reference").unwrap().name, "cellucid-py-0.9.2");
        let e = w.get("cellucid-r").unwrap_err().to_string();
        assert!(e.contains("known: cellucid-bench, cellucid-py-0.9.2, cellucid-py-0.0.9, cellucid-py-0.9.5"), "{e}");
        let mut dup = builtin::ours();
        dup.source = "mine.toml".into();
        let e = w.add(vec![dup]).unwrap_err().to_string();
        assert!(e.contains("declared twice (built-in and mine.toml)"), "{e}");
    }
}
