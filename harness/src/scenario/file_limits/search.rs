//! The search for the largest gene count that exports: doubling from a start until an
//! export fails or the cap is reached, then bisecting between the largest success and
//! the smallest failure until they are within 1/16 of each other (or 8 genes), all
//! within a time budget. Each step is one real export, so the steps are few: from 64
//! genes to a limit near 2,000 it takes 6 doublings and 4 bisections.

use std::time::{Duration, Instant};

/// Where the search starts and stops.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub start: usize,
    /// The largest gene count tried: a target whose limit lies beyond has none here.
    pub max: usize,
    /// No new step starts after this much time; the bracket found so far is kept.
    pub budget: Duration,
}

/// What the search found; `F` is what a failed step reports.
#[derive(Debug)]
pub struct Bracket<F> {
    /// The largest gene count that exported (`None`: not even the smallest tried).
    pub largest_ok: Option<usize>,
    /// The smallest gene count that failed, with its failure (`None`: every step up to
    /// the cap exported).
    pub first_failing: Option<(usize, F)>,
    /// Exports run.
    pub steps: usize,
    /// False when the budget ran out before the bracket was resolved.
    pub complete: bool,
}

/// Whether a bracket is narrow enough: within 1/16 of the success, or 8 genes.
fn resolved(ok: usize, failing: usize) -> bool {
    failing - ok <= (ok / 16).max(8)
}

/// Runs the search; `step(genes)` exports that many genes and returns `None` on success
/// or the failure. An `Err` from `step` (the harness could not run it) ends the search.
pub fn search<F>(bounds: Bounds, mut step: impl FnMut(usize) -> anyhow::Result<Option<F>>) -> anyhow::Result<Bracket<F>> {
    let started = Instant::now();
    let mut b = Bracket { largest_ok: None, first_failing: None, steps: 0, complete: false };
    let mut genes = bounds.start.clamp(1, bounds.max.max(1));
    // Doubling.
    loop {
        if started.elapsed() >= bounds.budget {
            return Ok(b);
        }
        b.steps += 1;
        match step(genes)? {
            None => {
                b.largest_ok = Some(genes);
                if genes >= bounds.max {
                    b.complete = true;
                    return Ok(b);
                }
                genes = (genes * 2).min(bounds.max);
            }
            Some(f) => {
                b.first_failing = Some((genes, f));
                break;
            }
        }
    }
    // Bisection (below the start too, when even the start failed).
    while let Some((failing, _)) = &b.first_failing {
        let (ok, failing) = (b.largest_ok.unwrap_or(0), *failing);
        if resolved(ok, failing) || failing - ok < 2 {
            b.complete = true;
            break;
        }
        if started.elapsed() >= bounds.budget {
            break;
        }
        let mid = ok + (failing - ok) / 2;
        b.steps += 1;
        match step(mid)? {
            None => b.largest_ok = Some(mid),
            Some(f) => b.first_failing = Some((mid, f)),
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(start: usize, max: usize) -> Bounds {
        Bounds { start, max, budget: Duration::from_secs(3600) }
    }

    /// A step that fails above `limit`, counting its calls.
    fn limited(limit: usize, calls: &mut Vec<usize>) -> impl FnMut(usize) -> anyhow::Result<Option<String>> + '_ {
        move |g| {
            calls.push(g);
            Ok((g > limit).then(|| format!("{g} > {limit}")))
        }
    }

    #[test]
    fn brackets_the_limit_to_a_sixteenth() {
        let mut calls = Vec::new();
        let b = search(bounds(64, 65_536), limited(1_990, &mut calls)).unwrap();
        let (ok, (failing, why)) = (b.largest_ok.unwrap(), b.first_failing.unwrap());
        assert!(ok <= 1_990 && failing > 1_990, "{ok}..{failing}");
        assert!(failing - ok <= (ok / 16).max(8), "{ok}..{failing}");
        assert_eq!(why, format!("{failing} > 1990"));
        assert!(b.complete);
        assert_eq!(&calls[..6], &[64, 128, 256, 512, 1024, 2048]);
        assert_eq!(b.steps, calls.len());
        assert!(calls.len() <= 11, "{calls:?}");
    }

    #[test]
    fn no_limit_below_the_cap() {
        let mut calls = Vec::new();
        let b = search(bounds(64, 1_000), limited(usize::MAX, &mut calls)).unwrap();
        assert_eq!(b.largest_ok, Some(1_000));
        assert!(b.first_failing.is_none() && b.complete);
        assert_eq!(calls, [64, 128, 256, 512, 1_000]);
    }

    #[test]
    fn a_failing_start_is_searched_below() {
        let mut calls = Vec::new();
        let b = search(bounds(64, 1_000), limited(20, &mut calls)).unwrap();
        let (ok, failing) = (b.largest_ok.unwrap(), b.first_failing.unwrap().0);
        assert!(ok <= 20 && failing > 20 && failing - ok <= 8, "{ok}..{failing}");
        let mut nothing = Vec::new();
        let b = search(bounds(64, 1_000), limited(0, &mut nothing)).unwrap();
        assert_eq!(b.largest_ok, None);
        assert!(b.first_failing.unwrap().0 <= 8);
    }

    #[test]
    fn the_budget_stops_new_steps() {
        let mut calls = Vec::new();
        let b = search(Bounds { start: 64, max: 65_536, budget: Duration::ZERO }, limited(1_990, &mut calls)).unwrap();
        assert!(calls.is_empty() && !b.complete && b.largest_ok.is_none());
    }

    #[test]
    fn a_harness_error_ends_the_search() {
        let r = search(bounds(64, 1_000), |_| -> anyhow::Result<Option<()>> { anyhow::bail!("cannot run") });
        assert!(r.is_err());
    }
}
