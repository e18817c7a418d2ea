//! The settings a writer can express, and why a cell needs more.
//!
//! A cell a writer cannot express is dropped when the sweep is sized, with the reason
//! printed; it is never run with a setting changed behind the user's back. float32
//! (no quantization) and plain (no compression) payloads are `prepare()`'s defaults and
//! every writer has them.

use crate::plan::{Cell, Codec, Durability};
use serde::{Deserialize, Serialize};

/// `[writer.supports]`: what a writer can express. The defaults are what `prepare()`
/// 0.9.2 takes (8- and 16-bit quantization, gzip 1–9, gene panels) and nothing beyond it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Supports {
    pub var_quantization: Vec<u8>,
    pub obs_continuous_quantization: Vec<u8>,
    pub gzip_levels: Vec<u8>,
    /// The `zstd:N` what-if codec.
    pub zstd: bool,
    /// Exporting a subset of genes (`gene_identifiers`).
    pub gene_panel: bool,
    /// Power-loss durable exports (`--durable`).
    pub durable: bool,
    /// A memory budget (`--memory-limit`).
    pub memory_limit: bool,
}

impl Default for Supports {
    fn default() -> Self {
        Supports {
            var_quantization: vec![8, 16],
            obs_continuous_quantization: vec![8, 16],
            gzip_levels: (1..=9).collect(),
            zstd: false,
            gene_panel: true,
            durable: false,
            memory_limit: false,
        }
    }
}

impl Supports {
    /// Everything this harness can ask for (our own exporter).
    pub fn everything() -> Supports {
        Supports { zstd: true, durable: true, memory_limit: true, ..Supports::default() }
    }

    /// Why `writer` cannot express `cell`, naming the plan axis, or `None`.
    pub fn why_not(&self, cell: &Cell, writer: &str) -> Option<String> {
        let s = &cell.settings;
        if let Some(q) = s.var_quantization.filter(|q| !self.var_quantization.contains(q)) {
            return Some(format!("var_quantization = {q}: {writer} supports {}", list(&self.var_quantization, "none")));
        }
        if let Some(q) = s.obs_continuous_quantization.filter(|q| !self.obs_continuous_quantization.contains(q)) {
            return Some(format!("obs_continuous_quantization = {q}: {writer} supports {}", list(&self.obs_continuous_quantization, "none")));
        }
        match s.compression {
            Codec::Gzip(l) if self.gzip_levels.is_empty() => {
                return Some(format!("compression = {l}: {writer} has no gzip setting (supports.gzip_levels is empty)"));
            }
            Codec::Gzip(l) if !self.gzip_levels.contains(&l) => {
                return Some(format!("compression = {l}: {writer} supports gzip levels {}", list(&self.gzip_levels, "none")));
            }
            Codec::Zstd(l) if !self.zstd => {
                return Some(format!("compression = \"zstd:{l}\": a what-if codec {writer} cannot write (supports.zstd = false)"));
            }
            _ => {}
        }
        if let Some(n) = s.gene_panel.filter(|_| !self.gene_panel) {
            return Some(format!("gene_panel = {n}: {writer} cannot export a gene panel (supports.gene_panel = false)"));
        }
        if cell.durability == Durability::Durable && !self.durable {
            return Some(format!("durability = \"durable\": {writer} has no durable mode (supports.durable = false)"));
        }
        if cell.memory_limit.is_some() && !self.memory_limit {
            return Some(format!("memory_limit: {writer} takes no memory budget (supports.memory_limit = false)"));
        }
        None
    }
}

fn list(values: &[u8], always: &str) -> String {
    let v: Vec<String> = values.iter().map(u8::to_string).collect();
    if v.is_empty() {
        format!("only {always}")
    } else {
        format!("{always}, {}", v.join(", "))
    }
}
