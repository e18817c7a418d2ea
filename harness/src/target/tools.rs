//! The outside programs the targets use (mkfs, losetup, sshd, ssh-keygen, sshfs): where
//! to find them, which Debian package to name when one is missing, and running one with
//! its output kept for the error message.

use super::TargetError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories searched after `$PATH`: a non-login root shell or `cargo test` may not
/// have the sbin directories on its path, where mkfs, losetup and sshd live.
const EXTRA_DIRS: [&str; 5] = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The absolute path of `tool`, if installed.
pub fn find(tool: &str) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_var)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The absolute path of `tool`, or a `Skipped` naming the Debian package that has it.
pub fn require(target: &str, tool: &str, package: &str) -> Result<PathBuf, TargetError> {
    find(tool).ok_or_else(|| TargetError::Skipped {
        target: target.to_string(),
        reason: format!("{tool} not found (Debian package {package}; scripts/install-fs-deps.sh installs it)"),
    })
}

/// Writes back every dirty page of the machine (sync(2)). Measurements call it, untimed,
/// before a timed step, so that earlier writes are not paid for inside it.
pub fn write_back_dirty_pages() {
    // SAFETY: sync has no preconditions and cannot fail.
    unsafe { libc::sync() };
}

/// `Skipped` unless the effective user is root.
pub fn require_root(target: &str) -> Result<(), TargetError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        Ok(())
    } else {
        Err(TargetError::Skipped {
            target: target.to_string(),
            reason: format!("needs root to mount (running as uid {euid})"),
        })
    }
}

/// Runs `cmd` to completion; on a non-zero exit, `Failed` with its stderr (or stdout).
/// Returns stdout.
pub fn run(target: &str, step: &str, cmd: &mut Command) -> Result<String, TargetError> {
    let shown = format!("{cmd:?}");
    let out = cmd.stdin(std::process::Stdio::null()).output().map_err(|e| TargetError::Failed {
        target: target.to_string(),
        step: step.to_string(),
        detail: format!("{shown}: {e}"),
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said = if stderr.trim().is_empty() { stdout.trim() } else { stderr.trim() };
    Err(TargetError::Failed {
        target: target.to_string(),
        step: step.to_string(),
        detail: format!("{shown} exited with {}: {}", out.status, said.replace('\n', " | ")),
    })
}

/// A `Failed` for an I/O error at `step`.
pub fn io_failed(target: &str, step: &str, e: impl std::fmt::Display) -> TargetError {
    TargetError::Failed { target: target.to_string(), step: step.to_string(), detail: e.to_string() }
}
