//! Exports by different users into one parent directory, as real users: throwaway
//! accounts made with `useradd` (root only; skipped with the reason otherwise), the
//! exporter being this test binary re-executed under their uid ([`export_as`]).
//!
//! - parent 0777 without the sticky bit, previous export owned by another user whose
//!   directories only it may write: `--force` is refused before anything changes, and
//!   keeps being refused the same way (no journal left to wedge later exports);
//! - the same with the previous export's directories writable by all: the second user
//!   replaces it, through the lock file the first user created;
//! - a 0600 lock file owned by another user (as cellucid 0.9.2 creates it): a clear
//!   refusal, nothing changed;
//! - a sticky parent: the other user's export cannot be moved away, refused up front.

use cellucid_core::{export, ExportOptions};
use cellucid_datasets::synthetic::{generate, DatasetSpec};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHILD_OUT: &str = "CELLUCID_USERS_CHILD_OUT";
const CHILD_UMASK: &str = "CELLUCID_USERS_CHILD_UMASK";
const LOCK: &str = ".export.cellucid.lock";

/// Run as another user by [`export_as`]: a small export with `force`; exit 0, or the
/// error on stderr and exit 2. Without the environment it does nothing.
#[test]
#[ignore = "helper: run as another user by the multi-user tests"]
fn export_child() {
    let Some(out) = std::env::var_os(CHILD_OUT) else {
        return;
    };
    if let Some(mask) = std::env::var(CHILD_UMASK).ok().and_then(|m| u32::from_str_radix(&m, 8).ok()) {
        // SAFETY: umask only sets the process's file creation mask; it cannot fail.
        unsafe { libc::umask(mask as libc::mode_t) };
    }
    let spec = DatasetSpec { cells: 300, genes: 20, categorical_fields: vec![12], ..DatasetSpec::default() };
    let dataset = generate(&spec).unwrap();
    let mut options = ExportOptions::new("users", "users", "uint8");
    options.force = true;
    if let Err(error) = export(&dataset, &options, Path::new(&out)) {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
}

/// A throwaway user, deleted on drop.
struct User {
    name: String,
    uid: u32,
    gid: u32,
}

impl User {
    fn create(tag: &str) -> User {
        let name = format!("cbpub{tag}{}", std::process::id());
        // useradd fails while another process holds /etc/passwd's lock: retry briefly.
        for attempt in 0.. {
            let status = Command::new("useradd")
                .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", &name])
                .status()
                .expect("useradd (passwd package)");
            if status.success() {
                break;
            }
            assert!(attempt < 20, "useradd {name} failed: {status:?}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
        };
        User { uid: id("-u"), gid: id("-g"), name }
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

/// Root only: the reason to skip otherwise.
fn skip_reason() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root to create throwaway users (CI runs as root)");
    }
    if Command::new("useradd").arg("--help").output().is_err() {
        return Some("useradd is not installed");
    }
    None
}

/// A world-readable copy of this test binary (its own path may be under a 0700 home).
fn shared_binary(dir: &Path) -> PathBuf {
    let copy = dir.join("exporter");
    fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

fn export_as(binary: &Path, user: &User, target: &Path, umask: &str) -> Output {
    // ETXTBSY: while `shared_binary` wrote the copy, another test thread may have forked;
    // its child holds the copy's write descriptor until it execs, and exec of a file
    // open for writing fails. Seen once in three full runs; retried for up to 2 s.
    for _ in 0..100 {
        let run = Command::new(binary)
            .args(["--exact", "export_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_OUT, target)
            .env(CHILD_UMASK, umask)
            .current_dir("/")
            .uid(user.uid)
            .gid(user.gid)
            .output();
        match run {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    panic!("{} stayed busy (ETXTBSY) for 2 s", binary.display());
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

/// Every path under `root` with its owner and contents, to show nothing changed.
fn listing(root: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let bytes = if meta.is_file() { fs::read(&path).unwrap() } else { Vec::new() };
            out.push((path.display().to_string(), meta.uid(), bytes));
            if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A fresh parent directory with `mode` (umask-independent) in a directory all may enter.
fn parent_dir(mode: u32) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let parent = tmp.path().join("shared");
    fs::create_dir(&parent).unwrap();
    fs::set_permissions(&parent, fs::Permissions::from_mode(mode)).unwrap();
    let target = parent.join("export");
    (tmp, parent, target)
}

#[test]
fn another_users_private_export_is_refused_up_front_and_never_wedges() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let (a, b) = (User::create("a"), User::create("b"));
    let (tmp, parent, target) = parent_dir(0o777);
    let binary = shared_binary(tmp.path());

    let first = export_as(&binary, &a, &target, "022");
    assert!(first.status.success(), "{}", stderr(&first));
    let lock = fs::metadata(parent.join(LOCK)).unwrap();
    assert_eq!((lock.uid(), lock.mode() & 0o777), (a.uid, 0o666), "writable by all who may write the parent");

    let before = listing(&parent);
    for attempt in 0..2 {
        let refused = export_as(&binary, &b, &target, "022");
        assert_eq!(refused.status.code(), Some(2), "attempt {attempt}: {:?} {}", refused.status, stderr(&refused));
        let message = stderr(&refused);
        assert!(
            message.contains(&format!("Cannot replace {}", target.display()))
                && message.contains("the previous export cannot be deleted: no read, write and search permission on")
                && message.contains("Nothing was changed."),
            "attempt {attempt}: {message}"
        );
        assert_eq!(listing(&parent), before, "attempt {attempt}: nothing changed, no journal");
    }
    // The owner can still replace it, through the same lock file.
    let again = export_as(&binary, &a, &target, "022");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(names(&parent), BTreeSet::from(["export".to_string(), LOCK.to_string()]));
}

#[test]
fn another_users_shared_export_is_replaced_through_its_lock_file() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let (a, b) = (User::create("c"), User::create("d"));
    let (tmp, parent, target) = parent_dir(0o777);
    let binary = shared_binary(tmp.path());

    let first = export_as(&binary, &a, &target, "000");
    assert!(first.status.success(), "{}", stderr(&first));
    let second = export_as(&binary, &b, &target, "000");
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(fs::metadata(&target).unwrap().uid(), b.uid, "b's generation is published");
    assert_eq!(names(&parent), BTreeSet::from(["export".to_string(), LOCK.to_string()]), "a's is deleted");
    let third = export_as(&binary, &a, &target, "000");
    assert!(
        third.status.success(),
        "the lock still works for a: {:?} {} {}",
        third.status,
        stderr(&third),
        String::from_utf8_lossy(&third.stdout)
    );
}

#[test]
fn a_private_lock_file_of_another_user_is_a_clear_refusal() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let (a, b) = (User::create("e"), User::create("f"));
    let (tmp, parent, target) = parent_dir(0o777);
    let binary = shared_binary(tmp.path());
    let lock = parent.join(LOCK);
    fs::write(&lock, b"").unwrap();
    fs::set_permissions(&lock, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&lock, Some(a.uid), Some(a.gid)).unwrap();

    let before = listing(&parent);
    let refused = export_as(&binary, &b, &target, "022");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains(&format!("Export lock file {} cannot be opened for writing by this user", lock.display()))
            && message.contains(&format!("owned by uid {} with mode 0600", a.uid)),
        "{message}"
    );
    assert_eq!(listing(&parent), before);
}

#[test]
fn a_sticky_parent_protects_another_users_export_up_front() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let (a, b) = (User::create("g"), User::create("h"));
    let (tmp, parent, target) = parent_dir(0o1777);
    let binary = shared_binary(tmp.path());

    let first = export_as(&binary, &a, &target, "000");
    assert!(first.status.success(), "{}", stderr(&first));
    let before = listing(&parent);
    let refused = export_as(&binary, &b, &target, "022");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("has the sticky bit and neither it nor the previous export"), "{message}");
    assert_eq!(listing(&parent), before);
}
