//! The `too-many-files` scenario for real, through the CLI (`cellucid-bench scenario
//! too-many-files --writer cellucid-bench`): on filesystems with a file-count limit it
//! must find the largest gene count that exports, quote the error beyond it, find the
//! folder consistent after the failure, and try the guide's remedies; and it must leave
//! nothing mounted, attached or on record. Root only (the targets mount); a test skips
//! with the reason printed otherwise.

mod support;

use serde_json::Value;
use std::path::Path;
use support::{bin, is_root, mounts_under, stderr};

/// Runs the scenario for our exporter on `targets`; its records by target name.
fn scenario(targets: &str, work: &Path) -> Vec<Value> {
    let out = work.join("records.jsonl");
    let o = bin()
        .args(["scenario", "too-many-files", "--writer", "cellucid-bench", "--out"])
        .arg(&out)
        .arg("--work-dir")
        .arg(work.join("work"))
        .env("CELLUCID_TOO_MANY_FILES_TARGETS", targets)
        .output()
        .unwrap();
    println!("{}", stderr(&o));
    assert!(o.status.success(), "scenario failed: {}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap());
    let header = lines.next().expect("a header");
    assert_eq!(header["plan"], "scenario:too-many-files");
    assert_eq!(header["format"], "cellucid-bench-results");
    let records: Vec<Value> = lines.collect();
    for r in &records {
        assert_eq!(r["scenario"], "too-many-files");
        assert_eq!(r["writer"], "cellucid-bench");
        assert!(r["finished_at"].is_string() && r["limit"].is_string(), "{r}");
    }
    assert_nothing_left(&work.join("work"));
    records
}

fn record<'a>(records: &'a [Value], target: &str) -> &'a Value {
    records.iter().find(|r| r["target"] == target).unwrap_or_else(|| panic!("no record for {target}: {records:?}"))
}

/// No mount, loop device or ledger of the scenario's targets remains.
fn assert_nothing_left(work: &Path) {
    assert!(mounts_under(work).is_empty(), "still mounted: {:?}", mounts_under(work));
    let targets = work.join("too-many-files/targets");
    let left: Vec<String> = std::fs::read_dir(&targets)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", targets.display());
    let canon = std::fs::canonicalize(work).unwrap();
    for dev in std::fs::read_dir("/sys/block").unwrap().flatten() {
        let backing = std::fs::read_to_string(dev.path().join("loop/backing_file")).unwrap_or_default();
        assert!(!backing.starts_with(&*canon.to_string_lossy()), "{:?} still backs {backing}", dev.file_name());
    }
}

/// A record that found a limit: the bracket is tight, the error is the filesystem's, the
/// folder stayed consistent and the gene panel fixed it.
fn assert_limit_found(r: &Value, error_part: &str) {
    let ok = r["largest_ok_genes"].as_u64().unwrap_or_else(|| panic!("no export worked: {r}"));
    let failing = r["first_failing_genes"].as_u64().unwrap_or_else(|| panic!("no limit found: {r}"));
    assert!(ok < failing && failing - ok <= (ok / 16).max(8), "bracket {ok}..{failing}: {r}");
    assert_eq!(r["search_complete"], true, "{r}");
    let error = r["error"].as_str().unwrap();
    assert!(error.starts_with("error: ") && error.contains(error_part), "{error}");
    assert_eq!(r["consistent_after_failure"], true, "{r}");
    let remedies = r["remedies"].as_array().unwrap();
    let panel = remedies.iter().find(|m| m["remedy"] == format!("gene_panel:{ok}")).unwrap_or_else(|| panic!("{r}"));
    assert_eq!(panel["ok"], true, "{panel}");
    let split = remedies.iter().find(|m| m["remedy"].as_str().unwrap().starts_with("split:")).unwrap();
    assert!(split["ok"].is_boolean() && split["detail"].is_string(), "{split}");
}

/// Inode limits (tmpfs `nr_inodes`, ext4 `-N`) and the open-file limit.
#[test]
fn inode_and_open_file_limits() {
    if !is_root() {
        println!("SKIPPED: the targets mount filesystems, which needs root");
        return;
    }
    let work = tempfile::Builder::new().prefix("too-many-files-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let records = scenario("tmpfs-nr-inodes:600,ext4-few-inodes:600,ulimit-nofile:256", work.path());
    assert_eq!(records.len(), 3, "{records:?}");

    for target in ["tmpfs-nr-inodes+600", "ext4-few-inodes+600"] {
        let r = record(&records, target);
        assert_limit_found(r, "No space left on device");
        let ok = r["largest_ok_genes"].as_u64().unwrap();
        // Each gene is a file; the rest of the folder takes a few dozen inodes, and mkfs
        // rounds ext4's 600 to whole inode-table blocks per group (576 here).
        assert!((300..=600).contains(&ok), "{target}: {ok} genes");
        // The limit is the filesystem's, not the folder's: K exports side by side need
        // as many inodes as one.
        let split = r["remedies"].as_array().unwrap().iter().find(|m| m["remedy"].as_str().unwrap().starts_with("split:")).unwrap();
        assert_eq!(split["ok"], false, "{target}: {split}");
    }

    let r = record(&records, "ulimit-nofile+256");
    assert!(r["limit"].as_str().unwrap().contains("RLIMIT_NOFILE 256"), "{r}");
    // Our exporter holds one gene file open per worker, whatever the gene count.
    assert_eq!(r["largest_ok_genes"], 16_384, "{r}");
    assert!(r["first_failing_genes"].is_null() && r["error"].is_null(), "{r}");
}

/// exFAT (256 MiB of 128 KiB clusters) and NTFS (16 MiB), through their FUSE daemons: the
/// space the files take is the limit (about 2 minutes).
#[test]
fn fuse_filesystems() {
    if !is_root() {
        println!("SKIPPED: the targets mount filesystems, which needs root");
        return;
    }
    let work = tempfile::Builder::new().prefix("too-many-files-fuse-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let records = scenario("exfat,ntfs", work.path());
    if records.is_empty() {
        println!("SKIPPED: exfat and ntfs need exfatprogs, exfat-fuse and ntfs-3g (scripts/install-fs-deps.sh)");
        return;
    }
    for (target, genes) in [("exfat", 1_000..=2_048), ("ntfs", 4_000..=16_384)] {
        let r = record(&records, target);
        assert_limit_found(r, "No space left on device");
        let ok = r["largest_ok_genes"].as_u64().unwrap();
        assert!(genes.contains(&ok), "{target}: {ok} genes");
    }
}
