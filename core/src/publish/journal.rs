//! The write-ahead transaction journal (FORMAT.md §14 "Journal").
//!
//! `parent/.<name>.cellucid-transaction.json` records the transaction id and whether a
//! target existed before the stage is created, so a crash at any later point leaves a
//! state that recovery resolves by inspection instead of guessing. Its bytes are exact:
//!
//! `{"format":"cellucid-export-transaction","version":1,"transaction_id":"<32 lowercase hex>","had_target":true|false}\n`
//!
//! cellucid 0.9.2 and cellucid-r write and read the same file, so a journal left by any
//! of the three writers is recovered by the others, and anything that is not exactly
//! these bytes is refused rather than interpreted.

use super::durable::{self, runtime};
use crate::error::{ExportError, IoContext, Result};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The reference refuses to parse a journal larger than this.
const MAX_JOURNAL_BYTES: u64 = 512;

/// What a journal records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JournalEntry {
    /// 32 lowercase hex digits.
    pub transaction_id: String,
    /// Whether `out_dir` existed (as a directory) when the transaction began.
    pub had_target: bool,
}

/// Whether `id` is 32 lowercase hex digits, the only form an id may take (it becomes
/// part of the stage and backup names, so it must never contain a separator).
pub(crate) fn is_canonical_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A fresh random transaction id: 16 bytes of the kernel's CSPRNG in lowercase hex.
pub(crate) fn random_id() -> Result<String> {
    let urandom = Path::new("/dev/urandom");
    let mut bytes = [0u8; 16];
    std::fs::File::open(urandom)
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ctx("read random bytes from", urandom)?;
    Ok(hex(&bytes))
}

/// Lowercase hex by table lookup. Why not `format!("{b:02x}")`: its cost depends on the
/// byte (one digit or two, then padding), and these bytes are random, so every export
/// would run a different number of instructions, which `ci --counter instructions`
/// (cachegrind) must see identical for the same binary and input.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The canonical journal bytes. `transaction_id` must satisfy [`is_canonical_id`].
pub(crate) fn serialize(entry: &JournalEntry) -> Vec<u8> {
    format!(
        "{{\"format\":\"cellucid-export-transaction\",\"version\":1,\"transaction_id\":\"{}\",\"had_target\":{}}}\n",
        entry.transaction_id, entry.had_target
    )
    .into_bytes()
}

/// Publish a journal atomically and durably: write `temp` (which must not exist), fsync
/// it, rename it to `journal` (which must not exist either), fsync the directory.
pub(crate) fn write(
    journal: &Path,
    temp: &Path,
    entry: &JournalEntry,
    target: &Path,
) -> Result<()> {
    if !is_canonical_id(&entry.transaction_id) {
        return Err(ExportError::Internal(
            "export transaction identity is not canonical".into(),
        ));
    }
    if durable::exists(journal)? || durable::exists(temp)? {
        return Err(runtime(format!(
            "Export transaction control path is already occupied for {}.",
            target.display()
        )));
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(temp)
        .ctx("create", temp)?;
    // Readable by all (0.9.2 makes it 0600): it holds nothing secret, and another user
    // who may write the parent must be able to read it to recover a crashed export
    // instead of failing on "Permission denied" (only writers of the parent can remove it).
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
        .ctx("set the mode of", temp)?;
    file.write_all(&serialize(entry)).ctx("write", temp)?;
    file.sync_all().ctx("fsync", temp)?;
    drop(file);
    #[cfg(test)]
    super::crash_point("after-journal-temp");
    durable::rename(temp, journal)
}

/// Read a journal and accept it only if its bytes are exactly canonical. The checks
/// and messages follow the reference: a lone regular file, at most 512 bytes, valid
/// JSON, exactly the four members, then byte equality with the canonical form.
pub(crate) fn read(journal: &Path) -> Result<JournalEntry> {
    let meta = durable::require_lone_file(journal, "Export transaction journal")?;
    if meta.size() > MAX_JOURNAL_BYTES {
        return Err(runtime(format!(
            "Export transaction journal is unexpectedly large: {}",
            journal.display()
        )));
    }
    let bytes = std::fs::read(journal).ctx("read", journal)?;
    let malformed = || {
        runtime(format!(
            "Export transaction journal is malformed: {}",
            journal.display()
        ))
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    // The reference parses with a hook that rejects duplicate members at any depth.
    serde_json::from_slice::<NoDuplicates>(&bytes).map_err(|_| malformed())?;
    let schema = || {
        runtime(format!(
            "Export transaction journal has an invalid schema: {}",
            journal.display()
        ))
    };
    let object = value.as_object().ok_or_else(schema)?;
    let expected_keys = ["format", "version", "transaction_id", "had_target"];
    if object.len() != expected_keys.len() || !expected_keys.iter().all(|k| object.contains_key(*k))
    {
        return Err(schema());
    }
    let not_canonical = || {
        runtime(format!(
            "Export transaction journal is not canonical: {}",
            journal.display()
        ))
    };
    let (Some(id), Some(had_target)) = (
        object["transaction_id"].as_str(),
        object["had_target"].as_bool(),
    ) else {
        return Err(not_canonical());
    };
    if !is_canonical_id(id) {
        return Err(not_canonical());
    }
    let entry = JournalEntry {
        transaction_id: id.to_string(),
        had_target,
    };
    // Byte equality also covers `format`, `version`, member order and whitespace.
    if bytes != serialize(&entry) {
        return Err(not_canonical());
    }
    Ok(entry)
}

/// Require the journal on disk to still describe `entry`, the active transaction.
pub(crate) fn require_active(journal: &Path, entry: &JournalEntry) -> Result<()> {
    if read(journal)? != *entry {
        return Err(runtime(
            "Export transaction journal does not describe the active transaction.",
        ));
    }
    Ok(())
}

/// A JSON value that fails to deserialize if any object in it repeats a member name
/// (`serde_json::Value` would silently keep the last one).
struct NoDuplicates;

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value without duplicate object members")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> std::result::Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<NoDuplicates, A::Error> {
        let mut seen = crate::fixed_hash::FixedSet::default();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(serde::de::Error::custom("duplicate object member"));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn hex_matches_the_formatter() {
        let bytes: Vec<u8> = (0..=255).collect();
        let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::hex(&bytes), want);
    }
}
