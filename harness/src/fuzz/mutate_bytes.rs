//! Mutations of a file's bytes: bit flips, overwritten runs, truncation, and corruptions
//! aimed at HDF5's string heaps.
//!
//! The blind mutations find what a damaged download or disk does to a file. The heap
//! mutations are aimed: variable-length strings (names, labels, categories) live in global
//! heap collections (`GCOL`), and a byte-level edit of one object's data is the only way
//! to store bytes that are not UTF-8 (or a UTF-8 sequence cut short) where a writer
//! library would refuse them; an edit of an object's size field is what crashed the
//! system HDF5 1.10.8 in 45 of 48 crashes of the first fuzzing.

use crate::plan::SplitMix64;

/// One byte-level mutation of `data` (the input is a copy; it is changed in place).
/// Returns a description for the failure report.
pub fn mutate(data: &mut Vec<u8>, rng: &mut SplitMix64) -> String {
    if data.is_empty() {
        return "empty file left as is".into();
    }
    match rng.below(6) {
        0 => flip_bits(data, rng),
        1 => overwrite_run(data, rng),
        2 => truncate(data, rng),
        3 | 4 => heap_string_bytes(data, rng).unwrap_or_else(|| overwrite_run(data, rng)),
        _ => heap_object_size(data, rng).unwrap_or_else(|| flip_bits(data, rng)),
    }
}

fn flip_bits(data: &mut [u8], rng: &mut SplitMix64) -> String {
    let n = 1 + rng.below(8);
    let mut at = Vec::with_capacity(n);
    for _ in 0..n {
        let i = rng.below(data.len());
        data[i] ^= 1 << rng.below(8);
        at.push(i);
    }
    format!("flipped {n} bit(s) at offsets {at:?}")
}

fn overwrite_run(data: &mut [u8], rng: &mut SplitMix64) -> String {
    let start = rng.below(data.len());
    let len = (1 + rng.below(64)).min(data.len() - start);
    let fill = rng.below(3);
    for b in &mut data[start..start + len] {
        *b = match fill {
            0 => 0x00,
            1 => 0xff,
            _ => rng.next_u64() as u8,
        };
    }
    let what = ["zeros", "0xff", "random bytes"][fill];
    format!("overwrote {len} byte(s) at offset {start} with {what}")
}

fn truncate(data: &mut Vec<u8>, rng: &mut SplitMix64) -> String {
    let len = rng.below(data.len());
    data.truncate(len);
    format!("truncated to {len} bytes")
}

/// One global heap object: where its size field and its data are.
struct HeapObject {
    size_field: usize,
    data: usize,
    len: usize,
}

/// Objects of every global heap collection in the file (version 1, 8-byte lengths).
fn heap_objects(data: &[u8]) -> Vec<HeapObject> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = find(&data[from..], b"GCOL").map(|p| p + from) {
        from = pos + 4;
        let Some(size) = read_u64(data, pos + 8) else { continue };
        let end = pos.saturating_add(size as usize).min(data.len());
        let mut at = pos + 16;
        // Object: index u16, refcount u16, reserved u32, size u64, data padded to 8.
        while at + 16 <= end {
            let index = u16::from_le_bytes([data[at], data[at + 1]]);
            let Some(len) = read_u64(data, at + 8) else { break };
            if index == 0 || len as usize > end - at - 16 {
                break; // index 0 is the free space at the end of a collection
            }
            out.push(HeapObject { size_field: at + 8, data: at + 16, len: len as usize });
            at += 16 + (len as usize).div_ceil(8) * 8;
        }
    }
    out
}

/// Non-UTF-8 bytes inside a stored string: a Latin-1 byte, a lone continuation byte, or
/// a multi-byte sequence cut short at the string's end.
fn heap_string_bytes(data: &mut [u8], rng: &mut SplitMix64) -> Option<String> {
    let objects: Vec<HeapObject> = heap_objects(data).into_iter().filter(|o| o.len > 0).collect();
    if objects.is_empty() {
        return None;
    }
    let o = &objects[rng.below(objects.len())];
    let (offset, bytes): (usize, &[u8]) = match rng.below(3) {
        0 => (o.data + rng.below(o.len), &[0xfc]),
        1 => (o.data + rng.below(o.len), &[0x80]),
        _ if o.len >= 2 => (o.data + o.len - 2, &[0xe2, 0x82]),
        _ => (o.data, &[0xe2]),
    };
    data[offset..offset + bytes.len()].copy_from_slice(bytes);
    Some(format!("wrote non-UTF-8 bytes {bytes:02x?} into a heap string at offset {offset}"))
}

/// A global heap object's size field set to a wrong length.
fn heap_object_size(data: &mut [u8], rng: &mut SplitMix64) -> Option<String> {
    let objects = heap_objects(data);
    if objects.is_empty() {
        return None;
    }
    let o = &objects[rng.below(objects.len())];
    let len = o.len as u64;
    let wrong = match rng.below(4) {
        0 => len + 1 + rng.below(64) as u64,
        1 => len.saturating_sub(1 + rng.below(4) as u64),
        2 => u64::MAX - rng.below(16) as u64,
        _ => 1 << (20 + rng.below(40)),
    };
    data[o.size_field..o.size_field + 8].copy_from_slice(&wrong.to_le_bytes());
    Some(format!("set a heap object's size {len} to {wrong} at offset {}", o.size_field))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection of two objects ("abc", "héllo") as HDF5 lays it out.
    fn collection() -> Vec<u8> {
        let mut c = b"GCOL\x01\0\0\0".to_vec();
        c.extend_from_slice(&64u64.to_le_bytes());
        for (i, s) in [(1u16, &b"abc"[..]), (2, "héllo".as_bytes())] {
            c.extend_from_slice(&i.to_le_bytes());
            c.extend_from_slice(&[1, 0, 0, 0, 0, 0]);
            c.extend_from_slice(&(s.len() as u64).to_le_bytes());
            c.extend_from_slice(s);
            c.resize(c.len().div_ceil(8) * 8, 0);
        }
        c.resize(64, 0);
        c
    }

    #[test]
    fn heap_objects_are_found_with_their_lengths() {
        let mut file = vec![7u8; 100];
        file.extend(collection());
        let objs = heap_objects(&file);
        assert_eq!(objs.iter().map(|o| o.len).collect::<Vec<_>>(), vec![3, 6]);
        assert_eq!(&file[objs[0].data..objs[0].data + 3], b"abc");
    }

    #[test]
    fn the_same_seed_gives_the_same_mutant() {
        let base: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).chain(collection()).collect();
        let run = |seed| {
            let mut d = base.clone();
            let what = mutate(&mut d, &mut SplitMix64::new(seed));
            (d, what)
        };
        assert_eq!(run(42), run(42));
        assert!((0..20).any(|s| run(s).0 != base));
    }

    #[test]
    fn heap_string_mutations_leave_invalid_utf8() {
        let mut file = collection();
        for seed in 0..10 {
            let mut d = file.clone();
            heap_string_bytes(&mut d, &mut SplitMix64::new(seed)).expect("objects exist");
            let objs = heap_objects(&d);
            assert!(objs.iter().any(|o| std::str::from_utf8(&d[o.data..o.data + o.len]).is_err()));
        }
        file.truncate(10);
        assert!(heap_string_bytes(&mut file, &mut SplitMix64::new(1)).is_none());
    }
}
