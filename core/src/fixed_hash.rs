//! Hash maps and sets with a fixed hasher, for the export path.
//!
//! Why not std's `RandomState`: its keys are random per process, so the probe sequences
//! (and the instructions spent on them) differ between two runs of the same export, and
//! `ci --counter instructions` (cachegrind) must count exactly the same work for the same
//! binary and input. The keys here are the user's own gene ids, category labels and
//! paths, so the flooding attacks random keys defend against do not apply.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

/// SipHash with std's fixed zero keys (`DefaultHasher::new()`).
pub type FixedState = BuildHasherDefault<DefaultHasher>;
/// A `HashMap` that hashes the same way in every process.
pub type FixedMap<K, V> = HashMap<K, V, FixedState>;
/// A `HashSet` that hashes the same way in every process.
pub type FixedSet<K> = HashSet<K, FixedState>;
