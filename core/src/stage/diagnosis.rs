//! Diagnoses of values that cannot be published as finite float32 (FORMAT.md §15):
//! NaN, ±Inf, finite values beyond the float32 range, and non-zero values that
//! underflow to 0. The counts cover the whole array; the first five positions are named.

use crate::dataset::{Element, Values};
use crate::with_values;

/// What is wrong with one value, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    NaN,
    PosInf,
    NegInf,
    Overflow,
    Underflow,
}

/// A stored f64 the gene pre-flight accepts: finite once cast to float32, and not a
/// non-zero that underflows to 0 (the fast form of `defect_f64(x, x as f32).is_none()`,
/// for the hot scan of stored values; the out-of-core spill applies the same rule).
#[inline]
pub fn f64_is_clean(x: f64) -> bool {
    let f = x as f32;
    f.is_finite() && !(x != 0.0 && f == 0.0)
}

#[inline]
fn defect_f64(x: f64, as_f32: f32) -> Option<Defect> {
    if x.is_nan() {
        Some(Defect::NaN)
    } else if x == f64::INFINITY {
        Some(Defect::PosInf)
    } else if x == f64::NEG_INFINITY {
        Some(Defect::NegInf)
    } else if as_f32.is_infinite() {
        Some(Defect::Overflow)
    } else if x != 0.0 && as_f32 == 0.0 {
        Some(Defect::Underflow)
    } else {
        None
    }
}

/// Counts of each defect and the first offending flat indices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnosis {
    pub total: usize,
    nan: usize,
    pos_inf: usize,
    neg_inf: usize,
    overflow: usize,
    underflow: usize,
    /// Up to five flat indices, ascending.
    pub first: Vec<usize>,
    /// Whether more than five values are affected.
    pub more: bool,
}

impl Diagnosis {
    pub fn is_clean(&self) -> bool {
        self.first.is_empty()
    }

    /// Any NaN or ±Inf in the source (as opposed to only float32-range problems).
    pub fn has_non_finite(&self) -> bool {
        self.nan + self.pos_inf + self.neg_inf > 0
    }

    fn record(&mut self, i: usize, d: Defect) {
        match d {
            Defect::NaN => self.nan += 1,
            Defect::PosInf => self.pos_inf += 1,
            Defect::NegInf => self.neg_inf += 1,
            Defect::Overflow => self.overflow += 1,
            Defect::Underflow => self.underflow += 1,
        }
        if self.first.len() < 5 {
            self.first.push(i);
        } else {
            self.more = true;
        }
    }

    /// `1 NaN, 2 +Inf`, … in the reference's order.
    pub fn counts(&self) -> String {
        let mut parts = Vec::new();
        for (k, label) in [
            (self.nan, "NaN"),
            (self.pos_inf, "+Inf"),
            (self.neg_inf, "-Inf"),
            (self.overflow, "beyond the float32 range"),
            (self.underflow, "below the smallest float32"),
        ] {
            if k > 0 {
                parts.push(format!("{} {label}", thousands(k)));
            }
        }
        parts.join(", ")
    }

    /// Positions as the reference lists them: `[r, c]` pairs for 2-D arrays.
    pub fn positions(&self, cols: Option<usize>) -> String {
        let mut s: Vec<String> = self
            .first
            .iter()
            .map(|&i| match cols {
                Some(c) if c > 0 => format!("[{}, {}]", i / c, i % c),
                _ => i.to_string(),
            })
            .collect();
        if self.more {
            s.push("...".into());
        }
        s.join(", ")
    }

    fn plural(&self) -> &'static str {
        if self.first.len() == 1 {
            ""
        } else {
            "s"
        }
    }

    /// The array-level sentence `D`: `{subject} cannot be published: of N values, …`.
    pub fn array_sentence(&self, subject: &str, cols: Option<usize>) -> String {
        format!(
            "{subject} cannot be published: of {} values, {}. First affected position{}: {}. \
             Cellucid publishes finite float32 only, because a colour scale has no position for an infinity \
             and no value for a magnitude float32 cannot hold.",
            thousands(self.total),
            self.counts(),
            self.plural(),
            self.positions(cols)
        )
    }

    /// The full array message: `{subject} must contain only finite values. D` or the range variant.
    pub fn array_message(&self, subject: &str, cols: Option<usize>) -> String {
        let head = if self.has_non_finite() {
            format!("{subject} must contain only finite values.")
        } else {
            format!("{subject} contains values outside the finite float32 range.")
        };
        format!("{head} {}", self.array_sentence(subject, cols))
    }

    /// The per-cell sentence used for obs columns and genes.
    pub fn cells_sentence(&self, subject: &str) -> String {
        format!(
            "{subject} cannot be published: of {} cells, {}. First affected cell{}: {}. \
             Cellucid publishes finite float32 only, because a colour scale has no position for an infinity.",
            thousands(self.total),
            self.counts(),
            self.plural(),
            self.positions(None)
        )
    }
}

/// Diagnose a buffer of any dtype against the float32 contract.
pub fn diagnose(values: &Values) -> Diagnosis {
    with_values!(values, v => diagnose_slice(v))
}

/// Diagnose a typed slice (integers can only overflow float32 beyond ~3.4e38: never).
pub fn diagnose_slice<T: Element>(v: &[T]) -> Diagnosis {
    let mut d = Diagnosis { total: v.len(), ..Default::default() };
    if T::DTYPE.is_float() {
        for (i, &x) in v.iter().enumerate() {
            let x64 = x.to_f64();
            if let Some(def) = defect_f64(x64, x.to_f32()) {
                d.record(i, def);
            }
        }
    }
    d
}

/// Diagnose float values given as f64 with missing entries counted as NaN.
pub fn diagnose_f64_with_missing(values: &[f64], missing: Option<&[bool]>) -> Diagnosis {
    let mut d = Diagnosis { total: values.len(), ..Default::default() };
    for (i, &x) in values.iter().enumerate() {
        let x = if missing.is_some_and(|m| m[i]) { f64::NAN } else { x };
        if let Some(def) = defect_f64(x, x as f32) {
            d.record(i, def);
        }
    }
    d
}

/// Python's `f"{n:,}"`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Python's repr of a shape tuple: `(40,)`, `(39, 4)`.
pub fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [a] => format!("({a},)"),
        _ => format!("({})", shape.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_reference() {
        let mut v = vec![0.5f64; 80];
        v[7] = f64::NAN; // [3, 1] in a (40, 2) array
        let d = diagnose(&Values::F64(v));
        assert_eq!(
            d.array_message("X_umap_2d", Some(2)),
            "X_umap_2d must contain only finite values. X_umap_2d cannot be published: of 80 values, 1 NaN. \
             First affected position: [3, 1]. Cellucid publishes finite float32 only, because a colour scale \
             has no position for an infinity and no value for a magnitude float32 cannot hold."
        );
        let mut v = vec![0.5f64; 40];
        v[0] = 1e-50;
        let d = diagnose(&Values::F64(v));
        assert!(d.cells_sentence("Continuous obs field 'val'").contains("1 below the smallest float32. First affected cell: 0."));
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(shape_repr(&[40]), "(40,)");
    }
}
