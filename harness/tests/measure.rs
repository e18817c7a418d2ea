//! Child-process measurement through the real binary as launcher.

use cellucid_bench::benchmark::executor::Executor;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn executor() -> Executor {
    Executor::with_launcher(Path::new(env!("CARGO_BIN_EXE_cellucid-bench")))
}

#[test]
fn a_tiny_child_reports_a_tiny_peak_while_the_parent_is_large() {
    // The parent holds 300 MB, touched; the child's peak must not inherit it.
    let big = vec![1u8; 300 << 20];
    let r = executor().run(&Command::new("true")).expect("run true");
    assert!(r.success());
    assert!(r.max_rss < 16 << 20, "peak RSS {} bytes", r.max_rss);
    assert_eq!(big.iter().step_by(4096).map(|&b| b as u64).sum::<u64>(), (300 << 20) / 4096);
}

#[test]
fn a_large_child_reports_its_own_peak() {
    // python allocates ~200 MB and touches it.
    let r = executor().run(Command::new("python3").args(["-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"])).expect("run");
    assert!(r.success(), "{}", r.stderr);
    assert!(r.max_rss > 190 << 20 && r.max_rss < 300 << 20, "peak RSS {} bytes", r.max_rss);
}

#[test]
fn exit_codes_signals_output_and_cpu_are_the_childs() {
    let r = executor().run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"])).expect("run sh");
    assert_eq!(r.code, Some(3));
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.error_line(), "err");
    let r = executor().run(Command::new("sh").args(["-c", "kill -9 $$"])).expect("run sh");
    assert_eq!((r.code, r.signal), (None, Some(9)));
    assert_eq!(r.error_line(), "killed by signal 9");
    let r = executor().run(Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])).expect("run");
    assert!(r.user + r.sys > Duration::from_millis(50), "user {:?} sys {:?}", r.user, r.sys);
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let e = executor().run(&Command::new("/nonexistent/program")).expect_err("nothing to run");
    assert!(e.to_string().contains("cannot run /nonexistent/program"), "{e}");
}
