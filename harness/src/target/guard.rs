//! The teardown registry: everything a target provisions (temp directories, image
//! files, loop devices, mounts, daemons, the delay proxy) is registered here the moment
//! it exists, and removed in reverse order of creation.
//!
//! Three ways teardown runs:
//! - **Drop** of the owning [`Guard`] (so of the `Target`), including while a panic
//!   unwinds through it; a provisioning step that fails half-way drops its guard too, so
//!   a failed `provision` leaves nothing behind.
//! - **SIGINT / SIGTERM**: the first [`Guard`] installs handlers (`sigaction`) whose only
//!   work is the async-signal-safe `write(2)` of one byte to a self-pipe. A watcher thread
//!   blocked on that pipe then runs [`cleanup_all`] — every live guard, newest first — and
//!   exits the process with status 130. A second signal while that runs exits at once
//!   (`_exit(130)`), as a second Ctrl-C does elsewhere. These handlers replace earlier
//!   ones for the two signals; a program that needs its own should call `cleanup_all`
//!   from them.
//! - [`cleanup_all`] called by the program itself.
//!
//! Registry state lives in statics (not in the guard) so that the signal path can reach
//! resources owned by any thread. Teardowns are serialised by one lock, which the signal
//! path holds until the process exits, so nothing is half torn down by two parties.
//!
//! Not covered here: SIGKILL (nothing can run), and a resource created by a thread in
//! the instant between its creation and its registration when the signal arrives. Both
//! are what the ledger is for: every resource is put on record in the target's ledger
//! file *before* it is created (`ledger.rs`), and a later sweep, `--resume`, or
//! `cellucid-bench targets clean` reclaims what a dead owner left (`reclaim.rs`).
//!
//! Daemons are spawned in their own process group so that a terminal's Ctrl-C reaches
//! only the harness, which then stops them in order (unmount before killing sshfs/sshd).

use super::delay_proxy::DelayProxy;
use super::info;
use super::ledger::{Entry, Ledger};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

/// One thing to undo.
pub(crate) enum Resource {
    /// A directory the harness created: removed recursively, but only when no mount is
    /// left under it (removing through a live mount would delete that filesystem's files).
    Dir(PathBuf),
    /// A file (image) the harness created.
    File(PathBuf),
    /// A mount point: `umount` with retries while busy, then a lazy unmount.
    Mount(PathBuf),
    /// An attached loop device: `losetup -d`.
    LoopDevice(PathBuf),
    /// A daemon spawned in its own process group: SIGTERM to the group, then SIGKILL.
    Process { name: String, child: Child },
    /// A FUSE daemon that detached itself (not our child; exfat-fuse): its mount is
    /// unmounted, which ends it; it is waited for, and signalled (through a pidfd, only
    /// while its start time still matches) if it lingers.
    Detached { name: String, pid: u32, start_ticks: u64, mount: PathBuf },
    /// The in-process delay proxy: stopped and its threads joined.
    Proxy(DelayProxy),
    /// The target's ledger (`ledger.rs`): registered first, so removed last, and kept
    /// when anything else could not be undone, for `cellucid-bench targets clean`.
    Ledger(PathBuf),
}

struct Registry {
    next_id: u64,
    /// Live guards in creation order, each with its resources in creation order.
    live: Vec<(u64, Vec<Resource>)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { next_id: 0, live: Vec::new() });
/// Held for the whole of any teardown; the signal path never releases it.
static TEARDOWN: Mutex<()> = Mutex::new(());

/// Locks ignoring poison: the registry's data stays consistent (every update is one
/// push or remove), and teardown must still run after some thread panicked.
fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Owns the resources of one target; tears them down when dropped.
pub(crate) struct Guard {
    id: u64,
    /// Where each resource is put on record before it is created.
    ledger: Mutex<Option<Ledger>>,
}

impl Guard {
    pub(crate) fn new() -> Guard {
        install_signal_handlers();
        let mut reg = lock(&REGISTRY);
        let id = reg.next_id;
        reg.next_id += 1;
        reg.live.push((id, Vec::new()));
        Guard { id, ledger: Mutex::new(None) }
    }

    /// From now on, [`Guard::record`] writes to `ledger`; the ledger file is removed
    /// last at teardown.
    pub(crate) fn keep_ledger(&self, ledger: Ledger) {
        self.push(Resource::Ledger(ledger.path().to_path_buf()));
        *self.ledger.lock().unwrap_or_else(|e| e.into_inner()) = Some(ledger);
    }

    /// The ledger's path, once there is one.
    pub(crate) fn ledger_path(&self) -> Option<PathBuf> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|l| l.path().to_path_buf())
    }

    /// Puts `entry` on record (durably) before the resource it names is created.
    pub(crate) fn record(&self, target: &str, entry: Entry) -> Result<(), super::TargetError> {
        match self.ledger.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(l) => l.record(entry).map_err(|e| super::tools::io_failed(target, "ledger", format!("{}: {e}", l.path().display()))),
            None => Ok(()),
        }
    }

    /// Registers `r` for teardown. If the registry was already drained (a signal's
    /// cleanup is running), `r` is torn down at once instead of leaking.
    pub(crate) fn push(&self, r: Resource) {
        let mut reg = lock(&REGISTRY);
        match reg.live.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, list)) => list.push(r),
            None => {
                drop(reg);
                let _ = undo(r);
            }
        }
    }

    /// Tears down now; returns the problems (empty when everything went).
    pub(crate) fn teardown(&mut self) -> Vec<String> {
        let _serial = lock(&TEARDOWN);
        let resources = {
            let mut reg = lock(&REGISTRY);
            match reg.live.iter().position(|(id, _)| *id == self.id) {
                Some(i) => reg.live.remove(i).1,
                None => Vec::new(),
            }
        };
        undo_all(resources)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for p in self.teardown() {
            eprintln!("target teardown: {p}");
        }
    }
}

/// Tears down every live target of this process, newest first; returns the problems.
/// The signal handlers call this; a program may too (e.g. from its own handler).
pub fn cleanup_all() -> Vec<String> {
    let _serial = lock(&TEARDOWN);
    cleanup_all_locked()
}

fn cleanup_all_locked() -> Vec<String> {
    let all = std::mem::take(&mut lock(&REGISTRY).live);
    all.into_iter().rev().flat_map(|(_, list)| undo_all(list)).collect()
}

fn undo_all(resources: Vec<Resource>) -> Vec<String> {
    let mut problems = Vec::new();
    for r in resources.into_iter().rev() {
        match r {
            Resource::Ledger(p) if !problems.is_empty() => {
                problems.push(format!("kept {} for `cellucid-bench targets clean`", p.display()));
            }
            r => problems.extend(undo(r).err()),
        }
    }
    problems
}

/// Undoes one resource; `Err` describes what is left behind.
fn undo(r: Resource) -> Result<(), String> {
    match r {
        Resource::Mount(p) => unmount(&p),
        Resource::LoopDevice(dev) => detach_loop(&dev),
        Resource::Process { name, child } => stop_process(&name, child),
        Resource::Detached { name, pid, start_ticks, mount } => {
            unmount(&mount)?;
            stop_detached(&name, pid, start_ticks)
        }
        Resource::Proxy(proxy) => {
            drop(proxy);
            Ok(())
        }
        Resource::File(p) | Resource::Ledger(p) => match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("remove {}: {e}", p.display())),
            _ => Ok(()),
        },
        Resource::Dir(p) => remove_dir(&p),
    }
}

pub(super) fn remove_dir(p: &Path) -> Result<(), String> {
    let canonical = match p.canonicalize() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("remove {}: {e}", p.display())),
    };
    if let Some(m) = info::mounts().into_iter().find(|m| m.mount_point.starts_with(&canonical)) {
        return Err(format!("left {} in place: {} is still mounted under it", p.display(), m.mount_point.display()));
    }
    match std::fs::remove_dir_all(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("remove {}: {e}", p.display())),
        _ => Ok(()),
    }
}

/// How long a busy mount is retried before the lazy unmount.
const UNMOUNT_RETRIES: u32 = 30;
const UNMOUNT_PAUSE: Duration = Duration::from_millis(100);

/// How a mount went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unmounted {
    Now,
    /// It was busy: detached from the tree, finished by the kernel when the last user goes.
    Lazily,
    /// It was not (or no longer) a mount point.
    NotMounted,
}

fn unmount(p: &Path) -> Result<(), String> {
    if unmount_how(p)? == Unmounted::Lazily {
        eprintln!("target teardown: {} was busy; unmounted lazily (umount -l)", p.display());
    }
    Ok(())
}

/// `umount` with retries while busy, then a lazy unmount.
pub(super) fn unmount_how(p: &Path) -> Result<Unmounted, String> {
    let c = CString::new(p.as_os_str().as_bytes()).map_err(|e| format!("unmount {}: {e}", p.display()))?;
    for _ in 0..UNMOUNT_RETRIES {
        // SAFETY: a NUL-terminated path; umount2 has no other preconditions.
        if unsafe { libc::umount2(c.as_ptr(), 0) } == 0 {
            return Ok(Unmounted::Now);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            // Not (or no longer) a mount point: nothing to undo.
            Some(libc::EINVAL) | Some(libc::ENOENT) => return Ok(Unmounted::NotMounted),
            Some(libc::EBUSY) => std::thread::sleep(UNMOUNT_PAUSE),
            _ => return Err(format!("unmount {}: {err}", p.display())),
        }
    }
    // Still busy (an open file somewhere): detach it from the tree now; the kernel
    // finishes when the last user goes. The directory above it can then be removed.
    // SAFETY: as above.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        Ok(Unmounted::Lazily)
    } else {
        Err(format!("lazy unmount {}: {}", p.display(), std::io::Error::last_os_error()))
    }
}

pub(super) fn detach_loop(dev: &Path) -> Result<(), String> {
    let Some(losetup) = super::tools::find("losetup") else {
        return Err(format!("losetup not found; {} left attached", dev.display()));
    };
    let mut last = String::new();
    for _ in 0..10 {
        match std::process::Command::new(&losetup).arg("-d").arg(dev).output() {
            Ok(o) if o.status.success() => return Ok(()),
            Ok(o) => last = String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(UNMOUNT_PAUSE);
    }
    Err(format!("losetup -d {}: {last}", dev.display()))
}

/// How long a daemon's children get to exit before the daemon is signalled.
const CHILDREN_GRACE: Duration = Duration::from_secs(2);

/// Whether `pid` has live children (`/proc/PID/task/*/children`; false if unreadable).
fn has_children(pid: libc::pid_t) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().any(|t| std::fs::read_to_string(t.path().join("children")).is_ok_and(|c| !c.trim().is_empty()))
}

/// Grace period between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

fn stop_process(name: &str, mut child: Child) -> Result<(), String> {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return Err(format!("{name}: pid {} out of range", child.id()));
    };
    // Let its children finish first (sshd's per-connection process ends once sshfs has
    // gone; sshfs's ssh once the mount is gone), so that they are reaped by their own
    // parent rather than orphaned as zombies at the container's init.
    let deadline = Instant::now() + CHILDREN_GRACE;
    while has_children(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The daemon leads its own process group (spawned with process_group(0)), so this
    // reaches its helpers too (sshfs's ssh, sshd's connection children).
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    let deadline = Instant::now() + TERM_GRACE;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => break,
            Err(e) => return Err(format!("{name} (pid {pid}): wait: {e}")),
        }
    }
    // SAFETY: as above.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    child.wait().map(|_| ()).map_err(|e| format!("{name} (pid {pid}): wait after SIGKILL: {e}"))
}

/// How long a detached FUSE daemon gets to exit by itself after its unmount.
const DETACHED_GRACE: Duration = Duration::from_secs(5);

fn stop_detached(name: &str, pid: u32, start_ticks: u64) -> Result<(), String> {
    let me = [(pid, start_ticks)];
    if super::procs::wait_gone(&me, DETACHED_GRACE).is_empty() {
        return Ok(());
    }
    let ours = |p: &super::procs::ProcInfo| p.start_ticks == start_ticks;
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        super::procs::signal_if(pid, sig, ours).map_err(|e| format!("{name} (pid {pid}): signal {sig}: {e}"))?;
        if super::procs::wait_gone(&me, TERM_GRACE).is_empty() {
            return Ok(());
        }
    }
    Err(format!("{name} (pid {pid}) still runs after SIGKILL"))
}

/// Write end of the self-pipe; -1 until the handlers are installed.
static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);
/// Set by the first signal; a second one exits at once.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe calls here: atomics, write(2), _exit(2).
    if SIGNALLED.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
    let fd = SIGNAL_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: writes one byte from a live stack variable; async-signal-safe.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

fn install_signal_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills the two-element array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            eprintln!(
                "target: no self-pipe ({}); targets will not be torn down on SIGINT/SIGTERM",
                std::io::Error::last_os_error()
            );
            return;
        }
        let read_fd = fds[0];
        let spawned = std::thread::Builder::new().name("target-signal-watcher".into()).spawn(move || {
            let mut byte = 0u8;
            loop {
                // SAFETY: reads one byte into a live stack variable.
                let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
                if n == 1 {
                    break;
                }
                if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return; // pipe closed: nothing more to watch
            }
            eprintln!("target: signal {byte} received; tearing down the filesystem targets");
            // Hold the teardown lock until exit so no other teardown starts meanwhile.
            let _serial = lock(&TEARDOWN);
            for p in cleanup_all_locked() {
                eprintln!("target teardown: {p}");
            }
            std::process::exit(130);
        });
        if let Err(e) = spawned {
            eprintln!("target: no signal watcher thread ({e}); targets will not be torn down on SIGINT/SIGTERM");
            return;
        }
        SIGNAL_FD.store(fds[1], Ordering::SeqCst);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed sigaction with an extern "C" handler and an empty mask is
            // a valid argument; the old action is not needed.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}
