//! The physical floor of an export on a target: how fast this machine could possibly do
//! the same work, measured with the same bytes.
//!
//! - **codec**: compressing the run's exact payloads (the decoded contents of the files
//!   it wrote) with all cores at its codec and level — the CPU work that cannot be avoided;
//! - **create**: creating the same files (same relative paths, so the same directories)
//!   with the same sizes on the same target, all cores — the filesystem work that cannot
//!   be avoided;
//! - **seq_write**: writing the same total bytes as one file — the bandwidth bound.
//!
//! A perfect exporter overlaps CPU and I/O, so the floor is the largest of the three, and
//! `efficiency = floor / actual` (1.0 means the export is as fast as the hardware allows).
//!
//! **Measured beside every run, the least kept.** A bound measured at another moment than
//! the run is not a lower bound of it: on this VM's ext4 (online `discard`) creating the
//! same 2,011 files took 0.069 s on a fresh filesystem and 0.33–0.48 s right after an
//! export, depending on the recent deletions. So the sweep measures the three bounds right
//! after each timed run, under the preparation the run itself had (see [`measure`]):
//! the previous output removed, no dirty pages (`sync`, untimed, before every step), one
//! try per step. The cell's floor is the least of each bound over its runs
//! ([`Least`]): a lower bound measured many times keeps its minimum, and the floor comes
//! from the same distribution of filesystem states as the runs. Nothing caps the ratio:
//! a run faster than its cell's floor is stored and reported as measured.
//!
//! Exports larger than [`SAMPLE_BYTES`] on disk are measured on an evenly spaced subset of
//! their files (every k-th in name order) and the three times scaled up by the share of
//! bytes (codec, seq_write) and of files (create) the subset holds. Gene files of one
//! export are alike, so the scaled time is close to the whole; measuring the whole would
//! need the export's size again in free space and its decoded payloads in memory (80 GB
//! for 500k cells × 20k genes as f32).

use cellucid_core::codec::{GzipEncoder, PayloadEncoder, PayloadKind, ZstdEncoder};
use cellucid_core::GzipBackend;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The codec a setting uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloorCodec {
    None,
    Gzip(u32),
    Zstd(i32),
}

/// The three bounds of one measurement and the floor (their largest), in seconds,
/// scaled to the whole export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounds {
    pub codec_s: f64,
    pub create_s: f64,
    pub seq_write_s: f64,
    pub floor_s: f64,
}

impl Bounds {
    pub fn new(codec_s: f64, create_s: f64, seq_write_s: f64) -> Bounds {
        Bounds { codec_s, create_s, seq_write_s, floor_s: codec_s.max(create_s).max(seq_write_s) }
    }

    /// Each bound the lesser of the two (each is a lower bound on its own).
    pub fn least(self, other: Bounds) -> Bounds {
        Bounds::new(
            self.codec_s.min(other.codec_s),
            self.create_s.min(other.create_s),
            self.seq_write_s.min(other.seq_write_s),
        )
    }
}

/// The least of each bound over the floors measured beside a cell's runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Least {
    bounds: Option<Bounds>,
    runs: u32,
}

impl Least {
    /// Adds one run's bounds; the cell's floor so far.
    pub fn add(&mut self, b: Bounds) -> Bounds {
        let least = self.bounds.map_or(b, |l| l.least(b));
        self.bounds = Some(least);
        self.runs += 1;
        least
    }

    pub fn bounds(&self) -> Option<Bounds> {
        self.bounds
    }

    /// How many runs' floors the bounds are the least of.
    pub fn runs(&self) -> u32 {
        self.runs
    }
}

/// A sample's floor: the cell's floor so far (the least of each bound over its runs up
/// to this one; flattened, so the fields are those stores always had), the bounds
/// measured beside this run, and what was measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Floor {
    #[serde(flatten)]
    pub least: Bounds,
    /// How many runs' floors `least` is the least of (absent in older stores: one
    /// floor per cell).
    pub runs: u32,
    /// The bounds measured beside this run (absent in older stores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub this_run: Option<Bounds>,
    pub files: u64,
    pub payload_bytes: u64,
    pub written_bytes: u64,
    /// Share of the export's on-disk bytes that was measured (1.0: all of it).
    pub sampled_share: f64,
}

/// Above this many on-disk bytes, the floor is measured on a subset of the files.
pub const SAMPLE_BYTES: u64 = 512 << 20;

/// What the floor is measured on, read from an export before it is removed: the
/// (sampled) files' relative paths, on-disk sizes and decoded payloads.
pub struct Input {
    paths: Vec<String>,
    sizes: Vec<u64>,
    payloads: Vec<Payload>,
    total_files: u64,
    total_written: u64,
}

impl Input {
    /// Reads the export in `dir` (every k-th file when it is larger than [`SAMPLE_BYTES`]).
    pub fn read(dir: &Path) -> io::Result<Input> {
        let (files, _) = cellucid_core::compare::listing(dir)?;
        let mut total_written = 0;
        for f in &files {
            total_written += fs::metadata(dir.join(f))?.len();
        }
        let step = total_written.div_ceil(SAMPLE_BYTES).max(1) as usize;
        let paths: Vec<String> = files.iter().step_by(step).cloned().collect();
        let (payloads, sizes) = payloads_of_files(dir, &paths)?;
        Ok(Input { paths, sizes, payloads, total_files: files.len() as u64, total_written })
    }

    fn sample_written(&self) -> u64 {
        self.sizes.iter().sum::<u64>().max(1)
    }

    /// Whole export's bytes / the measured files' bytes.
    fn byte_scale(&self) -> f64 {
        self.total_written as f64 / self.sample_written() as f64
    }

    /// Whole export's files / the measured files.
    fn file_scale(&self) -> f64 {
        self.total_files as f64 / self.sizes.len().max(1) as f64
    }

    /// The sample's floor record: the cell's `least` bounds over `runs` runs and this
    /// run's bounds.
    pub fn floor(&self, least: Bounds, runs: u32, this_run: Bounds) -> Floor {
        let sample_payload: u64 = self.payloads.iter().map(|p| p.bytes.len() as u64).sum();
        Floor {
            least,
            runs,
            this_run: Some(this_run),
            files: self.total_files,
            payload_bytes: (sample_payload as f64 * self.byte_scale()).round() as u64,
            written_bytes: self.total_written,
            sampled_share: 1.0 / self.byte_scale(),
        }
    }
}

/// One decoded payload and its kind (read off its path, as the exporter decides it).
pub struct Payload {
    pub kind: PayloadKind,
    pub bytes: Vec<u8>,
}

/// The decoded payloads of an export folder (every file but the JSON manifests),
/// and the on-disk size of every file.
pub fn payloads_of(dir: &Path) -> io::Result<(Vec<Payload>, Vec<u64>)> {
    let (files, _) = cellucid_core::compare::listing(dir)?;
    payloads_of_files(dir, &files.into_iter().collect::<Vec<_>>())
}

/// [`payloads_of`] for some of the folder's files (paths relative to `dir`).
fn payloads_of_files(dir: &Path, files: &[String]) -> io::Result<(Vec<Payload>, Vec<u64>)> {
    let mut payloads = Vec::new();
    let mut sizes = Vec::new();
    for f in files {
        let bytes = fs::read(dir.join(f))?;
        sizes.push(bytes.len() as u64);
        if f.ends_with(".json") {
            continue;
        }
        let raw = if f.ends_with(".gz") {
            cellucid_core::codec::gzip::gunzip_single_member(&bytes).map_err(io::Error::other)?
        } else if f.ends_with(".zst") {
            zstd::stream::decode_all(&bytes[..])?
        } else {
            bytes
        };
        payloads.push(Payload { kind: PayloadKind::of_path(f), bytes: raw });
    }
    Ok((payloads, sizes))
}

/// `floor / actual`, not capped: the floor is a lower bound measured with noise, and a
/// ratio above 1 (a run faster than its cell's floor) is reported as measured.
pub fn efficiency(floor_s: f64, wall_s: f64) -> f64 {
    floor_s / wall_s.max(1e-9)
}

/// Times `f`, after writing back every dirty page (untimed), as each run starts.
fn time<F: FnOnce() -> io::Result<()>>(f: F) -> io::Result<Duration> {
    crate::target::tools::write_back_dirty_pages();
    let t = Instant::now();
    f()?;
    Ok(t.elapsed())
}

/// Compresses every payload with all cores, each as the exporter codes its kind.
pub fn codec_time(payloads: &[Payload], codec: FloorCodec) -> io::Result<Duration> {
    time(|| {
        payloads.par_iter().try_for_each_init(
            || {
                let enc = match codec {
                    FloorCodec::None => None,
                    FloorCodec::Gzip(l) => Some(PayloadEncoder::Gzip(GzipEncoder::new(l, GzipBackend::default()))),
                    FloorCodec::Zstd(l) => ZstdEncoder::new(l).ok().map(PayloadEncoder::Zstd),
                };
                (enc, Vec::new())
            },
            |(enc, out), p| match enc {
                Some(e) => e.encode(p.kind, &p.bytes, out),
                None => Ok(()),
            },
        )
    })
}

/// Creates the files `paths` (relative, with their directories) of the given sizes under
/// `dir`, all cores. The directories are made inside the timed step, as an export makes
/// its own.
pub fn create_time(dir: &Path, paths: &[String], sizes: &[u64]) -> io::Result<Duration> {
    let biggest = sizes.iter().copied().max().unwrap_or(0) as usize;
    // Not zeros: no filesystem may store the files sparse or deduplicated for free.
    let block = vec![0x5au8; biggest];
    // The empty path: `dir` itself, even for an export of no files.
    let parents: BTreeSet<&Path> = paths.iter().filter_map(|p| Path::new(p).parent()).chain([Path::new("")]).collect();
    time(|| {
        for p in parents {
            fs::create_dir_all(dir.join(p))?;
        }
        paths.par_iter().zip(sizes).try_for_each(|(p, &n)| File::create(dir.join(p))?.write_all(&block[..n as usize]))
    })
}

/// Writes `bytes` as the one file `path` (through the page cache, as exports do).
pub fn seq_write_time(path: &Path, bytes: u64) -> io::Result<Duration> {
    let chunk = vec![0xa5u8; 1 << 20];
    time(|| {
        let mut f = File::create(path)?;
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        Ok(())
    })
}

/// Measures the three bounds of `input` once on the filesystem of `scratch`, and removes
/// the files made there.
///
/// The caller measures right after the run, with the run's output already removed: the
/// run started after the previous output (and floor) had been removed and synced, and
/// on a filesystem with online discard those deletions slow the next creations, so the
/// floor gets the same. Its own files are removed only at the end, never between steps,
/// so that no step runs after a deletion the run did not have.
pub fn measure(input: &Input, scratch: &Path, codec: FloorCodec) -> io::Result<Bounds> {
    let codec_s = codec_time(&input.payloads, codec)?.as_secs_f64() * input.byte_scale();
    let created = scratch.join("create");
    let create_s = create_time(&created, &input.paths, &input.sizes)?.as_secs_f64() * input.file_scale();
    let seq = scratch.join("seq.bin");
    let seq_write_s = seq_write_time(&seq, input.sample_written())?.as_secs_f64() * input.byte_scale();
    fs::remove_dir_all(&created)?;
    fs::remove_file(&seq)?;
    Ok(Bounds::new(codec_s, create_s, seq_write_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_export() -> tempfile::TempDir {
        let src = tempfile::tempdir().expect("tmp");
        fs::create_dir(src.path().join("var")).expect("mkdir");
        let mut enc = GzipEncoder::new(6, GzipBackend::default());
        let mut out = Vec::new();
        for g in 0..50 {
            let payload: Vec<u8> = (0..20_000u32).map(|i| if (i + g) % 9 == 0 { (i % 200) as u8 } else { 0 }).collect();
            enc.encode(&payload, &mut out);
            fs::write(src.path().join(format!("var/{g}.values.u8.gz")), &out).expect("write");
        }
        fs::write(src.path().join("var_manifest.json"), b"{}").expect("write");
        src
    }

    #[test]
    fn floor_of_a_small_folder() {
        let src = small_export();
        let input = Input::read(src.path()).expect("input");
        let scratch = tempfile::tempdir().expect("tmp");
        let b = measure(&input, scratch.path(), FloorCodec::Gzip(6)).expect("floor");
        assert!(b.codec_s > 0.0 && b.create_s > 0.0 && b.seq_write_s > 0.0);
        assert_eq!(b.floor_s, b.codec_s.max(b.create_s).max(b.seq_write_s));
        assert_eq!(fs::read_dir(scratch.path()).expect("ls").count(), 0, "scratch files removed");
        let f = input.floor(b, 1, b);
        assert_eq!(f.files, 51);
        assert_eq!(f.payload_bytes, 50 * 20_000);
        assert_eq!(f.sampled_share, 1.0, "a small folder is measured whole");
    }

    #[test]
    fn create_makes_the_same_paths_and_sizes() {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = vec!["a.json".to_string(), "var/0.gz".to_string(), "var/sub/1.gz".to_string()];
        create_time(&dir.path().join("c"), &paths, &[3, 10, 0]).expect("create");
        for (p, n) in paths.iter().zip([3u64, 10, 0]) {
            assert_eq!(fs::metadata(dir.path().join("c").join(p)).expect("made").len(), n, "{p}");
        }
        create_time(&dir.path().join("empty"), &[], &[]).expect("an empty export");
        assert!(dir.path().join("empty").is_dir());
    }

    #[test]
    fn the_cell_floor_is_the_least_of_each_bound_over_its_runs() {
        let mut least = Least::default();
        assert_eq!(least.bounds(), None);
        assert_eq!(least.add(Bounds::new(1.0, 5.0, 2.0)), Bounds::new(1.0, 5.0, 2.0));
        // Each bound keeps its own minimum, even from different runs.
        let b = least.add(Bounds::new(2.0, 3.0, 0.5));
        assert_eq!(b, Bounds { codec_s: 1.0, create_s: 3.0, seq_write_s: 0.5, floor_s: 3.0 });
        // A slower measurement changes nothing but the count.
        assert_eq!(least.add(Bounds::new(9.0, 9.0, 9.0)), b);
        assert_eq!(least.runs(), 3);
        assert_eq!(least.bounds(), Some(b));
    }

    #[test]
    fn a_floor_record_keeps_the_old_field_names() {
        let f = Floor {
            least: Bounds::new(0.1, 0.4, 0.2),
            runs: 2,
            this_run: Some(Bounds::new(0.1, 0.5, 0.2)),
            ..Floor::default()
        };
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(v["floor_s"], 0.4);
        assert_eq!(v["create_s"], 0.4);
        assert_eq!(v["this_run"]["create_s"], 0.5);
        // A floor of an older store (one per cell) reads back without the new fields.
        let old: Floor =
            serde_json::from_str(r#"{"codec_s":0.1,"create_s":0.3,"seq_write_s":0.2,"floor_s":0.3,"files":5}"#)
                .expect("old");
        assert_eq!(old.least, Bounds::new(0.1, 0.3, 0.2));
        assert_eq!((old.runs, old.this_run, old.files), (0, None, 5));
    }

    #[test]
    fn efficiency_is_floor_over_actual_uncapped() {
        assert_eq!(efficiency(0.5, 2.0), 0.25);
        assert_eq!(efficiency(1.0, 1.0), 1.0);
        assert_eq!(efficiency(3.0, 1.5), 2.0, "a run faster than its floor is reported as measured");
        assert!(efficiency(0.1, 0.0).is_finite(), "a zero wall time does not divide by zero");
    }
}
