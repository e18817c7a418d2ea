//! The `cellucid-bench` binary; everything lives in the library (`src/lib.rs`).

fn main() -> std::process::ExitCode {
    cellucid_bench::run()
}
