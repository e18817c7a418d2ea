//! `rclone-webdav`: a cloud-drive mount with a local write cache. Debian's `rclone`
//! serves a directory of the target's private directory over WebDAV on 127.0.0.1
//! (`rclone serve webdav`, the "cloud"), and mounts that remote with FUSE and a write
//! cache (`rclone mount :webdav: … --vfs-cache-mode writes`), as desktop cloud drives
//! (OneDrive Files On-Demand, Google Drive for desktop, rclone itself) do: writes land in
//! the local cache at once and are uploaded in the background after the file is closed.
//!
//! Everything is given by flags and environment variables: an empty `rclone.conf` in the
//! private directory (`--config`), the cache there (`--cache-dir`), `HOME` and the XDG
//! directories pointing there, a random WebDAV password (`RCLONE_USER`/`RCLONE_PASS` for
//! the server, `RCLONE_WEBDAV_USER`/`RCLONE_WEBDAV_PASS`, obscured by `rclone obscure`,
//! for the mount), so nothing is read from or written to the user's home. The mount's
//! remote control listens on a loopback port (`--rc`, no credentials: the two calls used
//! here, `vfs/stats` and `core/stats`, need none, and calls that touch remotes are refused).
//!
//! Uploads start 1 s after a file is closed (`--vfs-write-back 1s`; rclone's default is
//! 5 s) for the reason syncthing's watcher waits 1 s (see `syncthing.rs`).
//!
//! Busy: `vfs/stats` shows uploads in progress or queued. Bytes: `core/stats` `bytes`,
//! what the mount has uploaded.

use super::daemon::{self, SyncDaemon};
use super::http::Api;
use crate::target::guard::{Guard, Resource};
use crate::target::ledger::Entry;
use crate::target::{info, private_dir, tools, TargetError};
use anyhow::Context as _;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "rclone-webdav";
/// The WebDAV user of the loopback server (the password is random).
const USER: &str = "cellucid";
/// Seconds after a file's close before its upload starts (see the module doc).
const WRITE_BACK: &str = "1s";

/// The server, the mount and their private directory.
pub struct Rclone {
    guard: Guard,
    version: String,
    rc: Api,
    mnt: PathBuf,
    remote: PathBuf,
    unwatched: PathBuf,
}

/// Serves the remote, mounts it and waits for both; `Skipped` without `rclone`, FUSE
/// or `fusermount`.
pub fn start(work_dir: &Path) -> Result<Rclone, TargetError> {
    let exe = tools::require(TARGET, "rclone", "rclone")?;
    tools::require(TARGET, "fusermount", "fuse3")?;
    if !Path::new("/dev/fuse").exists() {
        return Err(TargetError::Skipped { target: TARGET.into(), reason: "no /dev/fuse (FUSE unavailable here)".into() });
    }
    let guard = Guard::new();
    let dir = private_dir(&guard, TARGET, work_dir)?;
    let [remote, mnt, cache, home, unwatched] = daemon::make_dirs(TARGET, &dir, ["remote", "mnt", "cache", "home", "unwatched"])?;
    let config = dir.join("rclone.conf");
    std::fs::write(&config, b"").map_err(|e| tools::io_failed(TARGET, "rclone.conf", e))?;
    let version = daemon::version(TARGET, &exe)?;
    let password = daemon::random_hex(TARGET, 16)?;
    let obscured = tools::run(TARGET, "rclone obscure", rclone(&exe, &config, &home).arg("obscure").arg(&password))?;

    let dav_port = daemon::free_port(TARGET)?;
    let log = dir.join("serve.log");
    let mut serve = rclone(&exe, &config, &home);
    serve.args(["serve", "webdav"]).arg(&remote).arg("--addr").arg(format!("127.0.0.1:{dav_port}"));
    serve.env("RCLONE_USER", USER).env("RCLONE_PASS", &password);
    let pid = daemon::spawn(&guard, TARGET, "rclone-serve", &mut serve, &log)?;
    let listening = format!("127.0.0.1:{dav_port}");
    daemon::wait_ready(TARGET, "rclone serve webdav", pid, &log, daemon::START_TIMEOUT, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains(&listening))
            && std::net::TcpStream::connect(("127.0.0.1", dav_port)).is_ok()
    })?;

    let rc_port = daemon::free_port(TARGET)?;
    let log = dir.join("mount.log");
    let mut mount = rclone(&exe, &config, &home);
    mount
        .args(["mount", ":webdav:"])
        .arg(&mnt)
        .arg("--webdav-url")
        .arg(format!("http://127.0.0.1:{dav_port}/"))
        .args(["--webdav-vendor", "other"])
        .args(["--vfs-cache-mode", "writes", "--vfs-write-back", WRITE_BACK])
        .arg("--cache-dir")
        .arg(&cache)
        .args(["--rc", "--rc-addr"])
        .arg(format!("127.0.0.1:{rc_port}"))
        .env("RCLONE_WEBDAV_USER", USER)
        .env("RCLONE_WEBDAV_PASS", obscured.trim());
    // rclone mounts by itself once started: both are on record before it runs.
    guard.record(TARGET, Entry::Mount { path: mnt.clone() })?;
    let spawned = daemon::spawn(&guard, TARGET, "rclone-mount", &mut mount, &log);
    // Registered even if the start failed: a mount that appears late is still undone
    // (unmounting a plain directory is a no-op), before rclone is stopped.
    guard.push(Resource::Mount(mnt.clone()));
    let pid = spawned?;
    let rc = Api::new(rc_port, Vec::new());
    daemon::wait_ready(TARGET, "rclone mount", pid, &log, daemon::START_TIMEOUT, || {
        info::is_mount_point(&mnt) && rc.post("/vfs/stats", &json!({})).is_ok()
    })?;
    Ok(Rclone { guard, version, rc, mnt, remote, unwatched })
}

/// `rclone` with the private config file and home.
fn rclone(exe: &Path, config: &Path, home: &Path) -> Command {
    let mut c = Command::new(exe);
    c.arg("--config")
        .arg(config)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"));
    c
}

/// rclone's partial uploads (`NAME.XXXXXX.partial`, from 1.63 on) on the remote side.
fn own_name(name: &str) -> bool {
    name.ends_with(".partial")
}

impl SyncDaemon for Rclone {
    fn name(&self) -> &'static str {
        TARGET
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn watched(&self) -> &Path {
        &self.mnt
    }

    fn remote(&self) -> &Path {
        &self.remote
    }

    fn unwatched(&self) -> &Path {
        &self.unwatched
    }

    fn own_names(&self) -> fn(&str) -> bool {
        own_name
    }

    fn busy(&mut self) -> anyhow::Result<bool> {
        let s = self.rc.post("/vfs/stats", &json!({})).context("rclone vfs/stats")?;
        let cache = &s["diskCache"];
        anyhow::ensure!(cache.is_object(), "rclone vfs/stats has no diskCache (is --vfs-cache-mode on?): {s}");
        let n = |k: &str| cache[k].as_u64().unwrap_or(0);
        Ok(n("uploadsInProgress") + n("uploadsQueued") > 0)
    }

    fn bytes_transferred(&mut self) -> anyhow::Result<u64> {
        let s = self.rc.post("/core/stats", &json!({})).context("rclone core/stats")?;
        s["bytes"].as_u64().with_context(|| format!("rclone core/stats has no bytes: {s}"))
    }

    fn teardown(mut self: Box<Self>) -> Result<(), TargetError> {
        let problems = self.guard.teardown();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TargetError::Failed { target: TARGET.into(), step: "teardown".into(), detail: problems.join("; ") })
        }
    }
}
