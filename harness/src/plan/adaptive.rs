//! Adaptive repeats: a cell is run again (in further interleaved rounds) until the 95 %
//! interval of its median wall time is narrow enough, or its budget is spent.
//!
//! ```toml
//! [adaptive]
//! interval = 0.05        # stop when the median's 95 % interval is within ±5 % of it
//! max_repeats = 12       # ... or after this many timed runs
//! max_cell_seconds = 60  # ... or once the cell's timed runs took this long together
//! ```
//!
//! The interval is distribution-free (order statistics of the binomial, see
//! `cellucid_reports::stats::median_interval`): run times are skewed (a run can be
//! slowed by a neighbour, never sped up), so a t interval of the mean would be too
//! narrow on the slow side. Such an interval has 95 % coverage only from 6 runs on, so a
//! cell stops for its interval after 6 runs at the earliest; the plan's `repeats` stays
//! the minimum. Every stop is recorded on the cell's last stored sample
//! (`Sample::stopped`) with its reason.

use super::error::PlanError;
pub use cellucid_reports::stats::relative_half_width;
use toml::Value;

/// The `[adaptive]` table of a plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adaptive {
    /// Target half-width of the median's 95 % interval, relative to the median.
    pub interval: f64,
    /// Most timed runs of one cell.
    pub max_repeats: u32,
    /// Most seconds of timed runs of one cell, all runs together.
    pub max_cell_seconds: f64,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive { interval: 0.05, max_repeats: 12, max_cell_seconds: 60.0 }
    }
}

/// Why a cell stopped being repeated.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// The interval reached the target.
    Converged { runs: usize, half_width: f64 },
    /// `max_repeats` runs without reaching it.
    MaxRepeats { runs: usize, half_width: Option<f64> },
    /// `max_cell_seconds` spent without reaching it.
    Budget { runs: usize, seconds: f64, half_width: Option<f64> },
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pm = |h: &Option<f64>| h.map_or("no 95 % interval yet".to_string(), |h| format!("±{:.1} %", h * 100.0));
        match self {
            Stop::Converged { runs, half_width } => write!(f, "converged: 95 % interval of the median ±{:.1} % after {runs} runs", half_width * 100.0),
            Stop::MaxRepeats { runs, half_width } => write!(f, "max_repeats: {runs} runs, interval {}", pm(half_width)),
            Stop::Budget { runs, seconds, half_width } => write!(f, "budget: {seconds:.1} s of runs after {runs} runs, interval {}", pm(half_width)),
        }
    }
}

impl Adaptive {
    /// Whether a cell with these timed wall times (successful runs, in order) stops now,
    /// and why; `None`: run it again. `min_runs` is the plan's `repeats`.
    pub fn decide(&self, walls: &[f64], min_runs: usize) -> Option<Stop> {
        let runs = walls.len();
        if runs < min_runs {
            return None;
        }
        let half_width = relative_half_width(walls);
        if half_width.is_some_and(|h| h <= self.interval) {
            return half_width.map(|h| Stop::Converged { runs, half_width: h });
        }
        if runs >= self.max_repeats as usize {
            return Some(Stop::MaxRepeats { runs, half_width });
        }
        let seconds: f64 = walls.iter().sum();
        // Stop when the next run would, at the median pace, exceed the budget.
        let median = cellucid_reports::stats::median(walls).unwrap_or(0.0);
        if seconds + median > self.max_cell_seconds {
            return Some(Stop::Budget { runs, seconds, half_width });
        }
        None
    }
}

/// Parses `[adaptive]` (every key optional, defaults as [`Adaptive::default`]).
pub(super) fn parse(v: Option<&Value>) -> Result<Option<Adaptive>, PlanError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.as_table().ok_or_else(|| PlanError::invalid("adaptive", Some(v.to_string()), "must be a table"))?;
    super::parse::check_keys(t, "[adaptive]", &[&["interval", "max_repeats", "max_cell_seconds"]])?;
    let number = |key: &str| t.get(key).map(|x| (x, x.as_float().or_else(|| x.as_integer().map(|i| i as f64))));
    let mut a = Adaptive::default();
    if let Some((x, n)) = number("interval") {
        a.interval = n.filter(|n| n.is_finite() && *n > 0.0 && *n < 1.0).ok_or_else(|| {
            PlanError::invalid("adaptive.interval", Some(x.to_string()), "must be a fraction of the median between 0 and 1, e.g. 0.05")
        })?;
    }
    if let Some((x, n)) = number("max_repeats") {
        let ok = x.as_integer().filter(|&i| i >= 1 && i <= 1000).map(|i| i as u32);
        a.max_repeats = ok.filter(|_| n.is_some()).ok_or_else(|| PlanError::invalid("adaptive.max_repeats", Some(x.to_string()), "must be an integer from 1 to 1000"))?;
    }
    if let Some((x, n)) = number("max_cell_seconds") {
        a.max_cell_seconds = n
            .filter(|n| n.is_finite() && *n > 0.0)
            .ok_or_else(|| PlanError::invalid("adaptive.max_cell_seconds", Some(x.to_string()), "must be a positive number of seconds"))?;
    }
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_95_interval_below_six_runs() {
        assert_eq!(relative_half_width(&[1.0; 5]), None);
        assert_eq!(relative_half_width(&[1.0; 6]), Some(0.0));
        // 6 runs: the interval is (x_(1), x_(6)), the whole range.
        let h = relative_half_width(&[0.9, 1.0, 1.0, 1.0, 1.0, 1.2]).unwrap();
        assert!((h - 0.2).abs() < 1e-12, "{h}");
    }

    #[test]
    fn stops_when_tight_runs_again_when_loose_and_gives_up_at_the_limits() {
        let a = Adaptive { interval: 0.05, max_repeats: 10, max_cell_seconds: 100.0 };
        assert_eq!(a.decide(&[1.0, 1.0, 1.0], 3), None, "3 runs: no 95 % interval yet");
        let tight = [1.0, 1.01, 0.99, 1.02, 1.0, 0.98];
        assert!(matches!(a.decide(&tight, 3), Some(Stop::Converged { runs: 6, .. })));
        let loose = [1.0, 1.3, 0.8, 1.2, 1.0, 0.7];
        assert_eq!(a.decide(&loose, 3), None);
        let ten = [1.0, 1.3, 0.8, 1.2, 1.0, 0.7, 1.4, 0.6, 1.25, 0.75];
        assert!(matches!(a.decide(&ten, 3), Some(Stop::MaxRepeats { runs: 10, half_width: Some(_) })));
        let slow = Adaptive { max_cell_seconds: 4.5, ..a };
        let s = slow.decide(&[1.0, 1.3, 0.8, 1.2], 3).unwrap();
        assert!(s.to_string().starts_with("budget: 4.3 s of runs after 4 runs, interval no 95 % interval yet"), "{s}");
        assert_eq!(a.decide(&[1.0, 1.0], 3), None, "the plan's repeats are the minimum");
    }

    #[test]
    fn parses_with_defaults_and_refuses_nonsense() {
        let v: toml::Table = toml::from_str("[adaptive]\ninterval = 0.1\n").unwrap();
        let a = parse(v.get("adaptive")).unwrap().unwrap();
        assert_eq!(a, Adaptive { interval: 0.1, ..Adaptive::default() });
        for bad in ["interval = 5", "max_repeats = 0", "max_repeats = 2.5", "max_cell_seconds = -1", "intervall = 0.1"] {
            let v: toml::Table = toml::from_str(&format!("[adaptive]\n{bad}\n")).unwrap();
            let e = parse(v.get("adaptive")).unwrap_err().to_string();
            assert!(e.contains("adaptive") || e.contains("intervall"), "{bad}: {e}");
        }
        assert_eq!(parse(None).unwrap(), None);
    }
}
