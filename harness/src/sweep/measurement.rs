//! What a finished run left behind: bytes, files and the determinism hash of its output,
//! the writer's per-phase report, the cell's physical floor and the target's state.

use crate::benchmark::executor::ChildRun;
use crate::measure::floor::{self, Floor, FloorCodec};
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

/// What is measured once per cell and remembered over the sweep.
#[derive(Default)]
pub struct Measurer {
    /// Measure the physical floor of each cell (once).
    pub floor: bool,
    floors: HashMap<String, Floor>,
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

    /// Fills the output fields of `sample` from the successful run `child` of `cell`
    /// whose output is `out`.
    pub fn measure(&mut self, sample: &mut Sample, cell: &Cell, writer: &Writer, child: &ChildRun, out: &Path, target: &Target) -> Result<()> {
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
        // The floor models a folder of payload files (their codec, creation and bytes);
        // an AnnData file compresses its chunks its own way and is one file, so it has none.
        if self.floor && folder && !self.floors.contains_key(&id) {
            let scratch = target.root.join("floor");
            std::fs::create_dir_all(&scratch)?;
            let f = floor::measure(out, &scratch, floor_codec(cell)).with_context(|| format!("cannot measure the floor of {}", cell.label()))?;
            let _ = std::fs::remove_dir_all(&scratch);
            self.floors.insert(id.clone(), f);
        }
        if let Some(f) = self.floors.get(&id) {
            sample.floor = serde_json::to_value(f).ok();
            sample.efficiency = Some(floor::efficiency(f.floor_s, sample.wall_s));
        }
        sample.target_info = target.info_now().ok().map(|i| {
            serde_json::json!({"fs_type": i.fs_type, "mount_options": i.mount_options, "free_bytes": i.free_bytes, "total_bytes": i.total_bytes, "device": i.device})
        });
        Ok(())
    }
}
