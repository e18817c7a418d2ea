//! What a finished run left behind: bytes, files and the determinism hash of its output,
//! the writer's per-phase report, the target's state, and the physical floor measured
//! beside the run (the cell's floor is the least of each bound over its runs so far).

use crate::benchmark::executor::ChildRun;
use crate::measure::floor::{self, Floor, FloorCodec, Least};
use crate::measure::tree::tree_stats_hashing_if;
use crate::plan::{Cell, Codec};
use crate::store::Sample;
use crate::target::Target;
use crate::writer::Writer;
use anyhow::{Context, Result};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Exports up to this size are hashed on every run; larger ones once per cell.
const HASH_EVERY_RUN_BYTES: u64 = 1 << 30;

/// What is remembered per cell over the sweep: the least floor bounds so far, and
/// whether its (large) output was hashed.
#[derive(Default)]
pub struct Measurer {
    /// Measure the physical floor beside each timed run.
    pub floor: bool,
    floors: HashMap<String, Least>,
    hashed: HashSet<String>,
}

fn floor_codec(cell: &Cell) -> FloorCodec {
    match cell.settings.compression {
        Codec::None => FloorCodec::None,
        Codec::Gzip(l) => FloorCodec::Gzip(l as u32),
        Codec::Zstd(l) => FloorCodec::Zstd(l),
    }
}

impl Measurer {
    pub fn new(floor: bool) -> Measurer {
        Measurer { floor, ..Measurer::default() }
    }

    /// Primes each cell's least floor with the floors of a resumed store's samples.
    pub fn resume(&mut self, stored: &[Sample]) {
        for s in stored {
            let Some(f) = s.floor.as_ref().and_then(|v| serde_json::from_value::<Floor>(v.clone()).ok()) else { continue };
            // Older stores have no per-run bounds: their one floor per cell stands for it.
            self.floors.entry(s.cell_id.clone()).or_default().add(f.this_run.unwrap_or(f.least));
        }
    }

    /// Fills the output fields of `sample` from the successful run `child` of `writer`
    /// whose output is `out` (all but the floor: [`Measurer::floor_beside`]).
    pub fn measure(&mut self, sample: &mut Sample, writer: &Writer, child: &ChildRun, out: &Path, target: &Target) -> Result<()> {
        let id = sample.cell_id.clone();
        // Hashing reads the whole export again (a minute for 40 GB): large exports are
        // hashed on their cell's first run in this sweep only. The hash is a folder's
        // determinism check; an AnnData file (or any other output) is not hashed.
        let folder = writer.output.is_folder();
        let stats = tree_stats_hashing_if(out, |s| folder && (s.bytes_apparent <= HASH_EVERY_RUN_BYTES || self.hashed.insert(id.clone())))
            .with_context(|| format!("cannot measure {}", out.display()))?;
        sample.bytes_apparent = stats.bytes_apparent;
        sample.bytes_allocated = stats.bytes_allocated;
        sample.files = stats.files;
        sample.dirs = stats.dirs;
        sample.output_hash = (!stats.hash.is_empty()).then_some(stats.hash);
        if writer.phases {
            let report = serde_json::from_str::<serde_json::Value>(&child.stdout).ok();
            sample.phases = report.as_ref().map(|r| r["phases"].clone());
            sample.spill_bytes = report.as_ref().and_then(|r| r["spill_bytes"].as_u64()).filter(|&b| b > 0);
        }
        sample.target_info = target.info_now().ok().map(|i| {
            serde_json::json!({"fs_type": i.fs_type, "mount_options": i.mount_options, "free_bytes": i.free_bytes, "total_bytes": i.total_bytes, "device": i.device})
        });
        Ok(())
    }

    /// Measures the floor beside this run of `writer` (removing its output `out`) and
    /// stores the cell's floor so far (the least of each bound) with the raw, uncapped
    /// efficiency. The sweep calls it after timed runs only (warm-ups are not stored).
    ///
    /// The floor models a folder of payload files (their codec, creation and bytes); an
    /// AnnData file compresses its chunks its own way and is one file, so it has none.
    ///
    /// The run started right after the previous output and floor were removed and the
    /// dirty pages written back; the floor starts the same way: `out` is read, then
    /// removed, and every step of the floor starts after a `sync`. On a filesystem with
    /// online discard, creation slows after deletions, so a floor measured on another
    /// history than the run's is not a lower bound of it.
    pub fn floor_beside(&mut self, sample: &mut Sample, cell: &Cell, writer: &Writer, out: &Path, target: &Target) -> Result<()> {
        if !self.floor || !writer.output.is_folder() {
            return Ok(());
        }
        let what = || format!("cannot measure the floor of {}", cell.label());
        let input = floor::Input::read(out).with_context(what)?;
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
        let scratch = target.root.join("floor");
        std::fs::create_dir_all(&scratch).with_context(what)?;
        let this_run = floor::measure(&input, &scratch, floor_codec(cell)).with_context(what)?;
        let _ = std::fs::remove_dir_all(&scratch);
        let least = self.floors.entry(sample.cell_id.clone()).or_default();
        let cell_floor = least.add(this_run);
        sample.floor = serde_json::to_value(input.floor(cell_floor, least.runs(), this_run)).ok();
        sample.efficiency = Some(floor::efficiency(cell_floor.floor_s, sample.wall_s));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::floor::Bounds;

    fn stored(cell: &str, floor: serde_json::Value) -> Sample {
        Sample { cell_id: cell.into(), ok: true, floor: Some(floor), ..Sample::default() }
    }

    #[test]
    fn a_resumed_sweep_keeps_the_least_floor_of_earlier_sessions() {
        let mut m = Measurer::new(true);
        m.resume(&[
            // New samples: the bounds beside each run count, not the least-so-far.
            stored("c1", serde_json::json!({"codec_s": 0.1, "create_s": 0.4, "seq_write_s": 0.2, "floor_s": 0.4, "runs": 1,
                "this_run": {"codec_s": 0.1, "create_s": 0.4, "seq_write_s": 0.2, "floor_s": 0.4}})),
            stored("c1", serde_json::json!({"codec_s": 0.1, "create_s": 0.3, "seq_write_s": 0.2, "floor_s": 0.3, "runs": 2,
                "this_run": {"codec_s": 0.3, "create_s": 0.3, "seq_write_s": 0.25, "floor_s": 0.3}})),
            // An older store's sample: one floor per cell, no per-run bounds.
            stored("c2", serde_json::json!({"codec_s": 0.5, "create_s": 0.1, "seq_write_s": 0.1, "floor_s": 0.5})),
            Sample { cell_id: "c3".into(), ok: true, ..Sample::default() },
        ]);
        assert_eq!(m.floors["c1"].bounds(), Some(Bounds::new(0.1, 0.3, 0.2)));
        assert_eq!(m.floors["c1"].runs(), 2);
        assert_eq!(m.floors["c2"].bounds(), Some(Bounds::new(0.5, 0.1, 0.1)));
        assert!(!m.floors.contains_key("c3"), "a sample without a floor primes nothing");
    }
}
