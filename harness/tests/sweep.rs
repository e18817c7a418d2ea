//! The sweep end to end with the real binary: a tiny plan on real filesystems (tmpfs and
//! disk always; xfs and sshfs when root), the reference writer on one tiny cell, resume
//! after SIGKILL, and no mount left behind after a failing run.

use cellucid_bench::store;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

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
         [axes]\ncells = 300\ngenes = 40\ndensity = 0.1\nvar_quantization = 8\ncompression = 6\ntarget = \"tmpfs\"\nsubject = \"ours\"\n\n\
         [[block]]\nname = \"targets\"\ntarget = [{}]\ncompression = [\"none\", 6]\n",
        t.join(", ")
    );
    if reference_cell {
        text.push_str("\n[[block]]\nname = \"reference\"\nsubject = \"reference\"\n");
    }
    let p = dir.join(format!("{name}.toml"));
    fs::write(&p, text).expect("write plan");
    p
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .filter(|m| m.starts_with(&*canon.to_string_lossy()))
        .collect()
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
    for s in samples.iter().filter(|s| s.subject == "ours") {
        let first = samples.iter().find(|x| x.cell_id == s.cell_id).expect("first");
        assert_eq!(s.output_hash, first.output_hash, "{}", s.label);
    }
    assert!(samples.iter().any(|s| s.subject == "reference"), "the reference ran");
    assert!(stdout.contains("| reference |"), "summary table: {stdout}");
    assert!(mounts_under(tmp.path()).is_empty(), "mounts left: {:?}", mounts_under(tmp.path()));
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
    assert!(samples.iter().any(|s| !s.ok && s.subject == "reference"), "the failure is recorded");
    assert!(samples.iter().any(|s| s.ok && s.target == "xfs"), "the other cells still ran");
    assert!(mounts_under(tmp.path()).is_empty(), "mounts left: {:?}", mounts_under(tmp.path()));
}
