//! What a SIGKILLed sweep leaves is reclaimed, for real: a sweep on tmpfs, xfs, btrfs and
//! sshfs (those this machine can provision) is killed with SIGKILL mid-run; its mounts
//! (in /proc/self/mountinfo), loop devices (/sys/block/loop*) and daemons (sshd, sshfs)
//! are checked to be there, then `cellucid-bench targets clean` — or, separately, the
//! `--resume` of the sweep — must remove every one, and the resumed sweep must complete
//! with the full sample count. Targets of a running process are never touched, and a
//! recorded pid that now names another process is never signalled.
//!
//! The two kill tests need root (mounts); without it they print why and pass. They take
//! about 10–20 s each here (provisioning four filesystems, sshd's shutdown).

mod support;

use support::{bin, is_root, mounts_under};
use cellucid_bench::store;
use cellucid_bench::target::{procs, provision, TargetSpec};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The root-only filesystems of the killed sweep (the sweep skips the unavailable ones).
const TARGETS: [&str; 4] = ["tmpfs", "xfs", "btrfs", "sshfs"];
const REPEATS: usize = 3;

fn show(o: &Output) -> String {
    format!("status {}\nstdout:\n{}\nstderr:\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn plan(dir: &Path) -> PathBuf {
    let t: Vec<String> = TARGETS.iter().map(|t| format!("\"{t}\"")).collect();
    let text = format!(
        "name = \"reclaim\"\ndescription = \"killed and reclaimed\"\nseed = 5\nrepeats = {REPEATS}\nwarmup = 0\nmode = \"factorial\"\n\n\
         [axes]\ncells = 300\ngenes = 40\ndensity = 0.1\nvar_quantization = 8\ncompression = 6\ntarget = \"tmpfs\"\nsubject = \"ours\"\n\n\
         [[block]]\nname = \"targets\"\ntarget = [{}]\ncompression = [\"none\", 6]\n",
        t.join(", ")
    );
    let p = dir.join("reclaim.toml");
    fs::write(&p, text).expect("write plan");
    p
}

/// Loop devices whose backing file lies under `dir`.
fn loops_under(dir: &Path) -> Vec<String> {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut out = Vec::new();
    for e in fs::read_dir("/sys/block").into_iter().flatten().flatten() {
        let backing = fs::read_to_string(e.path().join("loop/backing_file")).unwrap_or_default();
        if backing.starts_with(&*canon.to_string_lossy()) {
            out.push(format!("{} -> {}", e.file_name().to_string_lossy(), backing.trim()));
        }
    }
    out
}

/// Running processes (not zombies) whose arguments name a path under `dir`, as
/// "name pid".
fn processes_under(dir: &Path) -> Vec<String> {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    procs::all()
        .into_iter()
        .filter(|p| p.is_running() && p.mentions(&canon))
        .map(|p| format!("{} {}", p.name, p.pid))
        .collect()
}

fn ledgers(work: &Path) -> Vec<PathBuf> {
    fs::read_dir(work.join("targets"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".ledger.json"))
        .collect()
}

/// Starts the sweep, SIGKILLs it once two samples are stored (every target is
/// provisioned before the first run), and returns (plan, store, work dir).
fn killed_sweep(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = plan(tmp);
    let out = tmp.join("reclaim.jsonl");
    let work = tmp.join("work");
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
        .expect("spawn sweep");
    let started = Instant::now();
    while fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0) < 3 {
        assert!(started.elapsed() < Duration::from_secs(120), "the sweep stored no sample in 120 s");
        assert!(child.try_wait().expect("wait").is_none(), "the sweep ended before it was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    (p, out, work)
}

/// The leftovers of the killed sweep are on the machine: returns how many ledgers.
fn assert_leftovers(tmp: &Path, work: &Path) -> usize {
    let ledgers = ledgers(work);
    assert!(!ledgers.is_empty(), "no ledger in {}", work.display());
    let text: String = ledgers.iter().map(|l| fs::read_to_string(l).expect("ledger")).collect();
    let mounts = mounts_under(tmp);
    // tmpfs needs nothing but root; the others need their tools.
    assert!(text.contains("\"target\": \"tmpfs\""), "{text}");
    let expect_mounts = TARGETS.iter().filter(|t| text.contains(&format!("\"target\": \"{t}\""))).count();
    assert_eq!(mounts.len(), expect_mounts, "mounts left by the killed sweep: {mounts:?}");
    let expect_loops = ["xfs", "btrfs"].iter().filter(|t| text.contains(&format!("\"target\": \"{t}\""))).count();
    assert_eq!(loops_under(tmp).len(), expect_loops, "{:?}", loops_under(tmp));
    if text.contains("\"target\": \"sshfs\"") {
        let p = processes_under(tmp);
        assert!(p.iter().any(|x| x.starts_with("sshd ")) && p.iter().any(|x| x.starts_with("sshfs ")), "daemons: {p:?}");
    } else {
        println!("sshfs was not provisioned here (see `cellucid-bench sweep` output); no daemons to reclaim");
    }
    eprintln!("leftovers: {} ledgers, mounts {mounts:?}, loops {:?}, processes {:?}", ledgers.len(), loops_under(tmp), processes_under(tmp));
    ledgers.len()
}

fn assert_all_gone(tmp: &Path, work: &Path) {
    assert!(mounts_under(tmp).is_empty(), "mounts left: {:?}", mounts_under(tmp));
    assert!(loops_under(tmp).is_empty(), "loop devices left: {:?}", loops_under(tmp));
    assert!(processes_under(tmp).is_empty(), "processes left: {:?}", processes_under(tmp));
    assert!(ledgers(work).is_empty(), "ledgers left: {:?}", ledgers(work));
    let dirs: Vec<PathBuf> = fs::read_dir(work.join("targets")).into_iter().flatten().flatten().map(|e| e.path()).collect();
    assert!(dirs.is_empty(), "left in the targets dir: {dirs:?}");
}

#[test]
fn targets_clean_removes_what_a_killed_sweep_left() {
    if !is_root() {
        println!("SKIPPED: not root; a sweep without root mounts nothing that could be left");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (_, _, work) = killed_sweep(tmp.path());
    let n = assert_leftovers(tmp.path(), &work);

    let listed = bin().args(["targets", "list", "--work-dir"]).arg(&work).output().expect("list");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{}", show(&listed));
    assert_eq!(text.matches("[stale] left by dead pid").count(), n, "{text}");
    assert!(text.contains("mount "), "{text}");

    let dry = bin().args(["targets", "clean", "--dry-run", "--work-dir"]).arg(&work).output().expect("dry run");
    assert!(dry.status.success(), "{}", show(&dry));
    assert_eq!(String::from_utf8_lossy(&dry.stdout).matches("would remove:").count(), n, "{}", show(&dry));
    assert_eq!(ledgers(&work).len(), n, "--dry-run removed something");
    assert!(!mounts_under(tmp.path()).is_empty(), "--dry-run unmounted something");

    let clean = bin().args(["targets", "clean", "--work-dir"]).arg(&work).output().expect("clean");
    assert!(clean.status.success(), "{}", show(&clean));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("unmounted "), "{}", show(&clean));
    assert_all_gone(tmp.path(), &work);

    let again = bin().args(["targets", "clean", "--work-dir"]).arg(&work).output().expect("clean again");
    assert!(again.status.success() && String::from_utf8_lossy(&again.stdout).contains("nothing to clean"), "{}", show(&again));
}

#[test]
fn a_resumed_sweep_reclaims_what_the_killed_one_left_and_completes() {
    if !is_root() {
        println!("SKIPPED: not root; a sweep without root mounts nothing that could be left");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (p, out, work) = killed_sweep(tmp.path());
    assert_leftovers(tmp.path(), &work);
    let provisioned = ledgers(&work).len();
    let (_, before) = store::read(&out).expect("store");

    let o = bin().args(["sweep", "--resume", "--no-floor", "--plan"]).arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(&work).output().expect("resume");
    assert!(o.status.success(), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("reclaimed what a killed run left").count(), provisioned, "{stderr}");
    assert_all_gone(tmp.path(), &work);
    let (_, after) = store::read(&out).expect("store");
    assert!(after.len() > before.len());
    assert_eq!(after.len(), provisioned * 2 * REPEATS, "every target's 2 cells × {REPEATS} repeats");
    assert!(after.iter().all(|s| s.ok), "{:?}", after.iter().find(|s| !s.ok));
}

#[test]
fn targets_of_a_running_process_are_left_alone() {
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path().join("work");
    // This test process owns the target and runs.
    let spec = if is_root() { TargetSpec::Tmpfs } else { TargetSpec::Disk };
    let target = provision(&spec, &work.join("targets"), 64 << 20).expect("provision");
    let fp = target.footprint().clone();
    let ledger = fp.ledger.clone().expect("a ledger");
    assert!(ledger.exists());
    let o = bin().args(["targets", "clean", "--work-dir"]).arg(&work).output().expect("clean");
    assert!(o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("in use by running pid {}", std::process::id())), "{}", show(&o));
    assert!(ledger.exists() && target.root.exists(), "a live target was touched");
    if let Some(m) = &fp.mount_point {
        assert_eq!(mounts_under(m).len(), 1, "still mounted");
    }
    target.teardown().expect("teardown");
    assert!(!ledger.exists(), "teardown removes the ledger");
    assert!(ledgers(&work).is_empty());
}

/// Writes a ledger by hand, as a killed sweep would have left it, owned by a process
/// that has exited; returns its private directory (created, with a file in it).
fn forge_ledger(work: &Path, processes: &[(u32, u64)]) -> (PathBuf, PathBuf) {
    let targets = work.join("targets");
    fs::create_dir_all(&targets).expect("mkdir");
    let targets = targets.canonicalize().expect("canonical");
    let dir = targets.join("cellucid-target-sshfs-forged");
    fs::create_dir(&dir).expect("private dir");
    fs::write(dir.join("sshd.log"), "x").expect("file");
    let mut gone = Command::new("true").spawn().expect("true");
    let gone_pid = gone.id();
    gone.wait().expect("wait");
    let entries: Vec<serde_json::Value> = std::iter::once(serde_json::json!({"kind": "dir", "path": dir}))
        .chain(processes.iter().map(|(pid, start)| serde_json::json!({"kind": "process", "name": "sshd", "pid": pid, "start_ticks": start})))
        .collect();
    let ledger = serde_json::json!({
        "version": 1,
        "target": "sshfs",
        "owner": {"pid": gone_pid, "start_ticks": 1, "boot_id": procs::boot_id()},
        "private_dir": dir,
        "entries": entries,
    });
    let path = targets.join("cellucid-target-sshfs-forged.ledger.json");
    fs::write(&path, serde_json::to_vec_pretty(&ledger).expect("json")).expect("ledger");
    (path, dir)
}

#[test]
fn a_recorded_pid_now_used_by_another_process_is_never_signalled() {
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path().join("work");
    // Unique arguments, so nothing else on the machine is either of them.
    let mut stranger = Command::new("sleep").arg("117.31").spawn().expect("sleep");
    let mut recorded = Command::new("sleep").arg("117.32").spawn().expect("sleep");
    let start = |pid: u32| procs::read(pid).expect("running").start_ticks;
    // The stranger holds a recorded pid with another start time: the recorded process
    // ended and the pid was reused. The other is the recorded process itself.
    let (ledger, dir) = forge_ledger(&work, &[(stranger.id(), start(stranger.id()) + 1), (recorded.id(), start(recorded.id()))]);
    let o = bin().args(["targets", "clean", "--work-dir"]).arg(&work).output().expect("clean");
    assert!(o.status.success(), "{}", show(&o));
    assert!(stranger.try_wait().expect("wait").is_none(), "a process that reused a recorded pid was signalled");
    let status = recorded.wait().expect("wait");
    assert!(!status.success(), "the recorded daemon was stopped");
    assert!(!ledger.exists() && !dir.exists(), "{}", show(&o));
    let _ = stranger.kill();
    let _ = stranger.wait();
}
