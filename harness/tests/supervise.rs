//! `export` reads and exports in a supervised worker process: the real binary, real
//! signals, a FIFO as an input whose read never progresses, and a worker killed in the
//! middle of its publish transaction.

mod support;

use support::{bin, shared, stderr};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Everything in `dir` (names), to show that nothing was created.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// The pids whose parent is `pid` (scanning /proc, which needs no kernel option).
fn children(pid: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else { continue };
        // Fields after the parenthesised command: state ppid …
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        let ppid: Option<u32> = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        if ppid == Some(pid) {
            out.extend(e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()));
        }
    }
    out
}

/// Waits (without a time limit that could fail on a loaded machine) for the worker.
fn worker_of(parent: &Child) -> i32 {
    loop {
        if let Some(&w) = children(parent.id()).first() {
            return w;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill has no memory effects; pid is a process this test started (or its child).
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

/// A FIFO nobody writes to: opening it blocks, so the read never makes progress.
fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("stuck.h5ad");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    p
}

fn one_error_line(o: &Output) -> String {
    let e = stderr(o);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got {e:?}");
    assert!(lines[0].starts_with("error: "), "{e:?}");
    assert!(!e.contains("panicked at") || e.contains("a bug in cellucid-bench"), "{e:?}");
    lines[0].to_string()
}

#[test]
fn supervised_output_and_refusals_match_in_process_runs() {
    let case = shared().join("golden/case02_csr_q8_gz6_graph");
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| {
        bin()
            .arg("export")
            .arg(case.join("input.h5ad"))
            .arg(tmp.path().join(out))
            .arg("--params")
            .arg(case.join("params.json"))
            .args(extra)
            .output()
            .unwrap()
    };
    let sup = run("a", &["--json"]);
    let here = run("b", &["--json", "--in-process"]);
    assert!(sup.status.success() && here.status.success(), "{} {}", stderr(&sup), stderr(&here));
    let keys = |o: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&sup), keys(&here));
    assert_eq!(stderr(&sup), "");
    for d in ["a", "b"] {
        assert!(cellucid_core::validate(&tmp.path().join(d)).is_ok());
    }
    // The summary has the same four lines (counts, sizes, phases, memory), and a refusal
    // the same line and status.
    let sup = run("c", &[]);
    let here = run("d", &["--in-process"]);
    let shape = |o: &Output| String::from_utf8_lossy(&o.stdout).lines().map(|l| l.split(' ').next().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert_eq!(shape(&sup), shape(&here));
    assert_eq!(shape(&sup).len(), 4);
    let refused = run("a", &[]);
    let refused_here = run("a", &["--in-process"]);
    assert_eq!(refused.status.code(), refused_here.status.code());
    assert_ne!(refused.status.code(), Some(0));
    assert_eq!(stderr(&refused), stderr(&refused_here));
    one_error_line(&refused);
}

#[test]
fn a_read_without_progress_is_stopped_by_the_watchdog() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fifo(tmp.path());
    let before = names(tmp.path());
    let o = bin()
        .arg("export")
        .arg(&input)
        .arg(tmp.path().join("out"))
        .args(["--read-timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let line = one_error_line(&o);
    assert!(line.contains("made no progress for 1 s"), "{line}");
    assert_eq!(names(tmp.path()), before, "nothing created");
}

#[test]
fn a_worker_that_crashes_while_reading_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fifo(tmp.path());
    let before = names(tmp.path());
    let child = bin()
        .arg("export")
        .arg(&input)
        .arg(tmp.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGABRT, as libhdf5 raises on a double free. Not SIGSEGV: Rust's stack-overflow
    // handler catches the first one sent by kill and returns, which interrupts the open()
    // of the FIFO (EINTR), and HDF5 2.x then fails the open cleanly before the next one.
    let worker = worker_of(&child);
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        // SAFETY: as in `kill`; ESRCH once the worker is gone is expected.
        unsafe { libc::kill(worker, libc::SIGABRT) };
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let line = one_error_line(&o);
    assert!(line.contains("stuck.h5ad crashed (SIGABRT) — the file is probably corrupt"), "{line}");
    assert!(line.starts_with("error: reading "), "{line}");
    assert_eq!(names(tmp.path()), before, "nothing created");
    assert!(o.stdout.is_empty());
}

#[test]
fn sigint_is_forwarded_and_the_cli_ends_as_the_worker_did() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let tmp = tempfile::tempdir().unwrap();
        let input = fifo(tmp.path());
        let before = names(tmp.path());
        let child = bin()
            .arg("export")
            .arg(&input)
            .arg(tmp.path().join("out"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let worker = worker_of(&child);
        kill(child.id() as i32, sig);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.signal(), Some(sig), "{:?} {}", o.status, stderr(&o));
        assert_eq!(stderr(&o), "");
        assert_eq!(names(tmp.path()), before);
        // The worker is gone too (the supervisor reaps it before ending).
        assert!(!Path::new(&format!("/proc/{worker}")).exists(), "worker {worker} outlived the CLI");
    }
}

#[test]
fn a_worker_killed_inside_the_transaction_is_rolled_back() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big.h5ad");
    let g = bin()
        .args(["generate", "--cells", "20000", "--genes", "1000", "--density", "0.1", "--seed", "3", "-o"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    let out = tmp.path().join("out");
    let mapping = ["--embedding", "2d=obsm/X_umap_2d", "--latent", "obsm/X_latent"];
    let first = bin().arg("export").arg(&input).arg(&out).args(mapping).args(["--quiet", "--in-process"]).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let identity = fs::read(out.join("dataset_identity.json")).unwrap();
    let before = names(tmp.path());

    // Stop the worker as soon as its stage exists, then crash it there.
    let stage_exists = || names(tmp.path()).iter().any(|n| n.starts_with(".out.cellucid-stage-"));
    let mut caught = false;
    for _attempt in 0..5 {
        let mut child = bin()
            .arg("export")
            .arg(&input)
            .arg(&out)
            .args(mapping)
            .args(["--quiet", "--force", "--threads", "1"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let worker = worker_of(&child);
        let started = Instant::now();
        while !stage_exists() && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(200));
        }
        if child.try_wait().unwrap().is_some() {
            continue; // finished before we looked: try again
        }
        // SIGABRT, as glibc's "double free" raises: Rust's runtime catches a SIGSEGV sent
        // by kill (it only knows faulting addresses), so a sent SIGSEGV may not kill.
        kill(worker, libc::SIGSTOP);
        kill(worker, libc::SIGABRT);
        kill(worker, libc::SIGCONT);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{:?} {}", o.status, stderr(&o));
        let line = one_error_line(&o);
        assert!(line.contains("crashed (SIGABRT)"), "{line} after {:?}", started.elapsed());
        caught = true;
        break;
    }
    assert!(caught, "the export always finished before its stage could be seen");
    assert_eq!(names(tmp.path()), before, "stage and journal rolled back");
    assert_eq!(fs::read(out.join("dataset_identity.json")).unwrap(), identity, "the old generation is in place");
    assert!(cellucid_core::validate(&out).is_ok());
}

#[test]
fn spill_files_are_removed_on_success_on_signals_and_when_the_worker_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big.h5ad");
    let g = bin()
        .args(["generate", "--cells", "20000", "--genes", "1000", "--density", "0.1", "--seed", "5", "-o"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    let scratch = tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    let out = tmp.path().join("out");
    let args = |extra: &[&str]| {
        let mut c = bin();
        c.arg("export").arg(&input).arg(&out).args(["--embedding", "2d=obsm/X_umap_2d", "--latent", "obsm/X_latent"]);
        c.args(["--memory-limit", "1k", "--force", "--threads", "1", "--compression", "9"]).arg("--scratch-dir").arg(&scratch);
        c.args(extra);
        c
    };
    // Success: spilled (reported), nothing left.
    let ok = args(&["--json"]).output().unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert!(report["spill_bytes"].as_u64().unwrap_or(0) > 0, "{report}");
    assert_eq!(names(&scratch), Vec::<String>::new());

    let spilling = || names(&scratch).iter().any(|n| n.starts_with(".cellucid-spill-"));
    // SIGTERM to an in-process export (its signal rollback removes the spill), to the
    // CLI (forwarded to the worker), and SIGABRT to the worker (no cleanup of its own:
    // the supervisor removes it).
    for (in_process, to_worker, sig) in [(true, false, libc::SIGTERM), (false, false, libc::SIGTERM), (false, true, libc::SIGABRT)] {
        let mut caught = false;
        for _attempt in 0..5 {
            let extra: &[&str] = if in_process { &["--quiet", "--in-process"] } else { &["--quiet"] };
            let mut child = args(extra).stderr(Stdio::piped()).spawn().unwrap();
            let worker = if in_process { child.id() as i32 } else { worker_of(&child) };
            while !spilling() && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_micros(200));
            }
            if child.try_wait().unwrap().is_some() {
                continue; // finished before we looked: try again
            }
            if to_worker {
                kill(worker, libc::SIGSTOP);
                kill(worker, sig);
                kill(worker, libc::SIGCONT);
            } else {
                kill(child.id() as i32, sig);
            }
            let o = child.wait_with_output().unwrap();
            assert!(!o.status.success(), "{}", stderr(&o));
            caught = true;
            break;
        }
        assert!(caught, "the export always finished before its spill could be seen");
        assert_eq!(names(&scratch), Vec::<String>::new(), "spill left after signal {sig}");
    }
}
