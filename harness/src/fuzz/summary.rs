//! The fuzzing run's tally: one record per mutant, counts per outcome, and the text and
//! JSON the CLI prints.

use super::run::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;

/// One mutant and what it did.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub index: usize,
    /// The seed file's path.
    pub seed_file: String,
    /// `bytes` or `structure`.
    pub kind: &'static str,
    pub mutation: String,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The CLI's stderr, first 300 characters.
    pub stderr: String,
    pub detail: String,
    pub seconds: f64,
    /// Where the mutant was saved (failures and contained crashes/hangs, with --keep-failures).
    pub saved: Option<String>,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub requested: usize,
    pub run: usize,
    /// The time cap stopped the run before `requested` mutants.
    pub capped: bool,
    pub seconds: f64,
    pub seed_files: usize,
    pub counts: BTreeMap<Outcome, usize>,
    /// Mutants per kind of mutation (`bytes`, `structure`).
    pub kinds: BTreeMap<&'static str, usize>,
    /// Every mutant that was not `ok` or a clean error.
    pub notable: Vec<Record>,
}

impl Summary {
    pub fn new(seed: u64, requested: usize, seed_files: usize) -> Summary {
        Summary {
            seed,
            requested,
            run: 0,
            capped: false,
            seconds: 0.0,
            seed_files,
            counts: BTreeMap::new(),
            kinds: BTreeMap::new(),
            notable: Vec::new(),
        }
    }

    pub fn add(&mut self, r: Record) {
        self.run += 1;
        *self.counts.entry(r.outcome).or_default() += 1;
        *self.kinds.entry(r.kind).or_default() += 1;
        if !matches!(r.outcome, Outcome::Ok | Outcome::CleanError) {
            self.notable.push(r);
        }
    }

    pub fn count(&self, o: Outcome) -> usize {
        self.counts.get(&o).copied().unwrap_or(0)
    }

    pub fn failures(&self) -> usize {
        Outcome::ALL.iter().filter(|o| o.is_failure()).map(|&o| self.count(o)).sum()
    }

    /// The human summary: counts, then one line per notable mutant.
    pub fn text(&self) -> String {
        let mut s = format!(
            "fuzz: {} mutants of {} seed files (seed {}) in {:.1} s{}\n",
            self.run,
            self.seed_files,
            self.seed,
            self.seconds,
            if self.capped { format!(", stopped by the time cap before {}", self.requested) } else { String::new() }
        );
        let part = |outcomes: &mut dyn Iterator<Item = &Outcome>| {
            outcomes.map(|&o| format!("{} {}", o.name(), self.count(o))).collect::<Vec<_>>().join(", ")
        };
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        s += &format!("  mutations: {}\n", kinds.join(", "));
        s += &format!("  {}\n", part(&mut Outcome::ALL.iter().filter(|o| !o.is_failure())));
        s += &format!(
            "  failures: {} ({})\n",
            self.failures(),
            part(&mut Outcome::ALL.iter().filter(|o| o.is_failure()))
        );
        let mut notable = self.notable.clone();
        notable.sort_by_key(|r| r.index);
        for r in &notable {
            let first = r.stderr.lines().next().unwrap_or("");
            s += &format!("  #{} {} [{}] {}: {}", r.index, r.outcome.name(), r.seed_file, r.mutation, first);
            if !r.detail.is_empty() {
                s += &format!(" ({})", r.detail);
            }
            if let Some(p) = &r.saved {
                s += &format!(" → {p}");
            }
            s.push('\n');
        }
        s
    }
}
