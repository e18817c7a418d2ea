//! The sweep end to end with the real binary: a tiny plan on real filesystems (tmpfs and
//! disk always; xfs and sshfs when root), the reference writer on one tiny cell, resume
//! after SIGKILL, no mount left behind after a failing run; the reference declared as a
//! user writer (same output as the built-in), budgets and writers files.

mod support;

use support::{bin, is_root, mounts_under};
use cellucid_bench::measure::floor::{Bounds, Floor};
use cellucid_bench::store;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo").to_path_buf()
}

fn peer() -> (PathBuf, PathBuf) {
    let venv = std::env::var_os("CELLUCID_PEER_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv-peer"));
    let venv = if venv.exists() { venv } else { PathBuf::from("/work/.venv-peer") };
    let python = venv.join("bin/python");
    assert!(python.exists(), "no peer venv at {}: run `bash ../shared/peer/setup.sh .venv-peer`", venv.display());
    let shared = std::env::var_os("CELLUCID_SHARED").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared"));
    (python, shared.join("peer/cellucid_prepare_092.py"))
}

fn plan(dir: &Path, name: &str, targets: &[&str], repeats: u32, reference_cell: bool) -> PathBuf {
    let t: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    let mut text = format!(
        "name = \"{name}\"\ndescription = \"test plan\"\nseed = 3\nrepeats = {repeats}\nwarmup = 1\nmode = \"factorial\"\n\n\
         [axes]\ncells = 300\ngenes = 40\ndensity = 0.1\nvar_quantization = 8\ncompression = 6\ntarget = \"tmpfs\"\nwriter = \"cellucid-bench\"\n\n\
         [[block]]\nname = \"targets\"\ntarget = [{}]\ncompression = [\"none\", 6]\n",
        t.join(", ")
    );
    if reference_cell {
        // The old axis name, still read.
        text.push_str("\n[[block]]\nname = \"reference\"\nsubject = \"reference\"\n");
    }
    let p = dir.join(format!("{name}.toml"));
    fs::write(&p, text).expect("write plan");
    p
}

#[test]
fn a_tiny_plan_runs_on_real_filesystems_with_both_writers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut targets = vec!["tmpfs", "disk"];
    if is_root() {
        targets.extend(["xfs", "sshfs"]);
    } else {
        eprintln!("not root: xfs and sshfs are not provisioned in this run");
    }
    let p = plan(tmp.path(), "tiny", &targets, 2, true);
    let out = tmp.path().join("tiny.jsonl");
    let (python, script) = peer();
    let o = bin()
        .arg("sweep")
        .arg("--plan")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .arg("--peer-python")
        .arg(&python)
        .arg("--peer-script")
        .arg(&script)
        .output()
        .expect("run sweep");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "sweep failed: {}\n{stdout}", String::from_utf8_lossy(&o.stderr));
    let (header, samples) = store::read(&out).expect("store");
    assert_eq!(header.plan, "tiny");
    assert!(header.machine.cores >= 1);
    // (targets × 2 codecs) ours cells + 1 reference cell, 2 timed repeats each.
    assert_eq!(samples.len(), (targets.len() * 2 + 1) * 2, "{stdout}");
    for s in &samples {
        assert!(s.ok, "{}: {:?}", s.label, s.error);
        assert!(s.wall_s > 0.0 && s.max_rss_bytes > 0 && s.files > 40, "{}", s.label);
        assert!(s.bytes_allocated > 0 && s.output_hash.is_some());
        assert!(s.efficiency.is_some_and(|e| e > 0.0), "{}: efficiency", s.label);
    }
    for t in &targets {
        let fs_type = samples.iter().find(|s| s.target == *t).and_then(|s| s.target_info.clone()).expect("target info")["fs_type"].clone();
        let want = match *t {
            "tmpfs" => "tmpfs",
            "xfs" => "xfs",
            "sshfs" => "fuse.sshfs",
            _ => "",
        };
        if !want.is_empty() {
            assert_eq!(fs_type, want, "target {t}");
        }
    }
    // Ours is deterministic: every repeat of a cell wrote the same bytes.
    let names: Vec<&str> = header.writers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"cellucid-bench") && names.contains(&"cellucid-py-0.9.2"), "{names:?}");
    let py = header.writers.iter().find(|w| w.name == "cellucid-py-0.9.2").expect("reference");
    assert_eq!(py.version.as_deref(), Some("0.9.2"), "the version probe");
    for s in samples.iter().filter(|s| s.writer == "cellucid-bench") {
        let first = samples.iter().find(|x| x.cell_id == s.cell_id).expect("first");
        assert_eq!(s.output_hash, first.output_hash, "{}", s.label);
    }
    assert!(samples.iter().any(|s| s.writer == "cellucid-py-0.9.2"), "the reference ran");
    assert!(samples.iter().all(|s| s.subject.is_empty()), "new samples carry writer only");
    floors_are_the_least_over_the_runs_so_far(&samples);
    assert!(stdout.contains("| cellucid-py-0.9.2 |"), "summary table: {stdout}");
    assert!(mounts_under(tmp.path()).is_empty(), "mounts left: {:?}", mounts_under(tmp.path()));
}

/// Every timed run has its own floor beside it, and each sample holds its cell's least of
/// each bound over the runs up to it, with the uncapped efficiency against that.
fn floors_are_the_least_over_the_runs_so_far(samples: &[store::Sample]) {
    let mut seen: std::collections::HashMap<&str, Vec<Bounds>> = Default::default();
    for s in samples {
        let f: Floor = serde_json::from_value(s.floor.clone().expect("a floor")).expect("a floor record");
        let this = f.this_run.expect("the bounds measured beside this run");
        let runs = seen.entry(s.cell_id.as_str()).or_default();
        runs.push(this);
        let least = runs.iter().copied().reduce(Bounds::least).expect("one run");
        assert_eq!((f.least, f.runs as usize), (least, runs.len()), "{}", s.label);
        assert_eq!(s.efficiency, Some(least.floor_s / s.wall_s), "{}: not capped", s.label);
    }
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_without_losing_or_repeating_samples() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = plan(tmp.path(), "resume", &["tmpfs"], 6, false);
    let out = tmp.path().join("resume.jsonl");
    let work = tmp.path().join("work");
    let mut child = bin()
        .args(["sweep", "--no-floor", "--plan"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(&work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill it once a few samples are stored.
    let started = Instant::now();
    loop {
        let n = fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0);
        if n >= 4 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let (_, before) = store::read(&out).expect("a store killed mid-sweep still reads");
    assert!(!before.is_empty() && before.len() < 12, "killed too late or too early: {}", before.len());
    let o = bin().args(["sweep", "--resume", "--no-floor", "--plan"]).arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(&work).output().expect("resume");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, after) = store::read(&out).expect("store");
    assert_eq!(after.len(), 12, "2 cells × 6 repeats");
    let mut keys: Vec<(String, u32)> = after.iter().map(|s| (s.cell_id.clone(), s.repeat)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12, "no sample stored twice");
    for s in &before {
        assert!(after.iter().any(|a| a.cell_id == s.cell_id && a.repeat == s.repeat && a.wall_s == s.wall_s), "kept {}", s.label);
    }
}

#[test]
fn a_failing_run_leaves_no_mount_behind() {
    if !is_root() {
        eprintln!("not root: the xfs target cannot be provisioned; nothing to tear down");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let p = plan(tmp.path(), "failing", &["xfs"], 1, true);
    let out = tmp.path().join("failing.jsonl");
    // The reference cell cannot run: its interpreter does not exist.
    let o = bin()
        .args(["sweep", "--no-floor", "--plan"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .args(["--peer-python", "/bin/false", "--peer-script", "/nonexistent.py"])
        .output()
        .expect("run");
    assert!(!o.status.success(), "a failing run makes the sweep fail");
    let (_, samples) = store::read(&out).expect("store");
    assert!(samples.iter().any(|s| !s.ok && s.writer == "cellucid-py-0.9.2"), "the failure is recorded");
    assert!(samples.iter().any(|s| s.ok && s.target == "xfs"), "the other cells still ran");
    assert!(mounts_under(tmp.path()).is_empty(), "mounts left: {:?}", mounts_under(tmp.path()));
}

fn venv() -> PathBuf {
    peer().0.parent().and_then(Path::parent).expect("venv of the peer python").to_path_buf()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write");
    p
}

#[test]
fn the_reference_declared_as_a_user_writer_writes_what_the_builtin_writes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = write(
        tmp.path(),
        "user.toml",
        "name = \"user\"\nrepeats = 1\nwarmup = 0\n[axes]\ncells = 300\ngenes = 40\ndensity = 0.1\nvar_quantization = 8\ncompression = 6\n\
         writer = [\"cellucid-py-0.9.2\", \"cellucid-py-user\"]\n",
    );
    let out = tmp.path().join("user.jsonl");
    let (python, script) = peer();
    let o = bin()
        .args(["sweep", "--no-floor", "--plan"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .arg("--writers")
        .arg(repo().join("harness/tests/fixtures/writers-cellucid-py-user.toml"))
        .arg("--peer-python")
        .arg(&python)
        .arg("--peer-script")
        .arg(&script)
        .env("CELLUCID_PEER_VENV", venv())
        .env("CELLUCID_SHARED", script.parent().and_then(Path::parent).expect("shared"))
        .output()
        .expect("run sweep");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "sweep failed: {stderr}");
    let (header, samples) = store::read(&out).expect("store");
    let user = header.writers.iter().find(|w| w.name == "cellucid-py-user").expect("user writer in the header");
    assert_eq!(user.version.as_deref(), Some("0.9.2"));
    assert!(user.source.ends_with("writers-cellucid-py-user.toml"), "{}", user.source);
    assert!(stderr.contains("writer cellucid-py-user: set up in"), "setup ran once: {stderr}");
    let get = |w: &str| samples.iter().find(|s| s.writer == w).unwrap_or_else(|| panic!("no sample of {w}"));
    let (builtin, declared) = (get("cellucid-py-0.9.2"), get("cellucid-py-user"));
    assert!(builtin.ok && declared.ok, "{:?} {:?}", builtin.error, declared.error);
    assert_ne!(builtin.cell_id, declared.cell_id, "two writers, two cells");
    assert_eq!((declared.files, declared.bytes_apparent), (builtin.files, builtin.bytes_apparent));
    assert!(builtin.output_hash.is_some());
    assert_eq!(declared.output_hash, builtin.output_hash, "same bytes in every file");
}

#[test]
fn cells_over_a_writer_budget_are_skipped_and_stored_with_their_prediction() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The 50k x 5k gzip 9 cell is predicted at tens of seconds, far over 5 s a run; the
    // reference's zstd cell cannot be expressed at all (dropped, never stored).
    let p = write(
        tmp.path(),
        "budget.toml",
        "name = \"budget\"\nrepeats = 2\nwarmup = 0\n[budget.cellucid-bench]\nrun_seconds = 5\n\
         [axes]\ndensity = 0.1\nvar_quantization = 8\ncompression = 6\n\
         [[block]]\nname = \"small\"\ncells = 300\ngenes = 40\n\
         [[block]]\nname = \"big\"\ncells = 50000\ngenes = 5000\nvar_quantization = \"none\"\ncompression = 9\n\
         [[block]]\nname = \"zstd\"\ncells = 300\ngenes = 40\ncompression = \"zstd:3\"\nwriter = \"cellucid-py-0.9.2\"\n",
    );
    let dry = bin().args(["sweep", "--dry-run", "--plan"]).arg(&p).output().expect("dry run");
    let dry_err = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "{dry_err}");
    assert!(dry_err.contains("dropped, cellucid-py-0.9.2 cannot express it: compression = \"zstd:3\""), "{dry_err}");
    assert!(dry_err.contains("50000x5000") && dry_err.contains("over cellucid-bench's run budget of 5 s"), "{dry_err}");
    let out = tmp.path().join("budget.jsonl");
    let o = bin()
        .args(["sweep", "--no-floor", "--plan"])
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .output()
        .expect("run sweep");
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{stderr}\n{stdout}");
    assert!(stderr.contains("writer cellucid-bench: calibration run 300x40"), "calibrated on its cheapest cell: {stderr}");
    let (_, samples) = store::read(&out).expect("store");
    let skipped: Vec<_> = samples.iter().filter(|s| s.skipped.is_some()).collect();
    assert_eq!(skipped.len(), 1, "one record for the skipped cell");
    let k = skipped[0].skipped.as_ref().expect("skipped");
    assert!(skipped[0].label.starts_with("50000x5000") && !skipped[0].ok && skipped[0].wall_s == 0.0);
    assert!(k.predicted_wall_s > 5.0 && k.reason.contains("run budget of 5 s"), "{k:?}");
    assert_eq!(samples.iter().filter(|s| s.ok && s.label.starts_with("300x40")).count(), 2, "the small cell ran");
    assert!(samples.iter().all(|s| s.writer == "cellucid-bench"), "the dropped cell is not stored");
    assert!(stdout.contains("skipped, predicted") && stdout.contains("(extrapolated)"), "{stdout}");
    assert!(!fs::read_dir(tmp.path().join("work/datasets")).expect("datasets").any(|e| {
        e.map(|e| fs::metadata(e.path()).map(|m| m.len() > 50_000_000).unwrap_or(false)).unwrap_or(false)
    }), "the skipped cell's dataset was not generated");
    // A resumed sweep keeps the skip and stores nothing twice.
    let o = bin().args(["sweep", "--resume", "--no-floor", "--plan"]).arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(tmp.path().join("work")).output().expect("resume");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(store::read(&out).expect("store").1.len(), samples.len());
}

#[test]
fn a_bad_writers_file_is_one_line_naming_the_field() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = write(tmp.path(), "w.toml", "[[writer]]\nname = \"x\"\ncommand = [\"x\", \"{input}\", \"{out}\"]\n");
    let o = bin().args(["sweep", "--plan", "quick", "--dry-run", "--writers"]).arg(&w).output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("writer \"x\": `command` must pass {params}") && err.trim().lines().count() == 1, "{err}");
    // A plan naming a writer nobody declared.
    let p = write(tmp.path(), "p.toml", "name = \"p\"\n[axes]\ncells = 300\ngenes = 40\nwriter = \"cellucid-r-0.9.1\"\n");
    let o = bin().args(["sweep", "--dry-run", "--plan"]).arg(&p).output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no writer \"cellucid-r-0.9.1\"") && err.contains("--writers FILE"), "{err}");
}

/// A plan with `[adaptive]` repeats its cells past `repeats`, interleaved, until each
/// stops for a reason that is stored on its last sample; resuming the finished store runs
/// nothing more. The rule is made to stop on its run limit (an interval of 0.1 % is
/// never reached by 8 real runs), so the test does not depend on how quiet the machine
/// is.
#[test]
fn adaptive_repeats_run_until_each_cell_stops_and_record_why() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = plan(tmp.path(), "adaptive", &["tmpfs"], 3, false);
    let mut text = fs::read_to_string(&p).expect("plan");
    text = text.replace("mode = \"factorial\"\n", "mode = \"factorial\"\n\n[adaptive]\ninterval = 0.001\nmax_repeats = 5\nmax_cell_seconds = 600\n");
    fs::write(&p, text).expect("plan");
    let out = tmp.path().join("adaptive.jsonl");
    let sweep = |resume: bool| {
        let mut cmd = bin();
        cmd.arg("sweep").arg("--plan").arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(tmp.path().join("work")).arg("--no-floor");
        if resume {
            cmd.arg("--resume");
        }
        let o = cmd.output().expect("run sweep");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let stderr = sweep(false);
    assert!(stderr.contains("adaptive repeats: another round of 2 cell(s)"), "{stderr}");
    let (_, samples) = store::read(&out).expect("store");
    // Two cells (plain and gzip 6), 5 timed runs each: 3 fixed rounds and 2 adaptive ones.
    assert_eq!(samples.len(), 10);
    for cell in ["300x40 d=0.10 q8 plain tmpfs cellucid-bench", "300x40 d=0.10 q8 gz6 tmpfs cellucid-bench"] {
        let mine: Vec<_> = samples.iter().filter(|s| s.label == cell).collect();
        let repeats: Vec<u32> = mine.iter().map(|s| s.repeat).collect();
        assert_eq!(repeats, [1, 2, 3, 4, 5], "{cell}: after the warm-up round 0");
        let stops: Vec<&str> = mine.iter().filter_map(|s| s.stopped.as_deref()).collect();
        assert_eq!(stops.len(), 1, "{cell}: {stops:?}");
        assert!(stops[0].starts_with("max_repeats: 5 runs, interval no 95 % interval yet"), "{}", stops[0]);
        assert!(mine.last().is_some_and(|s| s.stopped.is_some()), "the stop is on the last sample");
    }
    // Resuming a finished adaptive store runs nothing.
    let stderr = sweep(true);
    assert!(!stderr.contains("adaptive repeats: another round"), "{stderr}");
    assert_eq!(store::read(&out).expect("store").1.len(), 10);
}

/// `--generate-only` writes the plan's datasets into the work dir's cache, prints their
/// paths and runs nothing; the sweep after it finds them cached.
#[test]
fn generate_only_fills_the_dataset_cache_and_runs_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = plan(tmp.path(), "gen", &["tmpfs"], 1, false);
    let out = tmp.path().join("gen.jsonl");
    let work = tmp.path().join("work");
    let o = bin().arg("sweep").arg("--plan").arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(&work).arg("--generate-only").output().expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let paths: Vec<&str> = stdout.lines().collect();
    assert_eq!(paths.len(), 1, "one dataset: {stdout}");
    assert!(Path::new(paths[0]).starts_with(work.join("datasets")) && Path::new(paths[0]).is_file(), "{stdout}");
    assert!(!out.exists(), "no store: nothing was run");
    let o = bin().arg("sweep").arg("--plan").arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(&work).arg("--no-floor").output().expect("run");
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("generated in"), "cached: {}", String::from_utf8_lossy(&o.stderr));
}
