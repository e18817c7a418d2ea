//! numpy's arithmetic, reproduced exactly where the output depends on it
//! (FORMAT.md §7.3–7.4, §17 hazards 3–6): the pairwise summation of one contiguous
//! run, the sequential accumulation of a mean over rows, the linear-interpolation
//! quantile, and `searchsorted(side="right")` ranks.

pub mod pairwise;
pub mod quantile;

pub use pairwise::{pairwise_sum_f32, pairwise_sum_f64, reduce_f32, reduce_f64};
pub use quantile::{quantile_linear, ranks_right};
