//! One module per subcommand.
pub mod ci;
pub mod compare;
pub mod export;
pub mod fuzz;
pub mod generate;
pub mod memory;
pub mod recommend;
pub mod recommend_writer;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod targets;
pub mod validate;

use crate::plan::Plan;
use anyhow::{Context, Result};

/// A built-in plan by name, or a plan TOML file (shared by `sweep` and `ci`).
pub fn load_plan(name: &str) -> Result<Plan> {
    if Plan::builtin_names().contains(&name) {
        return Plan::builtin(name).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let text = std::fs::read_to_string(name)
        .with_context(|| format!("{name} is neither a built-in plan ({}) nor a readable file", Plan::builtin_names().join(", ")))?;
    Plan::from_toml_str(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))
}
