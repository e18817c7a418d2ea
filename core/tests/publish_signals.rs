//! SIGINT, SIGTERM and SIGHUP in the middle of a real export roll it back before the
//! process dies of the signal (`cellucid_core::publish::roll_back_on_signals`).
//!
//! The exporting process is this test binary re-executed ([`export_child`]): it installs
//! the rollback, generates a synthetic dataset and exports it over a previous
//! generation. Its progress callback announces the first gene file on stdout and slows
//! every gene down by 2 ms, so that the export is certainly still writing genes when the
//! signal arrives, however fast or loaded the machine. About 3 s in all.

use cellucid_core::{export_with_progress, ExportOptions, Progress};
use cellucid_datasets::synthetic::{generate, DatasetSpec};
use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

const CHILD_OUT: &str = "CELLUCID_SIGNAL_CHILD_OUT";
const GENES: &str = "child: writing genes";
const FINISHED: &str = "child: export finished";

/// Run in a child by [`signal_mid_export`]. Without the environment it does nothing.
#[test]
#[ignore = "helper: run as a child process by the signal tests"]
fn export_child() {
    let Some(out) = std::env::var_os(CHILD_OUT) else {
        return;
    };
    cellucid_core::publish::roll_back_on_signals().unwrap();
    let spec = DatasetSpec { cells: 2_000, genes: 2_000, seed: 11, ..DatasetSpec::default() };
    let dataset = generate(&spec).unwrap();
    let mut options = ExportOptions::new("signals", "signals", "uint16");
    options.force = true;
    options.var_quantization = Some(8);
    options.compression = Some(6);
    let announced = AtomicBool::new(false);
    let progress = |p: Progress| {
        if let Progress::GeneDone { .. } = p {
            if !announced.swap(true, Ordering::SeqCst) {
                let mut stdout = std::io::stdout().lock();
                // On a line of its own: libtest's "test export_child ... " precedes it.
                writeln!(stdout, "\n{GENES}").unwrap();
                stdout.flush().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    };
    export_with_progress(&dataset, &options, Path::new(&out), &progress).unwrap();
    println!("\n{FINISHED}");
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

fn signal_mid_export(signal: libc::c_int) {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("export");
    fs::create_dir_all(target.join("obs")).unwrap();
    fs::write(target.join("dataset_identity.json"), b"old generation").unwrap();
    fs::write(target.join("obs/0.values.f32"), b"old payload").unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "export_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_OUT, &target)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.find(|l| l.as_ref().map_or(true, |l| l == GENES || l == FINISHED));
    assert_eq!(first.and_then(|l| l.ok()).as_deref(), Some(GENES), "the child must reach the gene stage");
    assert!(names(tmp.path()).iter().any(|n| n.starts_with(".export.cellucid-stage-")), "mid-export: a stage exists");
    // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let status = child.wait().unwrap();

    assert_eq!(status.signal(), Some(signal), "killed by the signal itself: {status:?}");
    assert_eq!(
        names(tmp.path()),
        BTreeSet::from(["export".to_string()]),
        "no stage, no journal, and the lock file the child created is gone"
    );
    assert_eq!(names(&target), BTreeSet::from(["dataset_identity.json".into(), "obs".into()]));
    assert_eq!(fs::read(target.join("dataset_identity.json")).unwrap(), b"old generation");
    assert_eq!(fs::read(target.join("obs/0.values.f32")).unwrap(), b"old payload");
}

#[test]
fn sigint_mid_export_rolls_back() {
    signal_mid_export(libc::SIGINT);
}

#[test]
fn sigterm_mid_export_rolls_back() {
    signal_mid_export(libc::SIGTERM);
}

#[test]
fn sighup_mid_export_rolls_back() {
    signal_mid_export(libc::SIGHUP);
}
