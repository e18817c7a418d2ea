//! A real crash at every step of the publication protocol, in both its forms (the
//! `renameat2` exchange and the two-rename fallback) and for a first generation, then
//! recovery by this writer and by cellucid 0.9.2's own recovery code: `out_dir` must be
//! exactly the old or the new generation after the crash and after either recovery, and
//! recovery must leave nothing but `out_dir` and the lock file.
//!
//! The child is this test binary re-executed ([`crash_child`]), aborting at a crash point
//! that exists only in test builds (`CELLUCID_PUBLISH_CRASH_AT`). The table is printed
//! (`cargo test --release -p cellucid-core --lib crash_at_every_step -- --nocapture`).

use super::exchange::FORCE_TWO_RENAMES;
use super::{Transaction, CRASH_AT};
use crate::options::Durability;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHILD_TARGET: &str = "CELLUCID_PUBLISH_CRASH_CHILD_TARGET";
const LOCK: &str = ".export.cellucid.lock";

/// The protocol's steps, in order, as crash-point names (`mid-stage-writes` is the
/// child's own: one payload written, the next not).
const STEPS_EXCHANGE: &[&str] = &[
    "after-lock",
    "after-journal-temp",
    "after-journal",
    "after-stage-created",
    "mid-stage-writes",
    "after-exchange",
    "mid-old-removal",
    "after-old-removal",
    "after-journal-removal",
];
const STEPS_TWO_RENAMES: &[&str] = &[
    "after-lock",
    "after-journal-temp",
    "after-journal",
    "after-stage-created",
    "mid-stage-writes",
    "after-backup",
    "after-publish",
    "mid-old-removal",
    "after-old-removal",
    "after-journal-removal",
];
const STEPS_FIRST: &[&str] = &[
    "after-lock",
    "after-journal-temp",
    "after-journal",
    "after-stage-created",
    "mid-stage-writes",
    "after-publish",
    "after-journal-removal",
];

type Tree = BTreeMap<String, Vec<u8>>;

/// Files (relative path → bytes) and directories (→ empty, with a trailing `/`).
fn tree(root: &Path) -> Option<Tree> {
    fn walk(dir: &Path, rel: &str, out: &mut Tree) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{rel}{}", entry.file_name().to_str().unwrap());
            if entry.file_type().unwrap().is_dir() {
                out.insert(format!("{name}/"), Vec::new());
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.insert(name, fs::read(entry.path()).unwrap());
            }
        }
    }
    if !root.is_dir() {
        return None;
    }
    let mut out = Tree::new();
    walk(root, "", &mut out);
    Some(out)
}

const OLD: &[(&str, &[u8])] = &[
    ("dataset_identity.json", b"old identity"),
    ("obs/0.values.f32", b"old payload"),
    ("stale.txt", b"only in the old generation"),
];
const NEW: &[(&str, &[u8])] = &[
    ("dataset_identity.json", b"new identity"),
    ("var/0.values.u8", b"new payload"),
];

fn write_generation(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

fn expected(files: &[(&str, &[u8])]) -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    write_generation(tmp.path(), files);
    tree(tmp.path()).unwrap()
}

/// Which generation `target` is: "old", "new", "ABSENT" (only the two-rename fallback,
/// between its renames: the window the exchange closes), or a panic naming what it is
/// instead. Without a previous generation, "old" is "no out_dir".
fn generation(target: &Path, had_target: bool, when: &str) -> &'static str {
    let now = tree(target);
    let old = had_target.then(|| expected(OLD));
    if now == old {
        "old"
    } else if now == Some(expected(NEW)) {
        "new"
    } else if now.is_none() {
        "ABSENT"
    } else {
        panic!("{when}: out_dir is neither generation: {now:?}")
    }
}

/// Old or new: what every state must be, except the fallback's window after the crash.
fn assert_old_or_new(generation: &str, when: &str) {
    assert!(
        matches!(generation, "old" | "new"),
        "{when}: out_dir is {generation}"
    );
}

/// Run in a child by [`crash_in_child`]: one export of [`NEW`] to the target, aborting at
/// the crash point. Without the environment it does nothing.
#[test]
#[ignore = "helper: run as a child process by crash_at_every_step"]
fn crash_child() {
    let Some(target) = std::env::var_os(CHILD_TARGET) else {
        return;
    };
    let at = std::env::var(CRASH_AT).unwrap_or_default();
    let tx = Transaction::begin(Path::new(&target), true).unwrap();
    write_generation(tx.stage_dir(), &NEW[..1]);
    if at == "mid-stage-writes" {
        std::process::abort();
    }
    write_generation(tx.stage_dir(), &NEW[1..]);
    tx.commit(Durability::Buffered).unwrap();
    panic!("crash point {at:?} was never reached");
}

fn crash_in_child(target: &Path, at: &str, two_renames: bool) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "publish::crash_tests::crash_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_TARGET, target)
        .env(CRASH_AT, at)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if two_renames {
        child.env(FORCE_TWO_RENAMES, "1");
    }
    let status = child.status().unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "the child must crash at {at}: {status:?}"
    );
}

/// The reference writer's interpreter (CELLUCID_PEER_VENV, else the repository's
/// `.venv-peer`).
fn peer_python() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let venv = std::env::var_os("CELLUCID_PEER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv-peer"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no peer venv at {} (set CELLUCID_PEER_VENV)",
        venv.display()
    );
    python
}

/// cellucid 0.9.2's `_recover_export_transaction` on every target, in one interpreter.
fn recover_with_reference(targets: &[PathBuf]) {
    let script = "import sys\nfrom pathlib import Path\n\
                  from cellucid.prepare_data._transaction import _recover_export_transaction as r\n\
                  for t in sys.argv[1:]: r(Path(t))\n";
    let out = Command::new(peer_python())
        .arg("-c")
        .arg(script)
        .args(targets)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference recovery failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This writer's recovery: the next export's `begin`, rolled back.
fn recover_with_ours(target: &Path) {
    drop(Transaction::begin(target, true).unwrap());
}

/// What recovery must leave in the parent: `out_dir` (if a generation exists) and the lock.
fn assert_clean(parent: &Path, when: &str) {
    let names: BTreeSet<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let extra: Vec<&String> = names
        .iter()
        .filter(|n| *n != "export" && *n != LOCK)
        .collect();
    assert!(extra.is_empty(), "{when}: left behind {extra:?}");
}

struct Case {
    protocol: &'static str,
    step: &'static str,
    had_target: bool,
    two_renames: bool,
}

#[test]
fn crash_at_every_step_leaves_the_old_or_the_new_generation() {
    let mut cases = Vec::new();
    for (protocol, steps, had_target, two_renames) in [
        ("exchange", STEPS_EXCHANGE, true, false),
        ("two renames", STEPS_TWO_RENAMES, true, true),
        ("first export", STEPS_FIRST, false, false),
    ] {
        cases.extend(steps.iter().map(|&step| Case {
            protocol,
            step,
            had_target,
            two_renames,
        }));
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut reference_targets = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut after_crash = "";
        let mut by_ours = "";
        for recoverer in ["ours", "reference"] {
            let parent = tmp.path().join(format!("{i}-{recoverer}"));
            let target = parent.join("export");
            fs::create_dir_all(&parent).unwrap();
            if case.had_target {
                write_generation(&target, OLD);
            }
            crash_in_child(&target, case.step, case.two_renames);
            let when = format!("{} {} crash", case.protocol, case.step);
            after_crash = generation(&target, case.had_target, &when);
            if !(case.two_renames && case.step == "after-backup") {
                assert_old_or_new(after_crash, &when);
            }
            if recoverer == "ours" {
                recover_with_ours(&target);
                by_ours = generation(
                    &target,
                    case.had_target,
                    &format!("{when}, recovered by ours"),
                );
                assert_old_or_new(by_ours, &format!("{when}, recovered by ours"));
                if after_crash != "ABSENT" {
                    assert_eq!(
                        by_ours, after_crash,
                        "{when}: recovery must keep what out_dir shows"
                    );
                }
                assert_clean(&parent, &format!("{when}, recovered by ours"));
            } else {
                reference_targets.push(target);
            }
        }
        rows.push((case, after_crash, by_ours));
    }
    recover_with_reference(&reference_targets);
    println!("\n(\"old\" for a first export: no out_dir; ABSENT: out_dir missing, the old generation only under its backup name)");
    println!("\n| protocol | crash after step | out_dir after the crash | after recovery (cellucid-bench) | after recovery (cellucid 0.9.2) |");
    println!("|---|---|---|---|---|");
    for ((case, after_crash, by_ours), target) in rows.iter().zip(&reference_targets) {
        let when = format!(
            "{} {} crash, recovered by the reference",
            case.protocol, case.step
        );
        let by_reference = generation(target, case.had_target, &when);
        assert_eq!(by_reference, *by_ours, "{when}: both writers recover alike");
        assert_clean(target.parent().unwrap(), &when);
        println!(
            "| {} | {} | {after_crash} | {by_ours} | {by_reference} |",
            case.protocol, case.step
        );
    }
}
