//! Sweep plans and the result store: built-in plans, validation messages, stable ids,
//! shards, run order, sizing; store round trips, crash safety (a SIGKILLed writer),
//! resume and merge.

use cellucid_bench::plan::{parse_shard, schedule, schedule_warming, Codec, Durability, MachineBudget, Plan};
use cellucid_bench::writer::{OURS, REFERENCE};
use cellucid_bench::store::{self, Header, Machine, Sample, Store, StoreError};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SMALL: &str = r#"
name = "small"
seed = 3
repeats = 2
warmup = 1
[axes]
density = 0.1
[[block]]
name = "a"
cells = [1000, 2000, 3000]
genes = [100, 200]
compression = ["none", 6]
target = ["tmpfs", "disk"]
"#;

fn plan_err(text: &str) -> cellucid_bench::plan::PlanError {
    match Plan::from_toml_str(text) {
        Ok(_) => panic!("plan was accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn every_builtin_plan_parses_and_validates() {
    assert_eq!(Plan::builtin_names(), &["quick", "guide", "filesystems", "ci", "ci-instructions", "server", "guide-parts"]);
    for name in Plan::builtin_names() {
        let plan = Plan::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plan.name, *name);
        plan.validate().unwrap();
        let cells = plan.cells();
        assert!(!cells.is_empty(), "{name}");
        let ids: HashSet<String> = cells.iter().map(|c| c.id()).collect();
        assert_eq!(ids.len(), cells.len(), "{name}: ids must be unique");
        // Labels too, so that reports can name cells.
        let labels: HashSet<String> = cells.iter().map(|c| c.label()).collect();
        assert_eq!(labels.len(), cells.len(), "{name}: labels must be unique");
    }
    assert!(matches!(Plan::builtin("nope"), Err(cellucid_bench::plan::PlanError::UnknownBuiltin { .. })));
}

#[test]
fn quick_has_the_headline_cells_for_both_writers() {
    let plan = Plan::builtin("quick").unwrap();
    let cells = plan.cells();
    for writer in [OURS, REFERENCE] {
        for (vq, codec) in [(Some(8), Codec::Gzip(6)), (None, Codec::None)] {
            let found = cells.iter().filter(|c| {
                c.dataset.cells == 20_000
                    && c.dataset.genes == 2_000
                    && c.dataset.density == 0.1
                    && c.dataset.graph == cellucid_datasets::synthetic::GraphSpec::None
                    && c.dataset.categorical_fields == [12, 3]
                    && c.settings.obs_continuous_quantization.is_none()
                    && c.settings.var_quantization == vq
                    && c.settings.compression == codec
                    && c.settings.gene_panel.is_none()
                    && c.target == "tmpfs"
                    && c.writer == writer
                    && c.durability == Durability::Buffered
                    && !c.cold_cache
            });
            let found: Vec<String> = found.map(|c| c.label()).collect();
            let q = if vq.is_some() { "q8 gz6" } else { "f32 plain" };
            assert_eq!(found, [format!("20000x2000 d=0.10 {q} tmpfs {writer}")]);
        }
    }
    // The reference stays on a small slice (two sizes), and zstd never reaches it.
    let reference: Vec<_> = cells.iter().filter(|c| c.writer == REFERENCE).collect();
    assert_eq!(reference.len(), 4);
    assert_eq!(reference.iter().map(|c| c.dataset.cells).collect::<HashSet<_>>().len(), 2);
    assert!(reference.iter().all(|c| c.settings.compression.loadable() && c.target == "tmpfs"));
    assert!(plan.budgets[REFERENCE].run_seconds.is_some(), "a guard budget for the reference");
    assert!(cells.iter().any(|c| matches!(c.settings.compression, Codec::Zstd(_))));
    // Every axis has at least two levels somewhere in the plan.
    let distinct = |f: &dyn Fn(&cellucid_bench::plan::Cell) -> String| cells.iter().map(f).collect::<HashSet<_>>().len();
    assert!(distinct(&|c| c.dataset.cells.to_string()) >= 2);
    assert!(distinct(&|c| c.dataset.genes.to_string()) >= 2);
    assert!(distinct(&|c| c.dataset.density.to_string()) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.dataset.graph)) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.settings.var_quantization)) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.settings.obs_continuous_quantization)) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.settings.compression)) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.settings.gene_panel)) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.dataset.categorical_fields)) >= 2);
    assert!(distinct(&|c| c.target.clone()) >= 2);
    assert!(distinct(&|c| format!("{:?}", c.durability)) >= 2);
    assert!(distinct(&|c| c.cold_cache.to_string()) >= 2);
    // The 2-core budget: well under five minutes by the documented model.
    let size = plan.size(&MachineBudget::default());
    assert!(size.estimated_seconds < 240.0, "{size}");
}

#[test]
fn ci_plan_is_three_repeatable_tmpfs_cells() {
    let plan = Plan::builtin("ci").unwrap();
    let cells = plan.cells();
    assert_eq!(cells.len(), 3);
    // 12 timed pairs per configuration: what the gate's calibration used (docs/ci-gate.md).
    assert_eq!(plan.repeats, 12);
    assert!(cells.iter().all(|c| c.target == "tmpfs" && c.writer == OURS));
    let labels: Vec<String> = cells.iter().map(|c| c.label()).collect();
    assert_eq!(
        labels,
        [
            "20000x2000 d=0.10 q8 gz6 tmpfs cellucid-bench",
            "20000x2000 d=0.10 q16 gz1 tmpfs cellucid-bench",
            "50000x1000 d=0.10 q8 gz1 tmpfs cellucid-bench"
        ]
    );
    let budget = MachineBudget::default();
    for c in &cells {
        // The gate needs runs of at least ~200 ms to be above process noise.
        let s = Plan { blocks: plan.blocks.iter().filter(|b| b.name == c.block).cloned().collect(), ..plan.clone() }
            .size(&budget);
        assert!(s.run_seconds / s.runs as f64 >= 0.2, "{}: {s}", c.label());
    }
}

#[test]
fn filesystems_plan_covers_every_target_and_durability() {
    let plan = Plan::builtin("filesystems").unwrap();
    let cells = plan.cells();
    let targets: HashSet<&str> = cells.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(targets, HashSet::from(["tmpfs", "disk", "xfs", "btrfs", "sshfs", "exfat", "ntfs", "sshfs:20ms"]));
    // local: 2 sizes x 2 settings x 7 targets x 2 durabilities; latency: 1 size x 2
    // settings x 3 targets (tmpfs and sshfs beside sshfs:20ms for the ratios) x 2;
    // writers: the two Python writers on 3 targets (ours there is a `local` cell already).
    assert_eq!(cells.len(), 2 * 2 * 7 * 2 + 2 * 3 * 2 + 2 * 3);
    let writers: HashSet<&str> = cells.iter().map(|c| c.writer.as_str()).collect();
    assert_eq!(writers, HashSet::from(["cellucid-bench", "cellucid-py-0.9.2", "cellucid-py-0.0.9"]));
}

#[test]
fn cell_ids_are_stable_literals() {
    let plan = Plan::builtin("ci").unwrap();
    let c = &plan.cells()[0];
    assert_eq!(c.label(), "20000x2000 d=0.10 q8 gz6 tmpfs cellucid-bench");
    // Pinned: if this changes, every stored result's id changed. Change it only on purpose
    // (and bump the canonical form's version).
    assert_eq!(c.id(), "dae05f37dc846cc4");
    assert_eq!(c.dataset_id(), "118d8210cb1165ec");
    // Same cell in another plan: same id; a different target: a different id, same dataset.
    let quick = Plan::builtin("quick").unwrap();
    assert!(quick.cells().iter().any(|q| q.id() == c.id()));
    let mut other = c.clone();
    other.target = "disk".into();
    assert_ne!(other.id(), c.id());
    assert_eq!(other.dataset_id(), c.dataset_id());
    // The built-in writers kept the ids they had as subjects; a declared writer has its own.
    let mut user = c.clone();
    user.writer = "cellucid-r-0.9.1".into();
    assert_eq!(user.id(), "3139ddc014759e5b");
    assert_eq!(user.dataset_id(), c.dataset_id());
    // The block a cell came from is not part of its id.
    other = c.clone();
    other.block = "elsewhere".into();
    assert_eq!(other.id(), c.id());
}

#[test]
fn invalid_plans_name_the_axis() {
    let cases: &[(&str, &str)] = &[
        ("[axes]\ncompression = 10", "compression"),
        ("[axes]\ncompression = \"zstd:99\"", "compression"),
        ("[axes]\ncompression = \"lz4:1\"", "compression"),
        ("[axes]\ncells = 0", "cells"),
        ("[axes]\ncells = [1000, 0]", "cells"),
        ("[axes]\ngenes = -3", "genes"),
        ("[axes]\ndensity = 1.5", "density"),
        ("[axes]\nvar_quantization = 12", "var_quantization"),
        ("[axes]\ngraph = \"knn:0\"", "graph"),
        ("[axes]\ngraph = \"ring\"", "graph"),
        ("[axes]\ntarget = \"\"", "target"),
        ("[axes]\nsubject = \"python\"", "subject"),
        ("[axes]\nwriter = \"my writer\"", "writer"),
        ("[axes]\nwriter = [\"a\", \"a\"]", "writer"),
        ("[axes]\nwriter = \"a\"\nsubject = \"ours\"", "writer"),
        ("[budget.a]\nrun_seconds = 0", "budget.a.run_seconds"),
        ("[budget.a]\nrun_secs = 5", "run_secs"),
        ("[axes]\nobs_fields = \"lots\"", "obs_fields"),
        ("[axes]\ncells = []", "cells"),
        ("[axes]\ncels = 5", "cels"),
        ("colour = \"red\"", "colour"),
        ("[[block]]\nrepeat = 3", "repeat"),
        ("[dataset]\ncells = 5", "dataset.cells"),
        ("[axes]\ngene_panel = 5000\ngenes = 100", "gene_panel"),
        ("repeats = 0", "repeats"),
    ];
    for (body, axis) in cases {
        let text = format!("name = \"bad\"\n{body}\n");
        let e = plan_err(&text);
        assert_eq!(e.axis(), Some(*axis), "{body}: {e}");
        assert!(e.to_string().contains(axis), "{body}: {e}");
    }
    // List mode: one value per axis.
    let e = plan_err("name = \"l\"\nmode = \"list\"\n[[cell]]\ncells = [1000, 2000]\n");
    assert_eq!(e.axis(), Some("cells"), "{e}");
    let e = plan_err("name = \"l\"\nmode = \"list\"\n[[block]]\ncells = 1000\n");
    assert_eq!(e.axis(), Some("block"), "{e}");
    // Not TOML at all.
    assert!(matches!(plan_err("name = "), cellucid_bench::plan::PlanError::Toml(_)));
}

#[test]
fn factorial_counts_skips_and_duplicates() {
    let plan = Plan::from_toml_str(SMALL).unwrap();
    assert_eq!(plan.cells().len(), 3 * 2 * 2 * 2);
    let size = plan.size(&MachineBudget::default());
    assert_eq!(size.cells, 24);
    assert_eq!(size.runs, 24 * 3);
    assert_eq!(size.timed_runs, 24 * 2);
    assert_eq!(size.datasets, 6);
    // Panels larger than the dataset are skipped, the rest kept (what a writer cannot
    // express is the sweep's sizing's to drop, with the reason); a second block repeating
    // cells adds nothing.
    let text = r#"
name = "skips"
[axes]
cells = 1000
[[block]]
genes = [100, 1000]
gene_panel = ["all", 500]
compression = ["none", "zstd:3"]
subject = ["ours", "reference"]
[[block]]
genes = 100
"#;
    let plan = Plan::from_toml_str(text).unwrap();
    // genes 100: panel all only (500 > 100) -> 1; genes 1000: 2 panels. x codec x writer:
    // per (genes, panel) 4 cells; the old axis name maps onto writer names.
    assert_eq!(plan.cells().len(), (1 + 2) * 4);
    assert!(plan.cells().iter().any(|c| c.writer == REFERENCE && matches!(c.settings.compression, Codec::Zstd(_))));
    assert_eq!(plan.blocks[0].axes.combinations(), 16);
}

#[test]
fn optional_blocks_can_be_dropped() {
    let guide = Plan::builtin("guide").unwrap();
    let optional: Vec<_> = guide.blocks.iter().filter(|b| b.optional).collect();
    let names: Vec<&str> = optional.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["million", "atlas-2m", "atlas-4m"]);
    assert!(optional.iter().all(|b| b.note.as_deref().unwrap_or("").contains("disk")));
    let without = guide.without_optional();
    assert!(without.cells().iter().all(|c| c.dataset.cells < 1_000_000));
    assert!(guide.cells().iter().any(|c| c.dataset.cells == 1_000_000));
    let atlas = guide.only_blocks(&["atlas-2m".into()]).unwrap().cells();
    assert_eq!(atlas.len(), 1);
    assert_eq!((atlas[0].dataset.cells, atlas[0].memory_limit), (2_000_000, Some(4 << 30)));
}

#[test]
fn shards_are_disjoint_and_cover_the_plan() {
    let plan = Plan::builtin("guide").unwrap();
    let all: Vec<String> = plan.cells().iter().map(|c| c.id()).collect();
    for n in [1, 3, 8] {
        let mut union = Vec::new();
        let mut sizes = Vec::new();
        let mut export_shard = std::collections::HashMap::new();
        for i in 0..n {
            let cells = plan.shard(i, n);
            let shard: Vec<String> = cells.iter().map(|c| c.id()).collect();
            assert_eq!(shard, plan.shard(i, n).iter().map(|c| c.id()).collect::<Vec<_>>(), "deterministic");
            for c in &cells {
                // Every writer of one export lands in the same shard (side by side).
                assert_eq!(*export_shard.entry(c.export_id()).or_insert(i), i, "n={n}: {} split", c.label());
            }
            sizes.push(cells.iter().map(|c| c.export_id()).collect::<HashSet<_>>().len());
            union.extend(shard);
        }
        assert_eq!(union.len(), all.len(), "n={n}: disjoint");
        let u: HashSet<_> = union.into_iter().collect();
        assert_eq!(u, all.iter().cloned().collect::<HashSet<_>>(), "n={n}: union is the plan");
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
    }
    // Shard 0 of 8 is not simply the first cells.
    let first: HashSet<String> = all[..all.len() / 8].iter().cloned().collect();
    assert_ne!(plan.shard(0, 8).iter().map(|c| c.id()).collect::<HashSet<_>>(), first);
    assert!(plan.shard(3, 0).is_empty() && plan.shard(8, 8).is_empty());
    assert_eq!(parse_shard("3/8").unwrap(), (3, 8));
    for bad in ["8/8", "1/0", "3", "a/b", "-1/4"] {
        assert!(parse_shard(bad).is_err(), "{bad}");
    }
}

#[test]
fn long_cells_skip_warmups_and_keep_their_timed_rounds() {
    let plan = Plan::builtin("guide").unwrap().without_optional();
    assert_eq!(plan.warmup_max_seconds, Some(20.0));
    let cells = plan.cells();
    let budget = MachineBudget::default();
    let warm = plan.warms_up(&cells, &budget);
    let big = cells.iter().position(|c| c.dataset.cells == 500_000 && c.genes_exported() == 20_000).unwrap();
    let small = cells.iter().position(|c| c.dataset.cells == 10_000 && c.genes_exported() == 100).unwrap();
    assert!(!warm[big] && warm[small], "a minutes-long export is not warmed up, a sub-second one is");
    let runs = schedule_warming(&cells, &warm, 1, 3, plan.seed);
    let warmups: Vec<_> = runs.iter().filter(|r| r.is_warmup).collect();
    assert_eq!(warmups.len(), warm.iter().filter(|w| **w).count());
    assert!(warmups.iter().all(|r| warm[r.cell_index]));
    // The timed rounds are the ones `schedule` gives, in the same order.
    let timed = |rs: &[cellucid_bench::plan::ScheduledRun]| rs.iter().filter(|r| !r.is_warmup).copied().collect::<Vec<_>>();
    assert_eq!(timed(&runs), timed(&schedule(&cells, 1, 3, plan.seed)));
    // Without adaptive repeats the sizing counts the same runs; with them (the guide's
    // `[adaptive]`), the most each cell may take.
    let fixed = Plan { adaptive: None, ..plan.clone() };
    assert_eq!(fixed.size(&budget).runs, runs.len(), "the sizing counts the same runs");
    let adaptive = plan.size(&budget);
    assert!(adaptive.runs > runs.len() && adaptive.timed_runs <= 10 * cells.len(), "{adaptive}");
    // A bad value names the key.
    let bad = SMALL.replacen("warmup = ", "warmup_max_seconds = -3\nwarmup = ", 1);
    let err = Plan::from_toml_str(&bad).unwrap_err().to_string();
    assert!(err.contains("warmup_max_seconds"), "{err}");
}

#[test]
fn schedule_interleaves_rounds_warmups_first() {
    let plan = Plan::from_toml_str(SMALL).unwrap();
    let cells = plan.cells();
    let runs = schedule(&cells, 2, 3, 99);
    assert_eq!(runs.len(), cells.len() * 5);
    let keys: HashSet<(usize, u32)> = runs.iter().map(|r| (r.cell_index, r.repeat)).collect();
    assert_eq!(keys.len(), runs.len(), "every (cell, repeat) once");
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r.repeat as usize, i / cells.len(), "rounds in order");
        assert_eq!(r.is_warmup, r.repeat < 2);
    }
    assert_eq!(runs, schedule(&cells, 2, 3, 99), "same seed, same order");
    assert_ne!(runs, schedule(&cells, 2, 3, 100), "another seed, another order");
    let round = |k: usize| runs[k * cells.len()..(k + 1) * cells.len()].iter().map(|r| r.cell_index).collect::<Vec<_>>();
    assert_ne!(round(0), round(1));
    assert_ne!(round(1), round(2));
    assert_ne!(round(0), (0..cells.len()).collect::<Vec<_>>(), "shuffled, not plan order");
}

#[test]
fn size_estimates_grow_with_the_plan() {
    let budget = MachineBudget::default();
    let quick = Plan::builtin("quick").unwrap().size(&budget);
    let guide = Plan::builtin("guide").unwrap().size(&budget);
    assert!(quick.estimated_seconds > 10.0 && quick.disk_bytes > 100_000_000, "{quick}");
    assert!(guide.estimated_seconds > 10.0 * quick.estimated_seconds, "{guide} vs {quick}");
    assert!(guide.disk_bytes > 10 * quick.disk_bytes);
    assert_eq!(guide.disk_bytes, guide.largest_export_bytes + (1 << 30) + guide.dataset_bytes);
    // Memory covers the largest peak RSS stored (cellucid 0.9.2 at 500k x 20k: 7,896 MiB)
    // and a quick sweep stays well under the 3 GiB of scripts/slurm/sweep-array.sh.
    let no_optional = Plan::builtin("guide").unwrap().without_optional().size(&budget);
    assert!(no_optional.memory_bytes > 7896 << 20, "{no_optional}");
    assert!(quick.memory_bytes > 256 << 20 && quick.memory_bytes < 3 << 30, "{quick}");
    // More cores, less time; a known free disk is compared.
    let big = MachineBudget { cores: 16, free_disk_bytes: Some(1_000), ..budget };
    let fast = Plan::builtin("guide").unwrap().size(&big);
    assert!(fast.estimated_seconds < guide.estimated_seconds);
    assert_eq!(fast.fits_disk, Some(false));
    assert!(fast.to_string().contains("does NOT fit"));
    // With 4 GB of RAM, the 500k x 20k cells of the reference (8.3 GB measured) are listed
    // as not fitting, ours (4.3 GB measured) too, and nothing of the quick plan is.
    let small = MachineBudget { ram_bytes: Some(4_000_000_000), ..MachineBudget::default() };
    let over = Plan::builtin("guide").unwrap().without_optional().size(&small).over_memory;
    assert!(over.iter().any(|(l, _)| l.contains("500000x20000") && l.contains("cellucid-py-0.9.2")), "{over:?}");
    assert!(over.iter().all(|(_, b)| *b > 4_000_000_000));
    assert!(Plan::builtin("quick").unwrap().size(&small).over_memory.is_empty());
    assert!(guide.over_memory.is_empty(), "RAM unknown: nothing listed");
}

// ---------------------------------------------------------------- store

fn header(plan: &str) -> Header {
    Header {
        format: store::FORMAT.into(),
        version: store::VERSION,
        plan: plan.into(),
        started: "2025-01-01T00:00:00Z".into(),
        machine: Machine { cpu_model: "test cpu".into(), cores: 2, hostname: "h1".into(), ..Machine::default() },
        git_commit: Some("abc".into()),
        rustc: None,
        shard: None,
        machines: Vec::new(),
        git_commits: Vec::new(),
        writers: Vec::new(),
        extra: Default::default(),
    }
}

fn sample(cell: &str, repeat: u32, wall: f64) -> Sample {
    Sample {
        cell_id: cell.into(),
        label: format!("label {cell}"),
        repeat,
        target: "tmpfs".into(),
        writer: OURS.into(),
        settings: serde_json::json!({"compression": 6}),
        wall_s: wall,
        max_rss_bytes: 123_456,
        files: 42,
        ok: true,
        finished_at: "2025-01-01T00:00:01Z".into(),
        ..Sample::default()
    }
}

#[test]
fn store_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    let mut s = Store::create_or_resume(&path, header("small"), false).unwrap();
    let samples: Vec<Sample> = (0..5).map(|i| sample(&format!("c{i}"), i % 2, 0.5 + f64::from(i))).collect();
    for x in &samples {
        s.append(x).unwrap();
    }
    // A second writer on the same file is refused while the first holds it.
    assert!(matches!(Store::create_or_resume(&path, header("small"), true), Err(StoreError::Locked { .. })));
    drop(s);
    let (h, back) = store::read(&path).unwrap();
    assert_eq!(h, header("small"));
    assert_eq!(back, samples);
    // Without resume an existing file is an error naming it.
    let e = Store::create_or_resume(&path, header("small"), false).unwrap_err();
    assert!(matches!(e, StoreError::Exists { .. }) && e.to_string().contains("r.jsonl"), "{e}");
    // Resume with another plan or shard is refused; with the same plan it knows the runs.
    let e = Store::create_or_resume(&path, header("other"), true).unwrap_err();
    assert!(matches!(e, StoreError::PlanMismatch { .. }) && e.to_string().contains("other"), "{e}");
    let mut h2 = header("small");
    h2.shard = Some((1, 4));
    assert!(matches!(Store::create_or_resume(&path, h2, true), Err(StoreError::ShardMismatch { .. })));
    let s = Store::create_or_resume(&path, header("small"), true).unwrap();
    assert_eq!(s.finished().len(), 5);
    assert!(s.is_finished("c3", 1) && !s.is_finished("c3", 0));
    // Unknown fields survive a read (newer harnesses may add some).
    let text = std::fs::read_to_string(&path).unwrap().replace("\"ok\":true", "\"ok\":true,\"future\":[1,2]");
    std::fs::write(&path, text).unwrap();
    let (_, back) = store::read(&path).unwrap();
    assert_eq!(back[0].extra.get("future"), Some(&serde_json::json!([1, 2])));
}

#[test]
fn truncated_tail_is_ignored_and_cut_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let mut s = Store::create_or_resume(&path, header("small"), false).unwrap();
    s.append(&sample("a", 0, 1.0)).unwrap();
    s.append(&sample("b", 0, 1.0)).unwrap();
    drop(s);
    // A writer killed mid-line leaves half a record without its newline.
    let full = serde_json::to_string(&sample("c", 0, 1.0)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&full.as_bytes()[..full.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    let c = store::read_contents(&path).unwrap();
    assert_eq!(c.samples.len(), 2);
    assert_eq!(c.truncated.as_ref().map(|t| t.line), Some(4));
    let (_, samples) = store::read(&path).unwrap();
    assert_eq!(samples.len(), 2);
    let mut s = Store::create_or_resume(&path, header("small"), true).unwrap();
    assert!(s.dropped_tail().is_some());
    s.append(&sample("c", 0, 1.0)).unwrap();
    drop(s);
    let c = store::read_contents(&path).unwrap();
    assert!(c.truncated.is_none());
    assert_eq!(c.samples.iter().map(|s| s.cell_id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    // Damage in the middle is an error naming the line, not silently skipped.
    let text = std::fs::read_to_string(&path).unwrap().replacen("{\"cell_id\":\"b\"", "{\"cell_id\":\"b\",,", 1);
    std::fs::write(&path, text).unwrap();
    let e = store::read(&path).unwrap_err();
    assert!(matches!(e, StoreError::BadLine { line: 3, .. }), "{e}");
    // A file with only part of its header: no header (read), a fresh start (resume).
    std::fs::write(&path, "{\"format\":\"cellucid-be").unwrap();
    assert!(matches!(store::read(&path), Err(StoreError::NoHeader { .. })));
    let s = Store::create_or_resume(&path, header("small"), true).unwrap();
    assert!(s.finished().is_empty());
    drop(s);
    assert_eq!(store::read(&path).unwrap().0, header("small"));
}

const CHILD_ENV: &str = "CELLUCID_PLAN_STORE_CHILD_OUT";

/// Not a test on its own: the writer process of `sigkill_loses_at_most_the_run_in_flight`.
#[test]
#[ignore = "helper process, run by sigkill_loses_at_most_the_run_in_flight"]
fn sigkill_child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let path = PathBuf::from(path);
    let mut s = Store::create_or_resume(&path, header("kill"), true).unwrap();
    let done = s.finished();
    let mut i = 0u32;
    loop {
        let id = format!("cell{i}");
        if !done.contains(&(id.clone(), 0)) {
            // A fat sample, so that the kill often lands inside a write.
            let mut x = sample(&id, 0, f64::from(i));
            x.label = "x".repeat(20_000);
            s.append(&x).unwrap();
            println!("appended {id}");
        }
        i += 1;
    }
}

fn spawn_writer(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "sigkill_child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits for `n` "appended" lines from the child, then SIGKILLs it.
fn kill_after(mut child: std::process::Child, n: usize) -> usize {
    let out = child.stdout.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(out).lines() {
        if line.unwrap().starts_with("appended ") {
            seen += 1;
            if seen == n {
                break;
            }
        }
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer must have been killed");
    seen
}

#[test]
fn sigkill_loses_at_most_the_run_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.jsonl");
    let acknowledged = kill_after(spawn_writer(&path), 25);
    assert_eq!(acknowledged, 25);
    let c = store::read_contents(&path).expect("a killed writer's file must stay readable");
    assert!(c.samples.len() >= 25, "{} samples for 25 acknowledged appends", c.samples.len());
    let first: Vec<String> = c.samples.iter().map(|s| s.cell_id.clone()).collect();
    assert_eq!(first[..25], (0..25).map(|i| format!("cell{i}")).collect::<Vec<_>>()[..]);

    // A resumed writer skips what is stored, and continues after it.
    let acknowledged = kill_after(spawn_writer(&path), 10);
    assert_eq!(acknowledged, 10);
    let (_, samples) = store::read(&path).unwrap();
    let ids: Vec<&str> = samples.iter().map(|s| s.cell_id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no run stored twice");
    assert!(ids.len() >= first.len() + 10);
    let s = Store::create_or_resume(&path, header("kill"), true).unwrap();
    assert_eq!(s.finished().len(), ids.len());
}

#[test]
fn merge_is_the_union_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("p.shard0.jsonl");
    let b = dir.path().join("p.shard1.jsonl");
    let mut ha = header("p");
    ha.shard = Some((0, 2));
    ha.started = "2025-01-02T00:00:00Z".into();
    let mut hb = header("p");
    hb.shard = Some((1, 2));
    hb.machine.hostname = "h2".into();
    hb.git_commit = Some("b".repeat(40));
    let mut sa = Store::create_or_resume(&a, ha, false).unwrap();
    let mut sb = Store::create_or_resume(&b, hb, false).unwrap();
    for r in 0..3 {
        sa.append(&sample("x", r, 1.0)).unwrap();
        sb.append(&sample("y", r, 2.0)).unwrap();
    }
    // The same run in both (a shard re-run elsewhere): kept once, the successful one.
    let mut failed = sample("z", 0, 0.0);
    failed.ok = false;
    failed.error = Some("target unavailable".into());
    sa.append(&failed).unwrap();
    sb.append(&sample("z", 0, 3.0)).unwrap();
    drop((sa, sb));

    let out = dir.path().join("p.jsonl");
    let report = store::merge(&[a.clone(), b.clone()], &out).unwrap();
    assert_eq!(report.inputs, 2);
    assert_eq!(report.samples_read, 8);
    assert_eq!(report.samples_written, 7);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.machines, 2);
    let (h, samples) = store::read(&out).unwrap();
    assert_eq!(h.shard, None);
    assert_eq!(h.started, "2025-01-01T00:00:00Z", "the earliest start");
    assert_eq!(h.machines.iter().map(|m| m.hostname.as_str()).collect::<Vec<_>>(), ["h1", "h2"]);
    let keys: HashSet<(String, u32)> = samples.iter().map(Sample::key).collect();
    assert_eq!(keys.len(), 7);
    let z = samples.iter().find(|s| s.cell_id == "z").unwrap();
    assert!(z.ok && z.wall_s == 3.0);
    assert_eq!(z.extra.get("machine"), Some(&serde_json::json!(1)));
    // Shards built from two commits: both in the header, each sample naming its own.
    assert_eq!(h.git_commits.len(), 2, "{:?}", h.git_commits);
    assert_eq!(h.git_commits[1], "b".repeat(40));
    assert_eq!(z.extra.get("commit"), Some(&serde_json::json!(1)));
    assert!(report.warnings.iter().any(|w| w.contains("different commits")), "{:?}", report.warnings);
    // The output is never overwritten, and plans are never mixed.
    assert!(matches!(store::merge(std::slice::from_ref(&a), &out), Err(StoreError::Exists { .. })));
    let c = dir.path().join("q.jsonl");
    Store::create_or_resume(&c, header("q"), false).unwrap();
    let e = store::merge(&[a, c], &dir.path().join("mixed.jsonl")).unwrap_err();
    assert!(e.to_string().contains("plan `q`"), "{e}");
}

fn slurm_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slurm/sweep-array.sh")
}

#[test]
fn slurm_script_is_valid_bash() {
    let script = slurm_script();
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-"));
    assert!(text.contains("--shard \"$ID/$SLURM_ARRAY_TASK_COUNT\""));
    assert!(text.contains("cellucid-bench merge"));
    // The defaults must be schedulable on a 2-CPU node with 4 GB (sbatch options override them).
    let sbatch = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(&format!("#SBATCH --{key}="))).unwrap_or_else(|| panic!("no #SBATCH --{key}")).to_string()
    };
    assert!(sbatch("cpus-per-task").parse::<u32>().unwrap() <= 2);
    let mem = sbatch("mem");
    let gib: f64 = mem.strip_suffix('G').map(|g| g.parse().unwrap()).unwrap_or_else(|| mem.trim_end_matches('M').parse::<f64>().unwrap() / 1024.0);
    assert!(gib <= 3.5, "--mem={mem}");
    let status = Command::new("bash").arg("-n").arg(&script).status().unwrap();
    assert!(status.success());
}

/// The script outside Slurm, with the array variables set and a stand-in binary that
/// prints its arguments: stores are named by the plan file's stem, OUT_DIR and
/// CELLUCID_WORK_DIR are used, extra arguments reach the sweep.
#[test]
fn slurm_script_names_stores_by_the_plan_file_stem() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-bench");
    std::fs::write(&fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out_dir = dir.path().join("stores");
    let run = |args: &[&str], work: Option<&str>| {
        let mut c = Command::new("bash");
        c.arg(slurm_script()).args(args).env("CELLUCID_BENCH", &fake).env("OUT_DIR", &out_dir);
        c.env("SLURM_ARRAY_TASK_ID", "1").env("SLURM_ARRAY_TASK_COUNT", "2").env_remove("CELLUCID_WORK_DIR");
        if let Some(w) = work {
            c.env("CELLUCID_WORK_DIR", w);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().lines().map(str::to_string).collect::<Vec<_>>()
    };
    let store = format!("{}/tiny.shard1.jsonl", out_dir.display());
    assert_eq!(
        run(&["/some/where/tiny.toml", "--no-floor"], Some("/shared/work")),
        ["sweep", "--plan", "/some/where/tiny.toml", "--shard", "1/2", "--resume", "--out", store.as_str(), "--work-dir", "/shared/work", "--no-floor"]
    );
    assert!(out_dir.is_dir(), "OUT_DIR is made");
    let quick = format!("{}/quick.shard1.jsonl", out_dir.display());
    assert_eq!(run(&["quick"], None), ["sweep", "--plan", "quick", "--shard", "1/2", "--resume", "--out", quick.as_str()]);
    // Outside an array, or with a task id past the end, it says why.
    let o = Command::new("bash").arg(slurm_script()).arg("quick").env("CELLUCID_BENCH", &fake).env_remove("SLURM_ARRAY_TASK_ID").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sbatch --array=0-N"));
}

const BUDGETED: &str = r#"
name = "budgeted"
repeats = 2
warmup = 1
[axes]
density = 0.1
var_quantization = 8
compression = 6
[budget."cellucid-py-0.9.2"]
run_seconds = 10
sweep_seconds = 40
[[block]]
cells = [1000, 20000, 50000, 200000]
genes = 2000
writer = ["cellucid-bench", "reference"]
[[block]]
name = "zstd"
cells = 1000
genes = 2000
compression = "zstd:3"
writer = ["cellucid-bench", "cellucid-py-0.9.2"]
"#;

#[test]
fn writers_drop_what_they_cannot_express_and_budgets_skip_with_the_prediction() {
    use cellucid_bench::sweep::{budget::Budgets, scheduler};
    use cellucid_bench::writer::{Peer, Writers};
    let plan = Plan::from_toml_str(BUDGETED).unwrap();
    let writers = Writers::builtin(&Peer::default_location());
    let (cells, dropped) = scheduler::drop_unsupported(plan.cells(), &writers).unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0].writer, REFERENCE);
    assert!(dropped[0].reason.contains("compression = \"zstd:3\"") && dropped[0].reason.contains("supports.zstd = false"), "{:?}", dropped[0]);
    let m = MachineBudget::default();
    let budgets = Budgets::new(&plan, &cells, &writers);
    assert_eq!(budgets.get(OURS), Default::default(), "ours has no budget");
    let (kept, skipped) = budgets.apply(&plan, cells.clone(), &m);
    assert_eq!(kept.len() + skipped.len(), cells.len());
    assert!(kept.iter().filter(|c| c.writer == OURS).count() == 5, "ours is never skipped");
    // 200k cells are far over 10 s a run for the reference; every skip has its prediction.
    assert!(skipped.iter().all(|s| s.cell.writer == REFERENCE));
    let big = skipped.iter().find(|s| s.cell.dataset.cells == 200_000).expect("200k skipped");
    assert!(big.predicted_wall_s > 10.0 && big.reason.contains("over cellucid-py-0.9.2's run budget of 10 s"), "{}", big.reason);
    // The reference's kept runs fit its sweep budget by the same model.
    let mine: Vec<_> = kept.iter().filter(|c| c.writer == REFERENCE).cloned().collect();
    assert!(!mine.is_empty());
    assert!(plan.size_of(&mine, &m).run_seconds <= 40.0);
    // A fitted model that says the writer is 10x slower skips more.
    let mut slow = m.clone();
    slow.writer_fits.insert(REFERENCE.into(), cellucid_bench::plan::WriterFit { fixed_s: 1.0, scale: 10.0, points: 2 });
    let (kept_slow, _) = budgets.apply(&plan, cells.clone(), &slow);
    assert!(kept_slow.iter().filter(|c| c.writer == REFERENCE).count() < mine.len());
    // Calibration picks the reference's cheapest cell and one of at least twice its size.
    let cal = budgets.calibration_cells(&kept, &m);
    assert_eq!(cal.len(), 1);
    assert_eq!(cal[0].0, REFERENCE);
    assert_eq!(cal[0].1.len().min(2), cal[0].1.len());
    assert_eq!(kept[cal[0].1[0]].dataset.cells, 1000);
}

#[test]
fn server_sets_the_anndata_writer_beside_folder_exports_of_the_same_datasets() {
    use cellucid_bench::sweep::{budget::Budgets, scheduler};
    use cellucid_bench::writer::{Peer, Writers, PY_095};
    let plan = Plan::builtin("server").unwrap();
    let writers = Writers::builtin(&Peer::default_location());
    let (cells, dropped) = scheduler::drop_unsupported(plan.cells(), &writers).unwrap();
    assert!(dropped.is_empty(), "every cell is expressible by its writer: {dropped:?}");
    assert_eq!(cells.len(), 2 * 3 + 2, "two sizes: three writers at f32 plain, ours at q8 gz6");
    let anndata: Vec<_> = cells.iter().filter(|c| c.writer == PY_095).collect();
    assert_eq!(anndata.len(), 2);
    for c in anndata {
        assert_eq!((c.genes_exported(), c.settings.var_quantization, c.settings.compression), (20_000, None, Codec::None));
        let beside: Vec<&str> = cells.iter().filter(|o| o.dataset_id() == c.dataset_id() && o.writer != PY_095).map(|o| o.writer.as_str()).collect();
        assert!(beside.contains(&OURS) && beside.contains(&REFERENCE), "{}: {beside:?}", c.label());
    }
    // By the default model the reference's 500k cell is over its run budget; nothing
    // else is skipped.
    let m = MachineBudget::default();
    let (kept, skipped) = Budgets::new(&plan, &cells, &writers).apply(&plan, cells.clone(), &m);
    assert!(skipped.iter().all(|s| s.cell.writer == REFERENCE && s.cell.dataset.cells == 500_000), "{:?}", skipped.iter().map(|s| &s.reason).collect::<Vec<_>>());
    assert!(kept.iter().filter(|c| c.writer == PY_095).count() == 2);
}

#[test]
fn a_writer_fit_separates_start_up_from_per_value_cost() {
    use cellucid_bench::plan::WriterFit;
    // y = 2 + 3x exactly.
    let f = WriterFit::fit(&[(1.0, 1.0, 5.0), (1.0, 4.0, 14.0)]).unwrap();
    assert!((f.fixed_s - 2.0).abs() < 1e-9 && (f.scale - 3.0).abs() < 1e-9, "{f:?}");
    // One size: the default per-value cost, the rest is start-up.
    let f = WriterFit::fit(&[(1.0, 2.0, 5.0)]).unwrap();
    assert!((f.fixed_s - 3.0).abs() < 1e-9 && (f.scale - 1.0).abs() < 1e-9, "{f:?}");
    // A larger cell that ran faster (noise over a small spread) is not a negative cost.
    let f = WriterFit::fit(&[(1.0, 0.1, 4.8), (1.0, 0.4, 4.6)]).unwrap();
    assert!(f.scale == 1.0 && f.fixed_s > 4.0 && f.fixed_s < 4.8, "{f:?}");
    assert!(WriterFit::fit(&[]).is_none());
    // One size that ran faster than the default per-value cost alone: that cost is
    // scaled down to it, with no start-up (not a start-up of 0 and the default cost).
    let f = WriterFit::fit(&[(1.0, 180.0, 83.0)]).unwrap();
    assert!(f.fixed_s == 0.0 && (f.scale - 83.0 / 180.0).abs() < 1e-12, "{f:?}");
}

#[test]
fn old_stores_map_subject_to_writer_and_new_samples_leave_it_out() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("old.jsonl");
    let h = serde_json::to_string(&header("p")).unwrap();
    std::fs::write(&path, format!("{h}\n{{\"cell_id\":\"a\",\"repeat\":1,\"subject\":\"reference\",\"ok\":true}}\n")).unwrap();
    let (_, samples) = store::read(&path).unwrap();
    assert_eq!(samples[0].writer, REFERENCE);
    let new = serde_json::to_value(sample("b", 1, 1.0)).unwrap();
    assert_eq!(new["writer"], OURS);
    assert!(new.get("subject").is_none() && new.get("skipped").is_none());
}

/// A block's `memory_limit` reaches our exporter as `--memory-limit BYTES`, shows in the
/// label, changes the cell's id (and leaves other cells' ids alone), and a writer
/// without a memory budget cannot express such a cell.
#[test]
fn a_blocks_memory_limit_is_our_flag_and_part_of_the_cell() {
    use cellucid_bench::sweep::{executor, scheduler};
    use cellucid_bench::writer::{Peer, Writers};
    let text = "name = \"m\"\n[axes]\ncells = 1000\ngenes = 100\n[[block]]\nname = \"free\"\n\
                [[block]]\nname = \"limited\"\nmemory_limit = \"4G\"\ncells = 2000\nwriter = [\"cellucid-bench\", \"cellucid-py-0.9.2\"]\n";
    let plan = Plan::from_toml_str(text).unwrap();
    let cells = plan.cells();
    let free = cells.iter().find(|c| c.block == "free").unwrap();
    assert_eq!(free.memory_limit, None);
    let limited: Vec<_> = cells.iter().filter(|c| c.block == "limited").collect();
    assert!(limited.iter().all(|c| c.memory_limit == Some(4 << 30)));
    assert!(limited[0].label().contains(" mem=4G "), "{}", limited[0].label());
    let unlimited = cellucid_bench::plan::Cell { memory_limit: None, ..limited[0].clone() };
    assert_ne!(unlimited.id(), limited[0].id());
    assert!(!unlimited.canonical().to_string().contains("memory_limit"), "cells without a limit keep their ids");
    let writers = Writers::builtin(&Peer::default_location());
    let (kept, dropped) = scheduler::drop_unsupported(cells.clone(), &writers).unwrap();
    assert_eq!(dropped.len(), 1);
    assert!(dropped[0].reason.contains("memory_limit: cellucid-py-0.9.2 takes no memory budget"), "{:?}", dropped[0]);
    let ours = kept.iter().find(|c| c.block == "limited").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let paths = executor::RunPaths { input: tmp.path(), params: tmp.path(), out: tmp.path().join("out"), work_dir: tmp.path() };
    let cmd = executor::command(writers.get(OURS).unwrap(), ours, &paths).unwrap();
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    assert!(args.windows(2).any(|w| w[0] == "--memory-limit" && w[1] == (4u64 << 30).to_string()), "{args:?}");
    // A bad size names the key.
    let err = plan_err(&text.replace("\"4G\"", "\"4X\"")).to_string();
    assert!(err.contains("memory_limit") && err.contains("unknown unit"), "{err}");
    // `--blocks` picks blocks by name.
    assert_eq!(plan.only_blocks(&["limited".into()]).unwrap().cells().len(), 2);
    assert!(plan.only_blocks(&["nope".into()]).unwrap_err().contains("its blocks: free, limited"));
}
