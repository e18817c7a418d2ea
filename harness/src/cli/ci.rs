//! `cellucid-bench ci --baseline REV|BINARY [--candidate REV|BINARY] [--plan ci]
//! [--threshold 10%] [--allow-format-change] [--json] [--repeats N | --adaptive
//! [--max-pairs 40] [--max-seconds S]]`: the CI speed gate
//! (see `crate::ci`). Exit 0 when every configuration passes, 1 when one is slower
//! beyond the threshold, wrote different output, or failed to run; 2 on usage errors;
//! 3 when the wall-time gate could not judge (and nothing failed).

use crate::ci::subject::Subject;
use crate::ci::{build, report, sequential, verdict, Counter, Gate};
use crate::writer::{Peer, Writers};

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CiArgs {
    /// The reference: a cellucid-bench executable, or a git revision to build.
    #[arg(long, required_unless_present = "baseline_writer", conflicts_with = "baseline_writer")]
    pub baseline: Option<String>,
    /// The binary under test (default: this executable).
    #[arg(long, conflicts_with = "candidate_writer")]
    pub candidate: Option<String>,
    /// The reference as a writer of the registry (cellucid-bench, cellucid-py-0.9.2,
    /// cellucid-py-0.0.9, cellucid-py-0.9.5, or one from --writers), run with its own
    /// command on the plan's configurations it supports.
    #[arg(long)]
    pub baseline_writer: Option<String>,
    /// The writer under test (with --baseline-writer; default: cellucid-bench).
    #[arg(long, requires = "baseline_writer")]
    pub candidate_writer: Option<String>,
    /// More writers (TOML `[[writer]]` files), for --baseline-writer/--candidate-writer.
    #[arg(long)]
    pub writers: Vec<PathBuf>,
    /// What to measure: wall time of interleaved A/B pairs, or instructions counted by
    /// valgrind's cachegrind (deterministic: one run per binary and configuration).
    #[arg(long, value_enum, default_value = "wall")]
    pub counter: Counter,
    /// A built-in plan (ci, ci-instructions, quick, …) or a plan TOML file [default: ci,
    /// or ci-instructions with --counter instructions].
    #[arg(long)]
    pub plan: Option<String>,
    /// Slowdown allowed before failing. Wall: fail when the 95 % interval of
    /// candidate/baseline lies entirely above 1 + threshold [default: 10%]. Instructions:
    /// fail when candidate/baseline instructions exceed 1 + threshold [default: 2%].
    #[arg(long)]
    pub threshold: Option<String>,
    /// Wall time: fewer timed pairs than this make a configuration inconclusive (exit 3);
    /// 6 is the fewest that give a 95 % interval of the median at all.
    #[arg(long, default_value_t = 8)]
    pub min_pairs: usize,
    /// Wall time: a baseline median run shorter than this (milliseconds) is inconclusive:
    /// runs of a few scheduler slices are not hit alike by load on a shared machine.
    #[arg(long, default_value_t = 150.0)]
    pub min_run_ms: f64,
    /// Wall time: add pairs while a configuration is undecided, stopping as soon as its
    /// interval clears or is below the threshold; looks at --min-pairs, then doubling, up
    /// to --max-pairs, each at a Bonferroni-adjusted level so that all looks together
    /// hold at 95 % (instead of the plan's fixed repeats).
    #[arg(long, conflicts_with = "repeats")]
    pub adaptive: bool,
    /// With --adaptive: the most timed pairs per configuration (the last look) [default: 40].
    #[arg(long, requires = "adaptive")]
    pub max_pairs: Option<usize>,
    /// With --adaptive: a time budget for the A/B runs (warm-up included), in seconds: no
    /// configuration starts rounds towards a look it would reach after it (projected from
    /// its pairs so far); it is then judged on the pairs it has.
    #[arg(long, requires = "adaptive")]
    pub max_seconds: Option<f64>,
    /// With --counter instructions: no cache simulation (no D1/LL misses; ≈ 2x faster).
    #[arg(long)]
    pub no_cache_sim: bool,
    /// Report output differences (bytes, files, hash) without failing on them.
    #[arg(long)]
    pub allow_format_change: bool,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Timed A/B pairs per configuration (default: the plan's repeats).
    #[arg(long)]
    pub repeats: Option<u32>,
    /// Untimed rounds first (default: the plan's warmup).
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Cached datasets, params, built revisions and mount points.
    #[arg(long, default_value = "results/ci-work")]
    pub work_dir: PathBuf,
    /// The git repository revisions are built from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// No per-round progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: CiArgs) -> Result<ExitCode> {
    let (default_plan, default_threshold) = match a.counter {
        Counter::Wall => ("ci", "10%"),
        Counter::Instructions => ("ci-instructions", "2%"),
    };
    let threshold = verdict::parse_threshold(a.threshold.as_deref().unwrap_or(default_threshold)).map_err(|e| anyhow::anyhow!("--threshold: {e}"))?;
    let mut plan = super::load_plan(a.plan.as_deref().unwrap_or(default_plan))?;
    if let Some(r) = a.repeats {
        if r == 0 {
            bail!("--repeats must be at least 1");
        }
        plan.repeats = r;
    }
    if !(a.min_run_ms.is_finite() && a.min_run_ms >= 0.0) {
        bail!("--min-run-ms must be a number of milliseconds, 0 or more");
    }
    if let Some(w) = a.warmup {
        plan.warmup = w;
    }
    let adaptive = match (a.adaptive, a.counter) {
        (false, _) => None,
        (true, Counter::Instructions) => bail!("--adaptive is for wall time: instruction counts do not vary between runs"),
        (true, Counter::Wall) => Some(sequential::Design::new(a.min_pairs, a.max_pairs.unwrap_or(sequential::DEFAULT_MAX_PAIRS), a.max_seconds)?),
    };
    let work_dir = std::path::absolute(&a.work_dir).with_context(|| format!("cannot resolve {}", a.work_dir.display()))?;
    let (baseline, candidate) = subjects(&a, &work_dir)?;
    let gate = Gate {
        plan,
        baseline,
        candidate,
        work_dir,
        threshold,
        allow_format_change: a.allow_format_change,
        progress: !a.quiet,
        counter: a.counter,
        cache_sim: !a.no_cache_sim,
        min_pairs: a.min_pairs,
        min_run_s: a.min_run_ms / 1e3,
        adaptive,
    };
    let (meta, v) = gate.run()?;
    let md = report::markdown(&meta, &v);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report::json(&meta, &v))?);
    } else {
        print!("{md}");
    }
    report::append_step_summary(&md).context("cannot append to $GITHUB_STEP_SUMMARY")?;
    Ok(ExitCode::from(v.exit_status()))
}

/// The two sides: writers of the registry (set up, version probed), or binaries.
fn subjects(a: &CiArgs, work_dir: &std::path::Path) -> Result<(Subject, Subject)> {
    if let Some(base) = &a.baseline_writer {
        let mut all = Writers::builtin(&Peer::default_location());
        all.add_files(&a.writers).map_err(|e| anyhow::anyhow!("{e}"))?;
        let writer = |name: &str| -> Result<Subject> {
            let w = all.get(name).map_err(|e| anyhow::anyhow!("{e}"))?.clone();
            let info = crate::sweep::provision::writer_ready(&w, work_dir)?;
            Ok(Subject::Writer { writer: w, version: info.version })
        };
        return Ok((writer(base)?, writer(a.candidate_writer.as_deref().unwrap_or(crate::writer::OURS))?));
    }
    let builds = work_dir.join("builds");
    let base = a.baseline.as_deref().context("--baseline or --baseline-writer is required")?;
    let baseline = build::resolve(base, &a.repo, &builds)?;
    let candidate = match &a.candidate {
        Some(c) => build::resolve(c, &a.repo, &builds)?,
        None => {
            let path = std::env::current_exe().context("cannot locate this executable")?;
            build::Resolved { origin: format!("this binary {}", path.display()), path }
        }
    };
    Ok((Subject::Binary(baseline), Subject::Binary(candidate)))
}
