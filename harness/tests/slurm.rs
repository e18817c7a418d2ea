//! scripts/slurm/sweep-array.sh on a real Slurm: a one-node cluster on 127.0.0.1 (munged,
//! slurmctld and slurmd from Debian's munge and slurm-wlm, started by the test with a
//! generated slurm.conf, munge key, state and logs in a temporary directory, and stopped
//! by a guard, also when the test panics) runs a tiny plan as a two-task job array. The
//! shard stores are named after the plan file, and merged they hold exactly the cells and
//! runs of the same plan swept in one process.
//!
//! Needs root (the test's daemons run as root, and slurmd starts jobs as their submitter)
//! and the packages (`scripts/install-slurm.sh`); without them the test prints why and
//! passes.

mod support;

use cellucid_bench::store::{self, Sample};
use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{bin, is_root};

/// Four cells of 300 cells × 40 genes on the `disk` target (a directory under the work
/// dir: no mount, no root needed by the sweep itself), two shards of two cells each.
const PLAN: &str = r#"
name = "slurm-tiny"
description = "scripts/slurm/sweep-array.sh on a one-node Slurm (harness/tests/slurm.rs)"
seed = 5
repeats = 2
warmup = 1
mode = "factorial"

[axes]
cells = 300
genes = 40
density = 0.1
var_quantization = 8
compression = 6
target = "disk"
writer = "cellucid-bench"

[[block]]
name = "codecs"
var_quantization = ["none", 8]
compression = ["none", 6]
"#;

/// How long the job array may take before the test fails with the cluster's logs.
const JOB_TIMEOUT: Duration = Duration::from_secs(180);

/// Where a tool is: PATH, then the sbin directories (a root shell's PATH may lack them).
fn find(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn tool(name: &str) -> PathBuf {
    find(name).unwrap_or_else(|| panic!("{name} not found"))
}

/// Why the test cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    if !is_root() {
        return Some("needs root: the test's munged, slurmctld and slurmd run as root".into());
    }
    for name in ["slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo", "scancel"] {
        if find(name).is_none() {
            return Some(format!("{name} not installed (Debian packages slurm-wlm and munge: scripts/install-slurm.sh)"));
        }
    }
    None
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slurm/sweep-array.sh")
}

/// Two distinct ports nobody listens on now (both held open while picking).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

/// A running one-node cluster. Dropping it cancels its jobs and ends every process that
/// belongs to it: its daemons, and everything whose environment names its slurm.conf
/// (slurmstepd and the jobs' processes, which slurmd does not end when it stops).
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    children: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        for sub in ["munge", "state", "spool", "logs"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // munged refuses a socket in a directory that other users cannot enter, and a
        // key that anyone but its owner can read.
        for d in [dir.to_path_buf(), dir.join("munge")] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut key = vec![0u8; 1024];
        fs::File::open("/dev/urandom").unwrap().read_exact(&mut key).unwrap();
        let key_file = dir.join("munge/munge.key");
        fs::OpenOptions::new().write(true).create_new(true).mode(0o400).open(&key_file).unwrap().write_all(&key).unwrap();
        let socket = dir.join("munge/munge.socket");
        let conf = dir.join("slurm.conf");
        let (ctld_port, slurmd_port) = free_ports();
        fs::write(&conf, slurm_conf(dir, &socket, ctld_port, slurmd_port)).unwrap();

        let mut c = Cluster { dir: dir.to_path_buf(), conf: conf.clone(), children: Vec::new() };
        let m = |f: &str| dir.join("munge").join(f).display().to_string();
        c.spawn(
            "munged",
            &[
                "--foreground".into(),
                "--force".into(),
                format!("--socket={}", socket.display()),
                format!("--key-file={}", key_file.display()),
                format!("--pid-file={}", m("munged.pid")),
                format!("--log-file={}", dir.join("logs/munged.log").display()),
                format!("--seed-file={}", m("munged.seed")),
            ],
        );
        c.wait_for("munged's socket", Duration::from_secs(20), |_| socket.exists());
        let conf_arg = conf.display().to_string();
        c.spawn("slurmctld", &["-D".into(), "-f".into(), conf_arg.clone()]);
        c.spawn("slurmd", &["-D".into(), "-f".into(), conf_arg, "-N".into(), "localhost".into()]);
        c.wait_for("the node to be idle", Duration::from_secs(60), |c| {
            c.cmd("sinfo").args(["-h", "-N", "-o", "%T"]).output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        c
    }

    /// A daemon as a child process, its output in logs/NAME.out, its environment marked
    /// with this cluster's SLURM_CONF (so that `members` finds it and its descendants).
    fn spawn(&mut self, name: &'static str, args: &[String]) {
        let log = fs::File::create(self.dir.join(format!("logs/{name}.out"))).unwrap();
        let child = self
            .cmd(name)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.children.push((name, child));
    }

    /// A Slurm tool (or daemon) talking to this cluster.
    fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(tool(name));
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// Polls `ready` until it holds; fails with the logs when a daemon exits or time is up.
    fn wait_for(&mut self, what: &str, timeout: Duration, ready: impl Fn(&Cluster) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if ready(self) {
                return;
            }
            let exited = self.children.iter_mut().find_map(|(name, child)| child.try_wait().ok().flatten().map(|s| format!("{name} exited ({s})")));
            if let Some(exited) = exited {
                panic!("{exited} while waiting for {what}\n{}", self.report());
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}\n{}", self.report());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The queue, the node, and the tail of every log (daemons' and jobs'), for a failure.
    fn report(&self) -> String {
        let mut r = String::new();
        for args in [&["squeue", "-a"][..], &["sinfo", "-N", "-l"], &["scontrol", "show", "job"], &["scontrol", "show", "node"]] {
            if find(args[0]).is_none() {
                continue;
            }
            if let Ok(o) = self.cmd(args[0]).args(&args[1..]).output() {
                r += &format!("--- {}\n{}{}", args.join(" "), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            }
        }
        let mut logs: Vec<PathBuf> = fs::read_dir(self.dir.join("logs")).into_iter().flatten().flatten().map(|e| e.path()).collect();
        logs.sort();
        for p in logs {
            let text = fs::read_to_string(&p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            r += &format!("--- {} (last 60 lines)\n{}\n", p.display(), lines[lines.len().saturating_sub(60)..].join("\n"));
        }
        r
    }

    fn queue_is_empty(&self) -> bool {
        match self.cmd("squeue").args(["-h", "-o", "%i"]).output() {
            Ok(o) if o.status.success() => o.stdout.iter().all(u8::is_ascii_whitespace),
            // No controller to ask: nothing more will be cancelled by waiting.
            _ => true,
        }
    }

    /// Processes whose environment holds this cluster's `SLURM_CONF` (zombies have none).
    fn members(&self) -> Vec<i32> {
        let marker = format!("SLURM_CONF={}", self.conf.display()).into_bytes();
        let me = std::process::id() as i32;
        fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != me)
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_slice()))
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Cancel the jobs first, so that a sweep still running tears its targets down.
        let controller_up = self.children.iter_mut().any(|(name, c)| *name == "slurmctld" && matches!(c.try_wait(), Ok(None)));
        if controller_up {
            let _ = self.cmd("scancel").args(["--user", "root"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && !self.queue_is_empty() {
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        // Then every process of the cluster: SIGTERM, up to 5 s to exit, then SIGKILL.
        for signal in [libc::SIGTERM, libc::SIGKILL] {
            let mut pids = self.members();
            pids.extend(self.children.iter_mut().filter_map(|(_, c)| matches!(c.try_wait(), Ok(None)).then(|| c.id() as i32)));
            for pid in &pids {
                // SAFETY: kill has no memory-safety preconditions; these pids were just seen
                // as this cluster's processes (a reused pid within this loop is not a risk
                // worth a pidfd in a test).
                unsafe { libc::kill(*pid, signal) };
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let children_done = self.children.iter_mut().all(|(_, c)| !matches!(c.try_wait(), Ok(None)));
                if (children_done && self.members().is_empty()) || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        for (_, c) in &mut self.children {
            let _ = c.wait();
        }
        let left = self.members();
        if !left.is_empty() {
            eprintln!("slurm test: processes of the test cluster still running after SIGKILL: {left:?}");
        }
    }
}

/// One node (localhost, 2 CPUs, 2 GiB) in one partition, munge authentication through the
/// test's own munged, no accounting, no cgroups (process tracking by /proc), everything it
/// writes under `dir`.
fn slurm_conf(dir: &Path, socket: &Path, ctld_port: u16, slurmd_port: u16) -> String {
    let d = dir.display();
    format!(
        "# Generated by harness/tests/slurm.rs for one test run.\n\
         ClusterName=cellucid\n\
         SlurmctldHost=localhost(127.0.0.1)\n\
         SlurmctldPort={ctld_port}\n\
         SlurmdPort={slurmd_port}\n\
         SlurmUser=root\n\
         AuthType=auth/munge\n\
         CredType=cred/munge\n\
         AuthInfo=socket={socket}\n\
         StateSaveLocation={d}/state\n\
         SlurmdSpoolDir={d}/spool\n\
         SlurmctldPidFile={d}/slurmctld.pid\n\
         SlurmdPidFile={d}/slurmd.pid\n\
         SlurmctldLogFile={d}/logs/slurmctld.log\n\
         SlurmdLogFile={d}/logs/slurmd.log\n\
         SlurmctldDebug=info\n\
         SlurmdDebug=info\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         AccountingStorageType=accounting_storage/none\n\
         JobCompType=jobcomp/none\n\
         SchedulerType=sched/backfill\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_CPU_Memory\n\
         # The node is what this file says, whatever the machine has.\n\
         SlurmdParameters=config_overrides\n\
         ReturnToService=2\n\
         MailProg=/bin/true\n\
         NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=2048 State=UNKNOWN\n\
         PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n",
        socket = socket.display()
    )
}

fn runs(samples: &[Sample]) -> BTreeSet<(String, u32)> {
    samples.iter().map(|s| (s.cell_id.clone(), s.repeat)).collect()
}

fn read_store(path: &Path) -> (store::Header, Vec<Sample>) {
    store::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_job_array_runs_the_shards_of_a_plan_and_they_merge_into_the_whole_plan() {
    if let Some(why) = unavailable() {
        eprintln!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // munged wants the way to its socket open to every user.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // A plan given by a path: its directories must not end up in the stores' names.
    fs::create_dir(tmp.path().join("plans")).unwrap();
    let plan = tmp.path().join("plans/slurm-tiny.toml");
    fs::write(&plan, PLAN).unwrap();

    // The same plan in one process on this machine: what the shards must add up to.
    let direct = tmp.path().join("direct.jsonl");
    let o = bin()
        .args(["sweep", "--plan"])
        .arg(&plan)
        .arg("--out")
        .arg(&direct)
        .arg("--work-dir")
        .arg(tmp.path().join("work-direct"))
        .output()
        .unwrap();
    assert!(o.status.success(), "direct sweep: {}", String::from_utf8_lossy(&o.stderr));

    let cluster = Cluster::start(&tmp.path().join("slurm"));
    let out_dir = tmp.path().join("stores");
    let mut sbatch = cluster
        .cmd("sbatch")
        .args(["--wait", "--parsable", "--array=0-1", "--cpus-per-task=1", "--mem=500M"])
        .arg(format!("--output={}/job-%A_%a.out", cluster.dir.join("logs").display()))
        .arg(script())
        .arg(&plan)
        .env("CELLUCID_BENCH", env!("CARGO_BIN_EXE_cellucid-bench"))
        .env("OUT_DIR", &out_dir)
        .env("CELLUCID_WORK_DIR", tmp.path().join("work"))
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let submitted = Instant::now();
    let status = loop {
        if let Some(status) = sbatch.try_wait().unwrap() {
            break status;
        }
        if submitted.elapsed() > JOB_TIMEOUT {
            let _ = sbatch.kill();
            let _ = sbatch.wait();
            panic!("the job array did not finish within {JOB_TIMEOUT:?}\n{}", cluster.report());
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let job_s = submitted.elapsed().as_secs_f64();
    let o = sbatch.wait_with_output().unwrap();
    // `--parsable`: sbatch prints the job id.
    let job = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        status.success(),
        "sbatch --wait: {status}\n{}{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        cluster.report()
    );

    // One store per task, named by the plan file's stem.
    let names: BTreeSet<String> = fs::read_dir(&out_dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", out_dir.display(), cluster.report()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want: BTreeSet<String> = ["slurm-tiny.shard0.jsonl", "slurm-tiny.shard1.jsonl"].map(String::from).into();
    assert_eq!(names, want, "{}", cluster.report());
    let shards: Vec<PathBuf> = want.iter().map(|n| out_dir.join(n)).collect();
    for (i, path) in shards.iter().enumerate() {
        let (header, samples) = read_store(path);
        assert_eq!(header.shard, Some((i, 2)), "{}", path.display());
        assert!(!samples.is_empty(), "shard {i} ran no cell");
        for s in &samples {
            assert!(s.ok, "shard {i}: {}: {:?}", s.label, s.error);
        }
    }

    let merged = tmp.path().join("merged.jsonl");
    let o = bin().arg("merge").args(&shards).arg("--out").arg(&merged).output().unwrap();
    assert!(o.status.success(), "merge: {}", String::from_utf8_lossy(&o.stderr));
    let (header, merged_samples) = read_store(&merged);
    let (direct_header, direct_samples) = read_store(&direct);
    assert_eq!((header.plan.as_str(), header.shard), (direct_header.plan.as_str(), None));
    assert_eq!(runs(&merged_samples), runs(&direct_samples), "the shards together are the plan");
    assert_eq!(merged_samples.len(), direct_samples.len(), "no run stored twice");
    assert!(merged_samples.iter().all(|s| s.ok));
    drop(cluster);
    let per_shard: Vec<usize> = shards.iter().map(|p| read_store(p).1.len()).collect();
    eprintln!(
        "slurm test: job {job}, array of {} tasks, shard samples {per_shard:?}, merged {} samples = one-machine sweep {} samples, {} distinct cells",
        shards.len(),
        merged_samples.len(),
        direct_samples.len(),
        runs(&merged_samples).iter().map(|r| &r.0).collect::<BTreeSet<_>>().len()
    );
    eprintln!("slurm test: the job array took {job_s:.1} s, the whole test {:.1} s", started.elapsed().as_secs_f64());
}
