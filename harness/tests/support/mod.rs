//! Helpers shared by the harness's integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The shared reference material: `$CELLUCID_SHARED`, else `../shared` beside the checkout.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("CELLUCID_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    assert!(p.join("golden").is_dir(), "shared/ not found at {} (set CELLUCID_SHARED)", p.display());
    p
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Mount points under `dir`, from this process's mountinfo.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .filter(|m| m.starts_with(&*canon.to_string_lossy()))
        .collect()
}

/// Debian's Chromium (installed by `scripts/install-browser.sh`; tests install nothing).
pub fn chromium() -> String {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return c.to_string();
        }
    }
    panic!("chromium is not installed: run scripts/install-browser.sh");
}

/// Runs headless Chromium on `url` with a fresh profile and `extra` flags.
pub fn browser(bin: &str, profile: &Path, extra: &[String], url: &str) -> std::process::Output {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().cloned());
    args.push(url.to_string());
    Command::new(bin).args(&args).output().expect("chromium runs")
}
