//! `recommend`'s model: time, bytes and files of an export as functions of cells and
//! exported genes, fitted per setting (quantization × codec) from observations, and the
//! choice of the best setting and gene panel within a time and disk budget.
//!
//! Per setting, with N cells and G exported genes:
//! - time  ≈ a + b·N·G + c·G + d·N (fixed cost, per value, per gene file, per cell);
//! - bytes ≈ e + f·N·G + h·N (manifests, gene payloads at the setting's bytes per value
//!   for the observed density, per-cell obs/embedding payloads);
//! - files ≈ G + k.
//!
//! Coefficients are least squares, constrained to be non-negative by dropping a term
//! whose coefficient comes out negative and refitting (a negative per-value cost would
//! make large predictions nonsense). Observations come from a quick calibration (the
//! CLI exports synthetic data into the target) or from stored results.

use crate::model::{quant_label, Codec, Sample};
use crate::stats::{self, least_squares};
use serde::Serialize;

/// What an export may cost.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Budget {
    pub time_s: f64,
    pub disk_bytes: f64,
}

impl Default for Budget {
    /// The guide's implicit "reasonable export": at most 5 minutes and 2 GB.
    fn default() -> Budget {
        Budget { time_s: 300.0, disk_bytes: 2e9 }
    }
}

/// A quantization and codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Setting {
    pub var_quantization: Option<u8>,
    #[serde(skip)]
    pub codec: Codec,
}

impl Setting {
    pub fn label(&self) -> String {
        format!("{} {}", quant_label(self.var_quantization), self.codec.label())
    }

    /// The `cellucid-bench export` flags for this setting.
    pub fn flags(&self) -> String {
        let mut f = Vec::new();
        if let Some(b) = self.var_quantization {
            f.push(format!("--var-quantization {b}"));
        }
        if let Codec::Gzip(l) = self.codec {
            f.push(format!("--compression {l}"));
        }
        f.join(" ")
    }
}

/// One measured export.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub setting: Setting,
    pub cells: f64,
    pub genes_exported: f64,
    pub time_s: f64,
    pub bytes: f64,
    pub files: f64,
}

impl Observation {
    /// From a stored sample (our writer, buffered, warm cache, all genes; else `None`).
    /// Gene panels are left out: a panel's export still reads (and, from CSR, converts)
    /// the whole matrix, a cost of all the input's genes that the model's terms in
    /// exported genes cannot carry. Fitted with the `guide` plan's 200k-cell panels
    /// included, the q8 gzip 6 model predicted 15.6 s for a 500k × 1,000 export that
    /// took 4.3 s.
    pub fn from_sample(s: &Sample) -> Option<Observation> {
        if s.writer != crate::model::OURS {
            return None;
        }
        Observation::from_run(s)
    }

    /// As [`Observation::from_sample`], for a run of any writer (the caller keeps one
    /// writer's runs apart from another's).
    pub fn from_run(s: &Sample) -> Option<Observation> {
        if s.durable()
            || s.cold()
            || s.obs_quantization().is_some()
            || s.edges_per_cell() > 0.0
            || s.gene_panel().is_some()
        {
            return None;
        }
        Some(Observation {
            setting: Setting { var_quantization: s.var_quantization(), codec: s.codec() },
            cells: s.cells() as f64,
            genes_exported: s.genes_exported() as f64,
            time_s: s.wall_s,
            bytes: s.bytes_apparent as f64,
            files: s.files as f64,
        })
    }
}

/// Fitted coefficients of one setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingModel {
    pub setting: String,
    /// `[fixed, per value, per gene, per cell]`, seconds.
    pub time: [f64; 4],
    /// `[fixed, per value, per cell]`, bytes.
    pub bytes: [f64; 3],
    /// Files beyond one per exported gene.
    pub extra_files: f64,
    /// Distinct sizes fitted (each the median of its observations).
    pub observations: usize,
    /// Largest |fitted / measured − 1| of the time over the fitted sizes: how well the
    /// model's form matches this machine (a few % when the points were measured in an
    /// interleaved order; tens of % when a drift of the machine hit some points only).
    pub time_fit_error: f64,
    #[serde(skip)]
    pub key: Setting,
}

impl SettingModel {
    pub fn predict(&self, cells: f64, genes: f64) -> Prediction {
        let t = self.time;
        let b = self.bytes;
        Prediction {
            time_s: t[0] + t[1] * cells * genes + t[2] * genes + t[3] * cells,
            bytes: b[0] + b[1] * cells * genes + b[2] * cells,
            files: genes + self.extra_files,
        }
    }

    /// Bytes per exported value (the fitted per-value term).
    pub fn bytes_per_value(&self) -> f64 {
        self.bytes[1]
    }
}

/// Predicted cost of one export.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub time_s: f64,
    pub bytes: f64,
    pub files: f64,
}

/// Non-negative least squares by elimination: fit, drop the most negative coefficient's
/// column, refit, until all are ≥ 0.
fn nn_fit(rows: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let p = rows.first().map_or(0, Vec::len);
    let mut active: Vec<usize> = (0..p).collect();
    loop {
        let sub: Vec<Vec<f64>> = rows.iter().map(|r| active.iter().map(|&j| r[j]).collect()).collect();
        let coef = if active.is_empty() { Some(Vec::new()) } else { least_squares(&sub, y) };
        let mut full = vec![0.0; p];
        match coef {
            Some(c) => {
                for (k, &j) in active.iter().enumerate() {
                    full[j] = c[k];
                }
                match active.iter().enumerate().filter(|(k, _)| c[*k] < 0.0).min_by(|a, b| c[a.0].total_cmp(&c[b.0])) {
                    None => return full,
                    Some((k, _)) => {
                        active.remove(k);
                    }
                }
            }
            // Singular (too few distinct sizes): drop the last term and retry.
            None => {
                active.pop();
            }
        }
    }
}

/// The fitted models, one per setting with enough observations.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Model {
    pub settings: Vec<SettingModel>,
}

impl Model {
    /// Fits every setting that has at least 3 observations at 2 or more sizes. Repeated
    /// observations of one size are reduced to their median first.
    pub fn fit(observations: &[Observation]) -> Model {
        let mut keys: Vec<Setting> = observations.iter().map(|o| o.setting).collect();
        keys.sort();
        keys.dedup();
        let mut settings = Vec::new();
        for key in keys {
            // median per size
            let mut sizes: Vec<(f64, f64)> =
                observations.iter().filter(|o| o.setting == key).map(|o| (o.cells, o.genes_exported)).collect();
            sizes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            sizes.dedup();
            if sizes.len() < 2 {
                continue;
            }
            let mut rows_t = Vec::new();
            let mut rows_b = Vec::new();
            let (mut yt, mut yb, mut extra) = (Vec::new(), Vec::new(), Vec::new());
            for &(n, g) in &sizes {
                let obs: Vec<&Observation> =
                    observations.iter().filter(|o| o.setting == key && o.cells == n && o.genes_exported == g).collect();
                let med = |f: fn(&Observation) -> f64| stats::median(&obs.iter().map(|o| f(o)).collect::<Vec<_>>()).unwrap_or(0.0);
                rows_t.push(vec![1.0, n * g, g, n]);
                rows_b.push(vec![1.0, n * g, n]);
                yt.push(med(|o| o.time_s));
                yb.push(med(|o| o.bytes));
                extra.push(med(|o| o.files) - g);
            }
            let t = nn_fit(&rows_t, &yt);
            let b = nn_fit(&rows_b, &yb);
            let time_fit_error = rows_t
                .iter()
                .zip(&yt)
                .filter(|(_, &y)| y > 0.0)
                .map(|(r, &y)| (r.iter().zip(&t).map(|(x, c)| x * c).sum::<f64>() / y - 1.0).abs())
                .fold(0.0, f64::max);
            settings.push(SettingModel {
                setting: key.label(),
                time: [t[0], t[1], t[2], t[3]],
                bytes: [b[0], b[1], b[2]],
                extra_files: stats::median(&extra).unwrap_or(0.0).round(),
                observations: sizes.len(),
                time_fit_error,
                key,
            });
        }
        Model { settings }
    }

    pub fn get(&self, setting: Setting) -> Option<&SettingModel> {
        self.settings.iter().find(|m| m.key == setting)
    }
}

/// One candidate: a setting and a gene panel size, with its prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub setting: String,
    pub flags: String,
    /// Genes exported (all genes when equal to the dataset's).
    pub genes_exported: u64,
    pub all_genes: bool,
    pub prediction: Prediction,
    pub within_budget: bool,
    /// Share of the time budget plus share of the disk budget (lower is better).
    pub cost: f64,
    #[serde(skip)]
    pub key: Setting,
}

/// The recommendation: the best candidate and the ones behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub cells: u64,
    pub genes: u64,
    pub budget: Budget,
    pub best: Option<Candidate>,
    /// Other candidates within budget, best first (at most 5), then the fastest and the
    /// smallest with the best's number of genes if they are not among them.
    pub runner_ups: Vec<Candidate>,
    /// Every candidate, for reports.
    pub candidates: Vec<Candidate>,
}

/// Gene panel sizes tried besides all genes.
pub const PANELS: &[u64] = &[5000, 2000, 500, 50];

/// Chooses the setting and panel: the most genes that fit the budget, and among those
/// the setting that uses the least of the budgets (time share + disk share). The zstd
/// what-if is never recommended (the viewer cannot load it).
pub fn recommend(model: &Model, cells: u64, genes: u64, budget: Budget) -> Recommendation {
    let mut candidates = Vec::new();
    let mut panels: Vec<u64> = vec![genes];
    panels.extend(PANELS.iter().copied().filter(|&p| p < genes));
    for m in model.settings.iter().filter(|m| !matches!(m.key.codec, Codec::Zstd(_))) {
        for &g in &panels {
            let p = m.predict(cells as f64, g as f64);
            let within = p.time_s <= budget.time_s && p.bytes <= budget.disk_bytes;
            candidates.push(Candidate {
                setting: m.setting.clone(),
                flags: m.key.flags(),
                genes_exported: g,
                all_genes: g == genes,
                prediction: p,
                within_budget: within,
                cost: p.time_s / budget.time_s + p.bytes / budget.disk_bytes,
                key: m.key,
            });
        }
    }
    let mut fitting: Vec<&Candidate> = candidates.iter().filter(|c| c.within_budget).collect();
    fitting.sort_by(|a, b| b.genes_exported.cmp(&a.genes_exported).then(a.cost.total_cmp(&b.cost)));
    let best = fitting.first().map(|c| (*c).clone());
    let mut runner_ups: Vec<Candidate> = fitting.iter().skip(1).take(5).map(|c| (*c).clone()).collect();
    // The fastest and the smallest way to export as many genes as the best does.
    let same_genes: Vec<&&Candidate> =
        fitting.iter().filter(|c| best.as_ref().is_some_and(|b| b.genes_exported == c.genes_exported)).collect();
    let fastest = same_genes.iter().min_by(|a, b| a.prediction.time_s.total_cmp(&b.prediction.time_s)).map(|c| **c);
    let smallest = same_genes.iter().min_by(|a, b| a.prediction.bytes.total_cmp(&b.prediction.bytes)).map(|c| **c);
    for extra in [fastest, smallest].into_iter().flatten() {
        let same = |c: &Candidate| c.key == extra.key && c.genes_exported == extra.genes_exported;
        if !runner_ups.iter().any(same) && !best.as_ref().is_some_and(same) {
            runner_ups.push((*extra).clone());
        }
    }
    Recommendation { cells, genes, budget, best, runner_ups, candidates }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(q: Option<u8>, codec: Codec, n: f64, g: f64) -> Observation {
        // time = 0.05 + 2e-9 N G + 1e-5 G, bytes = 1000 + bpv N G + 8 N
        let bpv = match q {
            None => 4.0,
            Some(b) => b as f64 / 8.0,
        } * if codec == Codec::None { 1.0 } else { 0.3 };
        let slow = if codec == Codec::None { 1.0 } else { 3.0 };
        Observation {
            setting: Setting { var_quantization: q, codec },
            cells: n,
            genes_exported: g,
            time_s: 0.05 + slow * 2e-9 * n * g + 1e-5 * g,
            bytes: 1000.0 + bpv * n * g + 8.0 * n,
            files: g + 10.0,
        }
    }

    fn model() -> Model {
        let mut o = Vec::new();
        for q in [None, Some(8)] {
            for c in [Codec::None, Codec::Gzip(6)] {
                for (n, g) in [(2000.0, 100.0), (8000.0, 100.0), (2000.0, 400.0), (8000.0, 400.0), (5000.0, 250.0)] {
                    o.push(obs(q, c, n, g));
                }
            }
        }
        Model::fit(&o)
    }

    #[test]
    fn fit_recovers_exact_model() {
        let m = model();
        assert_eq!(m.settings.len(), 4);
        let q8 = m.get(Setting { var_quantization: Some(8), codec: Codec::None }).unwrap();
        let p = q8.predict(100_000.0, 20_000.0);
        let want = obs(Some(8), Codec::None, 100_000.0, 20_000.0);
        assert!((p.time_s / want.time_s - 1.0).abs() < 1e-6, "{p:?} vs {want:?}");
        assert!((p.bytes / want.bytes - 1.0).abs() < 1e-6);
        assert_eq!(p.files, 20_010.0);
        assert!((q8.bytes_per_value() - 1.0).abs() < 1e-9);
        assert!(q8.time_fit_error < 1e-6, "an exact model fits exactly: {}", q8.time_fit_error);
    }

    #[test]
    fn recommend_prefers_all_genes_then_cheapest() {
        let m = model();
        // 20k x 2k: everything fits; q8 gz6 uses the least of both budgets together.
        let r = recommend(&m, 20_000, 2_000, Budget::default());
        let best = r.best.unwrap();
        assert!(best.all_genes);
        assert_eq!(best.setting, "q8 gz6");
        // A 1 GB disk budget at 1M x 20k: all genes cannot fit (q8 gz6 = 6 GB), a panel must.
        let r = recommend(&m, 1_000_000, 20_000, Budget { time_s: 300.0, disk_bytes: 1e9 });
        let best = r.best.unwrap();
        assert!(!best.all_genes && best.genes_exported <= 2000, "{best:?}");
        assert!(best.prediction.bytes <= 1e9);
    }

    #[test]
    fn nothing_fits_gives_no_best() {
        let r = recommend(&model(), 1_000_000, 20_000, Budget { time_s: 0.01, disk_bytes: 1.0 });
        assert!(r.best.is_none());
        assert!(!r.candidates.is_empty());
    }
}
