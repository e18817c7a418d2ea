//! `sshfs` and `sshfs:Nms`: a FUSE mount of a directory served over SFTP by a private
//! sshd on 127.0.0.1: a network filesystem without a network.
//!
//! Everything lives in the target's private directory under `work_dir`: throwaway
//! ed25519 host and user keys (`ssh-keygen`), an `sshd_config` (pubkey only, no PAM,
//! `AuthorizedKeysFile` and `PidFile` in the directory, `StrictModes no`, the built-in
//! SFTP server), the served directory `remote/`, the mount point `mnt/`, and the logs of
//! sshd and sshfs (quoted in errors). sshd runs in the foreground as our child
//! (`sshd -D -e -f cfg`) on a free loopback port; with a latency, sshfs connects to the
//! [`DelayProxy`](super::DelayProxy) in front of it instead. sshfs also runs in the
//! foreground (`-f`) as our child, so its pid is known and teardown can wait for it.
//!
//! sshd refuses to start without its privilege-separation directory `/run/sshd` (made
//! by the openssh-server service at boot, absent in containers); it is created if
//! missing and left in place, as the service would.

use super::delay_proxy::DelayProxy;
use super::guard::Resource;
use super::{finish, info, Entry, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Fresh ports are picked by binding port 0 and releasing it; another process may take
/// it before sshd binds, so a few attempts are allowed.
const PORT_ATTEMPTS: u32 = 5;
const SSHD_START: Duration = Duration::from_secs(10);
const MOUNT_WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

pub(super) fn provision(spec: &TargetSpec, latency_ms: u32, work_dir: &Path) -> Result<Target, TargetError> {
    let name = spec.name();
    let name = name.as_str();
    tools::require_root(name)?;
    let sshd = tools::require(name, "sshd", "openssh-server")?;
    let keygen = tools::require(name, "ssh-keygen", "openssh-client")?;
    tools::require(name, "ssh", "openssh-client")?;
    let sshfs = tools::require(name, "sshfs", "sshfs")?;
    if !Path::new("/dev/fuse").exists() {
        return Err(TargetError::Skipped {
            target: name.into(),
            reason: "no /dev/fuse (FUSE unavailable here)".into(),
        });
    }

    let guard = Guard::new();
    let dir = private_dir(&guard, name, work_dir)?;
    let keys = dir.join("ssh");
    let remote = dir.join("remote");
    let mnt = dir.join("mnt");
    for d in [&keys, &remote, &mnt] {
        std::fs::create_dir(d).map_err(|e| tools::io_failed(name, "directories", e))?;
    }
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| tools::io_failed(name, "directories", e))?;

    let host_key = keys.join("host_ed25519");
    let user_key = keys.join("user_ed25519");
    for (key, comment) in [(&host_key, "cellucid-bench host"), (&user_key, "cellucid-bench user")] {
        tools::run(
            name,
            "ssh-keygen",
            Command::new(&keygen).args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"]).arg(key),
        )?;
    }
    let authorized = keys.join("authorized_keys");
    std::fs::copy(keys.join("user_ed25519.pub"), &authorized)
        .map_err(|e| tools::io_failed(name, "authorized_keys", e))?;

    if !Path::new("/run/sshd").exists() {
        std::fs::create_dir_all("/run/sshd").map_err(|e| tools::io_failed(name, "/run/sshd", e))?;
        let _ = std::fs::set_permissions("/run/sshd", std::fs::Permissions::from_mode(0o755));
    }

    // sshd, on a free port.
    let sshd_log = keys.join("sshd.log");
    let mut sshd_port = None;
    let mut last_error = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port().map_err(|e| tools::io_failed(name, "free port", e))?;
        let cfg = keys.join("sshd_config");
        std::fs::write(&cfg, sshd_config(port, &keys)).map_err(|e| tools::io_failed(name, "sshd_config", e))?;
        let log = std::fs::File::create(&sshd_log).map_err(|e| tools::io_failed(name, "sshd log", e))?;
        guard.record(name, Entry::Process { name: "sshd".into(), pid: None, start_ticks: None })?;
        let mut child = Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| tools::io_failed(name, "start sshd", format!("{}: {e}", sshd.display())))?;
        let pid = child.id();
        let recorded = record_pid(&guard, name, "sshd", pid);
        let started = wait_listening(&mut child, port, &sshd_log);
        guard.push(Resource::Process { name: "sshd".into(), child });
        recorded?;
        match started {
            Ok(()) => {
                sshd_port = Some((port, pid));
                break;
            }
            Err(e) => last_error = e,
        }
        // Only a lost race for the port is worth another attempt.
        if !last_error.contains("Address already in use") {
            break;
        }
    }
    let Some((sshd_port, sshd_pid)) = sshd_port else {
        return Err(tools::io_failed(name, "start sshd", last_error));
    };
    let mut footprint =
        Footprint { private_dir: Some(dir.clone()), mount_point: Some(mnt.clone()), ..Footprint::default() };
    footprint.daemons.push(("sshd".into(), sshd_pid));

    let connect_port = if latency_ms > 0 {
        let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, sshd_port));
        let proxy = DelayProxy::start(upstream, Duration::from_millis(u64::from(latency_ms)))
            .map_err(|e| tools::io_failed(name, "delay proxy", e))?;
        let port = proxy.port();
        footprint.proxy_port = Some(port);
        guard.push(Resource::Proxy(proxy));
        port
    } else {
        sshd_port
    };

    // sshfs, in the foreground as our child.
    let sshfs_log = dir.join("sshfs.log");
    let log = std::fs::File::create(&sshfs_log).map_err(|e| tools::io_failed(name, "sshfs log", e))?;
    let ssh_options = [
        format!("IdentityFile={}", user_key.display()),
        "StrictHostKeyChecking=no".into(),
        "UserKnownHostsFile=/dev/null".into(),
        "BatchMode=yes".into(),
        "ConnectTimeout=10".into(),
    ]
    .join(",");
    // sshfs mounts by itself once connected: both are on record before it starts.
    guard.record(name, Entry::Process { name: "sshfs".into(), pid: None, start_ticks: None })?;
    guard.record(name, Entry::Mount { path: mnt.clone() })?;
    let mut child = Command::new(&sshfs)
        .arg(format!("root@127.0.0.1:{}", remote.display()))
        .arg(&mnt)
        .arg("-f")
        .args(["-p", &connect_port.to_string()])
        .args(["-o", &ssh_options])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| tools::io_failed(name, "start sshfs", format!("{}: {e}", sshfs.display())))?;
    let recorded = record_pid(&guard, name, "sshfs", child.id());
    let mounted = wait_mounted(&mut child, &mnt, &sshfs_log);
    footprint.daemons.push(("sshfs".into(), child.id()));
    guard.push(Resource::Process { name: "sshfs".into(), child });
    // Registered even if the wait failed: a mount that appears late is still undone
    // (unmounting a plain directory is a no-op), before sshfs is stopped.
    guard.push(Resource::Mount(mnt.clone()));
    recorded?;
    mounted.map_err(|e| tools::io_failed(name, "mount sshfs", e))?;

    finish(spec, &mnt, guard, footprint)
}

/// Puts a spawned daemon's pid and start time on record (its arguments name paths under
/// the private directory, which is how a later reclaim recognises it even without them).
fn record_pid(guard: &Guard, target: &str, daemon: &str, pid: u32) -> Result<(), TargetError> {
    let start_ticks = super::procs::read(pid).map(|p| p.start_ticks);
    guard.record(target, Entry::Process { name: daemon.into(), pid: Some(pid), start_ticks })
}

fn sshd_config(port: u16, keys: &Path) -> String {
    let k = keys.display();
    format!(
        "# Throwaway sshd for one cellucid-bench sshfs target.\n\
         Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {k}/host_ed25519\n\
         PidFile {k}/sshd.pid\n\
         AuthorizedKeysFile {k}/authorized_keys\n\
         StrictModes no\n\
         UsePAM no\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         UseDNS no\n\
         PrintMotd no\n\
         Subsystem sftp internal-sftp\n"
    )
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Waits for sshd's "Server listening" line (printed once it has bound the port).
fn wait_listening(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let ready = format!("Server listening on 127.0.0.1 port {port}");
    let deadline = Instant::now() + SSHD_START;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(&ready) {
            return Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("sshd exited with {status}: {}", one_line(&text))),
            Ok(None) => {}
            Err(e) => return Err(format!("sshd: wait: {e}")),
        }
        if Instant::now() > deadline {
            return Err(format!("sshd not listening after {SSHD_START:?}: {}", one_line(&text)));
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until `mnt` is a mount point (sshfs connected and mounted), or sshfs died.
fn wait_mounted(child: &mut Child, mnt: &Path, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + MOUNT_WAIT;
    loop {
        if info::is_mount_point(mnt) {
            return Ok(());
        }
        let said = || one_line(&std::fs::read_to_string(log).unwrap_or_default());
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("sshfs exited with {status}: {}", said())),
            Ok(None) => {}
            Err(e) => return Err(format!("sshfs: wait: {e}")),
        }
        if Instant::now() > deadline {
            return Err(format!("not mounted after {MOUNT_WAIT:?}: {}", said()));
        }
        std::thread::sleep(POLL);
    }
}

fn one_line(text: &str) -> String {
    text.trim().replace('\n', " | ")
}
