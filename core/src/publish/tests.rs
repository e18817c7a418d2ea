//! Tests of publication: outcomes on disk, refusals, the lock against another process,
//! and recovery from real crashes of a child process (this test binary re-executed,
//! aborting at a fault-injection point that exists only in test builds).

use super::journal;
use super::out_dir::realpath;
use super::{resolve_out_dir, Transaction};
use crate::error::{ErrorClass, ExportError};
use crate::options::Durability;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One node of a directory tree, compared byte for byte.
#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Everything under `root` (and `root` itself, as ""), without following links.
fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    fn walk(path: &Path, rel: String, out: &mut BTreeMap<String, Node>) {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() {
            out.insert(rel, Node::Link(fs::read_link(path).unwrap()));
        } else if meta.is_dir() {
            out.insert(rel.clone(), Node::Dir);
            for entry in fs::read_dir(path).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                walk(
                    &entry.path(),
                    if rel.is_empty() {
                        name
                    } else {
                        format!("{rel}/{name}")
                    },
                    out,
                );
            }
        } else {
            out.insert(rel, Node::File(fs::read(path).unwrap()));
        }
    }
    let mut out = BTreeMap::new();
    walk(root, String::new(), &mut out);
    out
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn refusal<T>(result: crate::error::Result<T>) -> (ErrorClass, String) {
    match result {
        Err(ExportError::Refused { class, message, .. }) => (class, message),
        Err(other) => panic!("expected a refusal, got {other:?}"),
        Ok(_) => panic!("expected a refusal, got success"),
    }
}

fn put(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// A previous complete generation with a nested directory.
fn previous_generation(target: &Path) {
    put(&target.join("dataset_identity.json"), b"old identity");
    put(&target.join("obs/0.values.f32"), b"old payload");
    put(&target.join("stale.txt"), b"only in the old generation");
}

/// A parent with a fresh target path `parent/export`.
fn fresh() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("parent");
    let target = parent.join("export");
    (tmp, parent, target)
}

const LOCK: &str = ".export.cellucid.lock";
const JOURNAL: &str = ".export.cellucid-transaction.json";

#[test]
fn commit_into_absent_target_leaves_only_target_and_lock() {
    let (_tmp, parent, target) = fresh();
    let tx = Transaction::begin(&target, false).unwrap();
    let stage = tx.stage_dir().to_path_buf();
    assert_eq!(stage.parent().unwrap(), parent);
    assert!(stage
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with(".export.cellucid-stage-"));
    assert_eq!(
        snapshot(&stage),
        BTreeMap::from([(String::new(), Node::Dir)])
    );
    assert!(!target.exists(), "nothing is published before commit");
    put(&stage.join("a.json"), b"{}");
    put(&stage.join("obs/0.bin"), b"\x01\x02");
    tx.commit(Durability::Buffered).unwrap();

    assert_eq!(
        snapshot(&target),
        BTreeMap::from([
            (String::new(), Node::Dir),
            ("a.json".into(), Node::File(b"{}".to_vec())),
            ("obs".into(), Node::Dir),
            ("obs/0.bin".into(), Node::File(vec![1, 2])),
        ])
    );
    assert_eq!(names(&parent), set(&["export", LOCK]));
    let lock = fs::metadata(parent.join(LOCK)).unwrap();
    assert_eq!((lock.len(), lock.permissions().mode() & 0o777), (0, 0o600));
}

#[test]
fn commit_into_empty_existing_target_without_force() {
    let (_tmp, parent, target) = fresh();
    fs::create_dir_all(&target).unwrap();
    let tx = Transaction::begin(&target, false).unwrap();
    put(&tx.stage_dir().join("points_2d.bin"), b"xy");
    tx.commit(Durability::Buffered).unwrap();
    assert_eq!(fs::read(target.join("points_2d.bin")).unwrap(), b"xy");
    assert_eq!(names(&target), set(&["points_2d.bin"]));
    assert_eq!(names(&parent), set(&["export", LOCK]));
}

#[test]
fn force_replaces_the_whole_previous_generation() {
    let (_tmp, parent, target) = fresh();
    previous_generation(&target);
    let tx = Transaction::begin(&target, true).unwrap();
    put(
        &tx.stage_dir().join("dataset_identity.json"),
        b"new identity",
    );
    put(&tx.stage_dir().join("var/0.values.u8"), b"new gene");
    tx.commit(Durability::Durable).unwrap();

    assert_eq!(
        snapshot(&target),
        BTreeMap::from([
            (String::new(), Node::Dir),
            (
                "dataset_identity.json".into(),
                Node::File(b"new identity".to_vec())
            ),
            ("var".into(), Node::Dir),
            ("var/0.values.u8".into(), Node::File(b"new gene".to_vec())),
        ]),
        "stale files and directories of the old generation must disappear"
    );
    assert_eq!(names(&parent), set(&["export", LOCK]));
}

#[test]
fn non_empty_target_without_force_is_refused_untouched() {
    let (_tmp, parent, target) = fresh();
    put(&target.join("keep.txt"), b"keep me");
    let before = snapshot(&target);
    let (class, message) = refusal(Transaction::begin(&target, false));
    assert_eq!(class, ErrorClass::FileExistsError);
    assert_eq!(
        message,
        format!(
            "Refusing to replace non-empty export directory {}. Pass force=True to publish a complete replacement generation.",
            target.display()
        )
    );
    assert_eq!(snapshot(&target), before);
    assert_eq!(
        names(&parent),
        set(&["export"]),
        "the lock file this refusal created is removed"
    );
}

#[test]
fn regular_file_target_is_refused_with_either_force() {
    let (_tmp, parent, target) = fresh();
    put(&target, b"not a directory");
    for force in [false, true] {
        let (class, message) = refusal(Transaction::begin(&target, force));
        assert_eq!(class, ErrorClass::NotADirectoryError);
        assert_eq!(
            message,
            format!(
                "Export path exists but is not a directory: {}",
                target.display()
            )
        );
        assert_eq!(fs::read(&target).unwrap(), b"not a directory");
        assert_eq!(names(&parent), set(&["export"]));
    }
}

#[test]
fn symlinked_target_is_refused_and_its_referent_untouched() {
    let (tmp, parent, target) = fresh();
    let referent = tmp.path().join("elsewhere");
    put(&referent.join("data.txt"), b"someone's data");
    fs::create_dir_all(&parent).unwrap();
    std::os::unix::fs::symlink(&referent, &target).unwrap();
    let before = snapshot(tmp.path());
    for force in [false, true] {
        let (class, message) = refusal(Transaction::begin(&target, force));
        assert_eq!(class, ErrorClass::ValueError);
        assert_eq!(
            message,
            format!("out_dir must not be a symbolic link: {}", target.display())
        );
    }
    assert_eq!(snapshot(tmp.path()), before, "not even a lock file is left");
}

fn protected_message(resolved: &Path) -> String {
    format!(
        "out_dir must name a dedicated dataset output directory, not {}. Publishing replaces the whole directory, \
         so the filesystem root, the current working directory, the home directory, and the directory holding it \
         are refused. Pass a child directory of your own, such as './exports/my_dataset'.",
        resolved.display()
    )
}

#[test]
fn protected_directories_are_refused_before_touching_the_disk() {
    // The process CWD is shared by parallel tests: read it, never change it.
    let cwd = std::env::current_dir().unwrap();
    let real_cwd = realpath(&cwd);
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, PathBuf)> = vec![
        (cwd.clone(), real_cwd.clone()),
        (".".into(), real_cwd.clone()),
        ("".into(), real_cwd.clone()),
        ("/".into(), "/".into()),
        (tmp.path().join("x/.."), realpath(tmp.path())),
        (
            tmp.path().join(".."),
            realpath(tmp.path().parent().unwrap()),
        ),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        let home = realpath(Path::new(&home));
        let holder = home.parent().unwrap_or(&home).to_path_buf();
        cases.push(("~".into(), home.clone()));
        cases.push(("~/".into(), home.clone()));
        cases.push((home.clone(), home.clone()));
        cases.push((holder.clone(), holder));
        // An alias resolves to the protected directory it names.
        let alias = tmp.path().join("alias-of-home");
        std::os::unix::fs::symlink(&home, &alias).unwrap();
        cases.push((alias, home));
    }
    let cwd_alias = tmp.path().join("alias-of-cwd");
    std::os::unix::fs::symlink(&cwd, &cwd_alias).unwrap();
    cases.push((cwd_alias, real_cwd.clone()));

    for (out_dir, resolved) in &cases {
        let err = resolve_out_dir(out_dir).unwrap_err();
        assert_eq!(err.class(), Some(ErrorClass::ValueError), "{out_dir:?}");
        assert_eq!(err.field(), Some("out_dir"));
        assert_eq!(err.to_string(), protected_message(resolved), "{out_dir:?}");
    }

    // begin re-checks, so not even the lock file appears beside the CWD.
    let cwd_lock = cwd.parent().unwrap().join(format!(
        ".{}.cellucid.lock",
        cwd.file_name().unwrap().to_str().unwrap()
    ));
    let lock_existed = cwd_lock.exists();
    let (class, message) = refusal(Transaction::begin(&cwd, false));
    assert_eq!(
        (class, message),
        (ErrorClass::ValueError, protected_message(&real_cwd))
    );
    assert_eq!(cwd_lock.exists(), lock_existed);
}

#[test]
fn out_dir_is_made_absolute_without_resolving_its_own_links() {
    let cwd = std::env::current_dir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        resolve_out_dir(Path::new("exports/./my_dataset/")).unwrap(),
        cwd.join("exports/my_dataset")
    );
    assert_eq!(
        resolve_out_dir(&tmp.path().join("a/./b/")).unwrap(),
        tmp.path().join("a/b")
    );
    if let Some(home) = std::env::var_os("HOME") {
        assert_eq!(
            resolve_out_dir(Path::new("~/exports/x")).unwrap(),
            Path::new(&home).join("exports/x")
        );
    }
    // The target keeps the name the user gave; only the protection check resolves it.
    fs::create_dir(tmp.path().join("real")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("real"), tmp.path().join("link")).unwrap();
    assert_eq!(
        resolve_out_dir(&tmp.path().join("link/out")).unwrap(),
        tmp.path().join("link/out")
    );
    // realpath applies ".." after the link before it, and keeps missing parts literally.
    assert_eq!(
        realpath(&tmp.path().join("link/missing/../x")),
        realpath(tmp.path()).join("real/x")
    );
    assert_eq!(
        resolve_out_dir(&resolve_out_dir(Path::new("rel/x")).unwrap()).unwrap(),
        cwd.join("rel/x")
    );
}

#[test]
fn dropping_a_forced_transaction_restores_the_previous_generation() {
    let (_tmp, parent, target) = fresh();
    previous_generation(&target);
    let before = snapshot(&target);
    {
        let tx = Transaction::begin(&target, true).unwrap();
        put(&tx.stage_dir().join("dataset_identity.json"), b"half-built");
        assert_eq!(names(&parent).len(), 4, "target, lock, journal, stage");
    }
    assert_eq!(snapshot(&target), before);
    assert_eq!(
        names(&parent),
        set(&["export"]),
        "the lock file it created is removed"
    );
}

#[test]
fn failed_commit_rolls_back() {
    let (_tmp, parent, target) = fresh();
    previous_generation(&target);
    let before = snapshot(&target);
    let tx = Transaction::begin(&target, true).unwrap();
    // Someone removed the stage: commit must refuse and leave the old generation.
    fs::remove_dir_all(tx.stage_dir()).unwrap();
    let stage = tx.stage_dir().to_path_buf();
    let (class, message) = refusal(tx.commit(Durability::Buffered));
    assert_eq!(class, ErrorClass::RuntimeError);
    assert_eq!(
        message,
        format!("Staged export directory is missing: {}", stage.display())
    );
    assert_eq!(snapshot(&target), before);
    assert_eq!(names(&parent), set(&["export"]));
}

const HOLD_LOCK: &str = "import fcntl,time,sys; f=open(sys.argv[1],'a'); \
    fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print('locked',flush=True); time.sleep(30)";
const TRY_LOCK: &str =
    "import fcntl,sys; f=open(sys.argv[1],'a'); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)";

/// Whether Python's `fcntl.lockf` can take the lock right now (in another process).
fn python_can_lock(lock: &Path) -> bool {
    Command::new("python3")
        .args(["-c", TRY_LOCK])
        .arg(lock)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn lock_held_by_another_process_is_refused() {
    let (_tmp, parent, target) = fresh();
    fs::create_dir_all(&parent).unwrap();
    let mut child = Command::new("python3")
        .args(["-c", HOLD_LOCK])
        .arg(parent.join(LOCK))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let result = Transaction::begin(&target, false);
    child.kill().unwrap();
    child.wait().unwrap();
    let (class, message) = refusal(result);
    assert_eq!(class, ErrorClass::RuntimeError);
    assert_eq!(
        message,
        format!(
            "An export generation is already active for {}.",
            target.display()
        )
    );
    assert_eq!(
        names(&parent),
        set(&[LOCK]),
        "nothing but the lock file is created"
    );

    // With the other process gone, the same target can be exported.
    let tx = Transaction::begin(&target, false).unwrap();
    tx.commit(Durability::Buffered).unwrap();
    assert_eq!(names(&parent), set(&["export", LOCK]));
}

#[test]
fn reentry_from_the_same_process_is_refused_and_keeps_the_lock() {
    let (_tmp, parent, target) = fresh();
    let first = Transaction::begin(&target, false).unwrap();
    let lock = parent.join(LOCK);
    assert!(
        !python_can_lock(&lock),
        "the lock excludes Python's fcntl.lockf"
    );

    // A second spelling of the same target (through "..") hits the registry too.
    let aliases = [target.clone(), parent.join("../parent/export")];
    for alias in &aliases {
        let (class, message) = refusal(Transaction::begin(alias, true));
        assert_eq!(class, ErrorClass::RuntimeError);
        assert_eq!(
            message,
            format!(
                "An export generation is already active for {}.",
                alias.display()
            )
        );
    }
    assert!(
        !python_can_lock(&lock),
        "a refused re-entry must not release the first holder's lock"
    );
    drop(first);
    assert!(
        python_can_lock(&lock),
        "dropping the transaction releases the lock"
    );
    assert_eq!(names(&parent), set(&[LOCK]));
    Transaction::begin(&target, false)
        .unwrap()
        .commit(Durability::Buffered)
        .unwrap();
}

/// Check the journal shape by hand: the exact prefix, 32 lowercase hex, the exact suffix.
fn journal_id(bytes: &[u8], had_target: bool) -> String {
    let text = std::str::from_utf8(bytes).unwrap();
    let prefix = "{\"format\":\"cellucid-export-transaction\",\"version\":1,\"transaction_id\":\"";
    let suffix = format!("\",\"had_target\":{had_target}}}\n");
    let id = text
        .strip_prefix(prefix)
        .and_then(|t| t.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("{text:?}"));
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{id}"
    );
    id.to_string()
}

#[test]
fn journal_bytes_are_canonical() {
    let (_tmp, parent, target) = fresh();
    let tx = Transaction::begin(&target, false).unwrap();
    let id = journal_id(&fs::read(parent.join(JOURNAL)).unwrap(), false);
    assert_eq!(
        tx.stage_dir(),
        parent.join(format!(".export.cellucid-stage-{id}"))
    );
    put(&tx.stage_dir().join("f"), b"1");
    tx.commit(Durability::Buffered).unwrap();

    let tx = Transaction::begin(&target, true).unwrap();
    let second = journal_id(&fs::read(parent.join(JOURNAL)).unwrap(), true);
    assert_ne!(second, id, "ids are random");
    assert_eq!(
        tx.stage_dir(),
        parent.join(format!(".export.cellucid-stage-{second}"))
    );
    let entry = journal::JournalEntry {
        transaction_id: second,
        had_target: true,
    };
    assert_eq!(journal::read(&parent.join(JOURNAL)).unwrap(), entry);
}

#[test]
fn a_journal_that_is_not_canonical_is_refused_and_kept() {
    let id = "0123456789abcdef0123456789abcdef";
    let canonical = format!(
        "{{\"format\":\"cellucid-export-transaction\",\"version\":1,\"transaction_id\":\"{id}\",\"had_target\":false}}\n"
    );
    let cases: Vec<(String, &str)> = vec![
        (canonical.replace(",\"", ", \""), "is not canonical"),
        (canonical.trim_end().to_string(), "is not canonical"),
        (
            canonical.replace(id, &id.to_uppercase()),
            "is not canonical",
        ),
        (
            canonical.replace("\"version\":1", "\"version\":1.0"),
            "is not canonical",
        ),
        (canonical.replace("false", "0"), "is not canonical"),
        (
            canonical
                .replace("\"version\":1,", "")
                .replace("{", "{\"version\":1,"),
            "is not canonical",
        ),
        (
            canonical.replace("{\"format", "{\"had_target\":false,\"format"),
            "is malformed",
        ),
        (
            canonical.replace("}\n", ",\"x\":{\"a\":1,\"a\":2}}\n"),
            "is malformed",
        ),
        ("[1]\n".to_string(), "has an invalid schema"),
        ("not json\n".to_string(), "is malformed"),
        (
            canonical.replace("}\n", ",\"extra\":1}\n"),
            "has an invalid schema",
        ),
    ];
    for (bytes, what) in cases {
        let (_tmp, parent, target) = fresh();
        previous_generation(&target);
        let journal = parent.join(JOURNAL);
        put(&journal, bytes.as_bytes());
        let before = snapshot(&parent);
        let (class, message) = refusal(Transaction::begin(&target, true));
        assert_eq!(class, ErrorClass::RuntimeError);
        assert_eq!(
            message,
            format!("Export transaction journal {what}: {}", journal.display()),
            "{bytes:?}"
        );
        let mut after = snapshot(&parent);
        after.remove(LOCK);
        assert_eq!(
            after, before,
            "nothing is touched when the journal cannot be trusted"
        );
    }
    // Control: the canonical bytes are accepted, and recovery settles them.
    let (_tmp, parent, target) = fresh();
    put(&parent.join(JOURNAL), canonical.as_bytes());
    Transaction::begin(&target, false)
        .unwrap()
        .commit(Durability::Buffered)
        .unwrap();
    assert_eq!(names(&parent), set(&["export", LOCK]));
}

#[test]
fn ambiguous_states_are_refused_without_guessing() {
    let id = "fedcba9876543210fedcba9876543210";
    let journal_bytes = |had: bool| {
        journal::serialize(&journal::JournalEntry {
            transaction_id: id.to_string(),
            had_target: had,
        })
    };
    // (had_target, target, stage, backup, message prefix)
    let cases = [
        (
            false,
            true,
            true,
            false,
            "Initial export transaction",
            "(True, True, False)",
        ),
        (
            false,
            false,
            false,
            true,
            "Initial export transaction",
            "(False, False, True)",
        ),
        (
            true,
            false,
            false,
            false,
            "Export transaction",
            "(False, False, False)",
        ),
        (
            true,
            true,
            true,
            true,
            "Export transaction",
            "(True, True, True)",
        ),
    ];
    for (had, t, s, b, subject, state) in cases {
        let (_tmp, parent, target) = fresh();
        fs::create_dir_all(&parent).unwrap();
        put(&parent.join(JOURNAL), &journal_bytes(had));
        if t {
            previous_generation(&target);
        }
        if s {
            put(
                &parent.join(format!(".export.cellucid-stage-{id}/new")),
                b"new",
            );
        }
        if b {
            put(
                &parent.join(format!(".export.cellucid-backup-{id}/old")),
                b"old",
            );
        }
        let before = snapshot(&parent);
        let (class, message) = refusal(Transaction::begin(&target, true));
        assert_eq!(class, ErrorClass::RuntimeError);
        assert_eq!(
            message,
            format!(
                "{subject} cannot be recovered without guessing whether to commit or roll back: \
                 target/stage/backup state is {state}."
            )
        );
        let mut after = snapshot(&parent);
        after.remove(LOCK);
        assert_eq!(after, before);
    }
}

#[test]
fn stale_stage_and_backup_without_a_journal_are_left_alone() {
    let (_tmp, parent, target) = fresh();
    let stale_stage = parent.join(".export.cellucid-stage-00000000000000000000000000000000");
    let stale_backup = parent.join(".export.cellucid-backup-00000000000000000000000000000000");
    put(&stale_stage.join("x"), b"stage");
    put(
        &stale_backup.join("y"),
        b"maybe the only copy of a generation",
    );
    let tx = Transaction::begin(&target, false).unwrap();
    put(&tx.stage_dir().join("z"), b"new");
    tx.commit(Durability::Buffered).unwrap();
    assert_eq!(fs::read(stale_stage.join("x")).unwrap(), b"stage");
    assert_eq!(
        fs::read(stale_backup.join("y")).unwrap(),
        b"maybe the only copy of a generation"
    );
    assert_eq!(names(&target), set(&["z"]));
}

/// `chattr` on `path`; false if the filesystem or the user cannot (not root, tmpfs…).
fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Once the new generation is in place, a previous generation that cannot be deleted
/// (here an immutable file in it, which no permission check sees) is a warning: the
/// export succeeds, no journal is left, and the next export works.
#[test]
fn an_undeletable_previous_generation_is_a_warning_not_a_failure() {
    let (_tmp, parent, target) = fresh();
    previous_generation(&target);
    let pinned = target.join("obs/0.values.f32");
    if !chattr("+i", &pinned) {
        eprintln!("skipped: chattr +i needs root and a filesystem with the immutable flag");
        return;
    }
    let tx = Transaction::begin(&target, true).unwrap();
    put(&tx.stage_dir().join("new.txt"), b"new");
    let result = tx.commit(Durability::Buffered);
    let leftovers: Vec<String> = names(&parent)
        .into_iter()
        .filter(|n| n != "export" && n != LOCK)
        .collect();
    // Unpin first, so that the temporary directory can be deleted whatever happens next.
    for leftover in &leftovers {
        chattr("-i", &parent.join(leftover).join("obs/0.values.f32"));
    }
    chattr("-i", &pinned);
    result.expect("publication succeeds although the old generation cannot be deleted");
    assert_eq!(names(&target), set(&["new.txt"]));
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    assert!(
        leftovers[0].starts_with(".export.cellucid-"),
        "the old generation stays under its reserved name: {leftovers:?}"
    );
    let tx = Transaction::begin(&target, true).expect("the next export is not wedged");
    put(&tx.stage_dir().join("next.txt"), b"next");
    tx.commit(Durability::Buffered).unwrap();
    assert_eq!(names(&target), set(&["next.txt"]));
}

/// The lock file gets the parent's write audience, whatever the umask.
#[test]
fn the_lock_file_is_writable_by_whoever_may_write_the_parent() {
    for (parent_mode, lock_mode) in [
        (0o700, 0o600),
        (0o770, 0o660),
        (0o777, 0o666),
        (0o755, 0o600),
    ] {
        let (_tmp, parent, target) = fresh();
        fs::create_dir_all(&parent).unwrap();
        fs::set_permissions(&parent, fs::Permissions::from_mode(parent_mode)).unwrap();
        let tx = Transaction::begin(&target, false).unwrap();
        put(&tx.stage_dir().join("f"), b"1");
        tx.commit(Durability::Buffered).unwrap();
        let mode = fs::metadata(parent.join(LOCK))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(mode, lock_mode, "parent {parent_mode:o}");
    }
}

/// A refusal removes only a lock file it created; one that was there before stays
/// (another writer may be about to lock it).
#[test]
fn a_refusal_keeps_a_lock_file_it_did_not_create() {
    let (_tmp, parent, target) = fresh();
    put(&target.join("keep.txt"), b"keep me");
    put(&parent.join(LOCK), b"");
    let (class, _) = refusal(Transaction::begin(&target, false));
    assert_eq!(class, ErrorClass::FileExistsError);
    assert_eq!(names(&parent), set(&["export", LOCK]));
}
