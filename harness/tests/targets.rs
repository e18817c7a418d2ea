//! The filesystem targets, for real: each is provisioned, used, and torn down, and the
//! machine is checked afterwards (mount gone, loop device detached, daemons gone, proxy
//! closed, private directory removed). A target is skipped (with the reason printed)
//! only when `provision` says `Skipped` — not root, or a tool missing; as root with
//! `scripts/install-fs-deps.sh` run, all of them run.
//!
//! Every test provisions under its own temp directory, so tests run in parallel.

use cellucid_bench::target::{info, provision, Footprint, Target, TargetError, TargetSpec};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SIZE: u64 = 512 << 20;

/// A private work directory on the disk (cargo's per-target tmp dir, not /tmp, which
/// may itself be a tmpfs).
fn work_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("targets-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

fn provision_or_skip(spec: &str, work: &Path) -> Option<Target> {
    let spec = TargetSpec::parse(spec).unwrap();
    match provision(&spec, work, SIZE) {
        Ok(t) => Some(t),
        Err(TargetError::Skipped { target, reason }) => {
            println!("SKIPPED {target}: {reason}");
            None
        }
        Err(e) => panic!("provision {spec}: {e}"),
    }
}

fn mounted(path: &Path) -> bool {
    info::mounts().iter().any(|m| m.mount_point == path)
}

fn process_alive(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie is not running either.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Whether any loop device still has `image` as its backing file.
fn loop_attached(image: &Path) -> bool {
    let out = std::process::Command::new("losetup").arg("-a").output().unwrap();
    let all = String::from_utf8_lossy(&out.stdout);
    let by_j = std::process::Command::new("losetup").arg("-j").arg(image).output().unwrap();
    all.contains(&*image.to_string_lossy()) || !String::from_utf8_lossy(&by_j.stdout).trim().is_empty()
}

/// Everything the footprint lists is gone.
fn assert_torn_down(fp: &Footprint) {
    if let Some(m) = &fp.mount_point {
        assert!(!mounted(m), "{} still mounted", m.display());
    }
    if let Some(img) = &fp.image {
        assert!(!loop_attached(img), "a loop device is still attached to {}", img.display());
        assert!(!img.exists(), "image {} left", img.display());
    }
    if let Some(dev) = &fp.loop_device {
        let name = dev.file_name().unwrap().to_string_lossy().to_string();
        let backing = std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).unwrap_or_default();
        if let Some(img) = &fp.image {
            assert!(!backing.contains(&*img.to_string_lossy()), "{name} still backed by {backing}");
        }
    }
    for (name, pid) in &fp.daemons {
        assert!(!process_alive(*pid), "{name} (pid {pid}) still running");
    }
    if let Some(port) = fp.proxy_port {
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "delay proxy still accepting on {port}");
    }
    if let Some(d) = &fp.private_dir {
        assert!(!d.exists(), "private dir {} left", d.display());
    }
    if let Some(l) = &fp.ledger {
        assert!(!l.exists(), "ledger {} left", l.display());
    }
}

/// Provision, check the type, write and read back, check free space, drop, check
/// teardown. With `hold_open`, a file stays open on the target across the drop, so the
/// unmount is busy and must fall back to the lazy unmount.
fn exercise(spec: &str, expect_type: &dyn Fn(&str) -> bool, hold_open: bool) {
    let work = work_dir();
    let Some(target) = provision_or_skip(spec, work.path()) else { return };
    let fp = target.footprint().clone();
    println!(
        "{spec}: fs_type={} device={} options={} total={} free={} provisioned in {:?}",
        target.info.fs_type,
        target.info.device,
        target.info.mount_options,
        target.info.total_bytes,
        target.info.free_bytes,
        fp.provisioned_in
    );
    assert!(expect_type(&target.info.fs_type), "{spec}: unexpected fs_type {}", target.info.fs_type);
    // fusefat implements no statfs (0 bytes total and free); every other target reports space.
    let reports_space = spec != "fat32";
    assert!(!reports_space || (target.info.free_bytes > 0 && target.info.total_bytes >= target.info.free_bytes));
    assert_eq!(std::fs::read_dir(&target.root).unwrap().count(), 0, "root not empty");
    if let Some(m) = &fp.mount_point {
        assert!(mounted(m), "{} not mounted", m.display());
        assert!(target.root.starts_with(m));
    }
    // Everything provisioned is on record in the ledger (for reclaim after a SIGKILL).
    let ledger = std::fs::read_to_string(fp.ledger.as_ref().expect("a ledger")).unwrap();
    let on_record = |what: String| assert!(ledger.contains(&what), "{spec}: {what} not in the ledger:\n{ledger}");
    for p in [&fp.private_dir, &fp.mount_point, &fp.image, &fp.loop_device].into_iter().flatten() {
        on_record(format!("{:?}", p.display().to_string()));
    }
    for (_, pid) in &fp.daemons {
        on_record(format!("\"pid\": {pid}"));
    }

    let payload: Vec<u8> = (0..(1u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let file = target.root.join("sub").join("payload.bin");
    std::fs::create_dir(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &payload).unwrap();
    let mut back = Vec::new();
    std::fs::File::open(&file).unwrap().read_to_end(&mut back).unwrap();
    assert!(back == payload, "{spec}: read back differs");
    let now = target.info_now().unwrap();
    assert_eq!(now.fs_type, target.info.fs_type);
    assert!(!reports_space || now.free_bytes > 0);

    let open = hold_open.then(|| std::fs::File::open(&file).unwrap());
    drop(target);
    drop(open);
    assert_torn_down(&fp);
}

#[test]
fn tmpfs() {
    exercise("tmpfs", &|t| t == "tmpfs", true);
}

#[test]
fn disk() {
    let expected = info::query(Path::new(env!("CARGO_TARGET_TMPDIR"))).unwrap().fs_type;
    exercise("disk", &|t| t == expected, false);
}

#[test]
fn xfs() {
    exercise("xfs", &|t| t == "xfs", false);
}

#[test]
fn drop_caches_keeps_data() {
    let work = work_dir();
    let Some(target) = provision_or_skip("xfs", work.path()) else { return };
    let file = target.root.join("cold.bin");
    std::fs::write(&file, vec![7u8; 1 << 20]).unwrap();
    target.drop_caches().unwrap();
    // Read back from the device itself, the page cache now empty.
    assert_eq!(std::fs::read(&file).unwrap(), vec![7u8; 1 << 20]);
    let fp = target.footprint().clone();
    target.teardown().unwrap();
    assert_torn_down(&fp);
}

#[test]
fn btrfs() {
    exercise("btrfs", &|t| t == "btrfs", false);
}

#[test]
fn sshfs() {
    exercise("sshfs", &|t| t == "fuse.sshfs", false);
}

#[test]
fn sshfs_20ms() {
    exercise("sshfs:20ms", &|t| t == "fuse.sshfs", false);
}

#[test]
fn exfat() {
    exercise("exfat", &|t| t.starts_with("fuse"), false);
}

#[test]
fn ntfs() {
    exercise("ntfs", &|t| t.starts_with("fuse"), false);
}

#[test]
fn fat32() {
    exercise("fat32", &|t| t.starts_with("fuse"), false);
}

#[test]
fn ext4_few_inodes() {
    exercise("ext4-few-inodes:500", &|t| t == "ext4", false);
}

#[test]
fn tmpfs_nr_inodes() {
    exercise("tmpfs-nr-inodes:500", &|t| t == "tmpfs", true);
}

#[test]
fn ulimit_nofile() {
    let expected = info::query(Path::new(env!("CARGO_TARGET_TMPDIR"))).unwrap().fs_type;
    exercise("ulimit-nofile:64", &|t| t == expected, false);
}

/// Creates empty files in `dir` until one fails (or `max` exist); how many and the error.
fn fill_with_files(dir: &Path, max: usize) -> (usize, Option<std::io::Error>) {
    for i in 0..max {
        if let Err(e) = std::fs::File::create(dir.join(format!("f{i:06}"))) {
            return (i, Some(e));
        }
    }
    (max, None)
}

/// The inode limits are real: the N+1st file fails with ENOSPC ("No space left on
/// device") while space is left, and not much before N.
#[test]
fn inode_limits_stop_file_creation() {
    for spec in ["tmpfs-nr-inodes:300", "ext4-few-inodes:300"] {
        let work = work_dir();
        let Some(target) = provision_or_skip(spec, work.path()) else { return };
        let (total, free) = info::inodes(&target.root).expect("inode counts");
        let (made, err) = fill_with_files(&target.root, 100_000);
        let err = err.unwrap_or_else(|| panic!("{spec}: 100,000 files fit"));
        println!("{spec}: {total} inodes, {free} free; {made} files, then {err}");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{spec}: {err}");
        assert!(made as u64 <= free && made as u64 + 2 >= free, "{spec}: {made} files, {free} inodes were free");
        assert!(target.info_now().unwrap().free_bytes > 1 << 20, "{spec}: space, not inodes, ran out");
        let fp = target.footprint().clone();
        target.teardown().unwrap();
        assert_torn_down(&fp);
    }
}

/// `ulimit-nofile:N` gives the run, and only the run, RLIMIT_NOFILE N.
#[test]
fn ulimit_nofile_limits_the_run() {
    let work = work_dir();
    let target = provision_or_skip("ulimit-nofile:40", work.path()).expect("needs no root");
    assert_eq!(target.nofile_limit(), Some(40));
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "ulimit -n; ulimit -Hn; echo \"$MARK\""]).env("MARK", "kept").current_dir(&target.root);
    let out = target.wrap(cmd).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "40\n40\nkept\n");
    let mine = std::process::Command::new("sh").args(["-c", "ulimit -n"]).output().unwrap();
    assert_ne!(String::from_utf8_lossy(&mine.stdout).trim(), "40", "this process is not limited");
    target.teardown().unwrap();
}

#[test]
fn user_path_is_never_removed() {
    let work = work_dir();
    let user_dir = work.path().join("mine");
    std::fs::create_dir(&user_dir).unwrap();
    std::fs::write(user_dir.join("keep.txt"), b"keep").unwrap();
    let spec = format!("mine={}", user_dir.display());
    let target = provision_or_skip(&spec, work.path()).expect("user paths need nothing");
    assert_eq!(target.spec.name(), "mine");
    assert!(target.root.starts_with(&user_dir) && target.root != user_dir);
    std::fs::write(target.root.join("x"), b"x").unwrap();
    target.teardown().unwrap();
    assert_eq!(std::fs::read(user_dir.join("keep.txt")).unwrap(), b"keep");
    assert_eq!(std::fs::read_dir(&user_dir).unwrap().count(), 1, "only the user's file remains");

    let missing = TargetSpec::parse(&format!("gone={}", work.path().join("nope").display())).unwrap();
    assert!(matches!(provision(&missing, work.path(), SIZE), Err(TargetError::Failed { .. })));
}

#[test]
fn teardown_after_panic() {
    let work = work_dir();
    let seen: std::sync::Mutex<Option<Footprint>> = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let Some(target) = provision_or_skip("xfs", work.path()) else { return };
        *seen.lock().unwrap() = Some(target.footprint().clone());
        std::fs::write(target.root.join("f"), b"data").unwrap();
        panic!("deliberate panic with xfs mounted");
    });
    let Some(fp) = seen.into_inner().unwrap() else { return };
    assert!(result.is_err(), "the closure must have panicked");
    assert_torn_down(&fp);
}

/// Seconds to create `n` files of `size` bytes in a fresh directory under `root`.
fn create_files(root: &Path, n: usize, size: usize) -> f64 {
    let dir = root.join(format!("files-{n}"));
    std::fs::create_dir(&dir).unwrap();
    let data = vec![0x5au8; size];
    let t = Instant::now();
    for i in 0..n {
        let mut f = std::fs::File::create(dir.join(format!("f{i:05}"))).unwrap();
        f.write_all(&data).unwrap();
    }
    t.elapsed().as_secs_f64()
}

#[test]
fn latency_makes_sshfs_slower() {
    let work = work_dir();
    let Some(plain) = provision_or_skip("sshfs", work.path()) else { return };
    let Some(slow) = provision_or_skip("sshfs:20ms", work.path()) else { return };
    let fast_s = create_files(&plain.root, 50, 512);
    let slow_s = create_files(&slow.root, 50, 512);
    println!("50 small files: sshfs {fast_s:.3} s, sshfs+20ms {slow_s:.3} s ({:.1}×)", slow_s / fast_s);
    assert!(slow_s >= 1.5 * fast_s, "sshfs+20ms {slow_s:.3} s vs sshfs {fast_s:.3} s");
    // Each file needs at least one round trip (2 × 20 ms).
    assert!(slow_s >= 50.0 * 0.040, "{slow_s:.3} s is less than 50 round trips of 40 ms");
}

const HELPER_ENV: &str = "CELLUCID_TARGETS_SIGTERM_HELPER";

/// Run only by `teardown_on_sigterm` (in a child process): provisions xfs, reports it
/// on stdout, and waits to be killed.
#[test]
#[ignore = "helper process for teardown_on_sigterm"]
fn sigterm_helper() {
    let Some(work) = std::env::var_os(HELPER_ENV) else { return };
    let spec = TargetSpec::Xfs;
    let target = match provision(&spec, Path::new(&work), SIZE) {
        Ok(t) => t,
        Err(TargetError::Skipped { reason, .. }) => {
            println!("HELPER-SKIPPED {reason}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let fp = target.footprint();
    println!(
        "HELPER-MOUNTED\t{}\t{}\t{}\t{}",
        fp.mount_point.as_ref().unwrap().display(),
        fp.image.as_ref().unwrap().display(),
        fp.loop_device.as_ref().unwrap().display(),
        fp.private_dir.as_ref().unwrap().display()
    );
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(120));
    drop(target);
}

#[test]
fn teardown_on_sigterm() {
    let work = work_dir();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sigterm_helper", "--ignored", "--nocapture", "--test-threads=1"])
        .env(HELPER_ENV, work.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let fp = loop {
        let Some(line) = lines.next() else { panic!("helper ended without mounting") };
        let line = line.unwrap();
        // libtest prints "test sigterm_helper ... " before the helper's own output.
        if let Some(reason) = line.split_once("HELPER-SKIPPED ").map(|(_, r)| r) {
            println!("SKIPPED xfs: {reason}");
            child.wait().unwrap();
            return;
        }
        if let Some(rest) = line.split_once("HELPER-MOUNTED\t").map(|(_, r)| r) {
            let f: Vec<PathBuf> = rest.split('\t').map(PathBuf::from).collect();
            break Footprint {
                mount_point: Some(f[0].clone()),
                image: Some(f[1].clone()),
                loop_device: Some(f[2].clone()),
                private_dir: Some(f[3].clone()),
                ..Footprint::default()
            };
        }
    };
    assert!(mounted(fp.mount_point.as_ref().unwrap()), "helper's xfs not mounted");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("helper did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "helper exit status {status}");
    assert_torn_down(&fp);
}

/// Measurements for the report (not a check): provisioning time and the rate of
/// creating 1000 files of 4 KB, per target. `cargo test --test targets -- --ignored
/// measure --nocapture`.
#[test]
#[ignore = "measurement, run by hand"]
fn measure() {
    let n: usize = std::env::var("CELLUCID_MEASURE_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let work = work_dir();
    println!("| target | fs_type | provision ms | {n} × 4 KB files s | files/s |");
    for spec in ["tmpfs", "disk", "xfs", "btrfs", "sshfs", "sshfs:20ms", "exfat", "ntfs", "fat32"] {
        let Some(target) = provision_or_skip(spec, work.path()) else { continue };
        let s = create_files(&target.root, n, 4096);
        println!(
            "| {} | {} | {:.1} | {s:.3} | {:.0} |",
            target.spec.name(),
            target.info.fs_type,
            target.footprint().provisioned_in.as_secs_f64() * 1e3,
            n as f64 / s
        );
    }
}
