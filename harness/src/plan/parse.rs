//! TOML text → [`Plan`]. Types and spellings are checked here (each error names its
//! axis or key); value ranges are checked by validation, which also covers plans built
//! in code.

use super::axis::{check_writer_name, parse_graph, parse_panel, parse_quantization, Codec, Durability, ObsFields};
use super::{Axes, Block, Mode, Plan, PlanError};
use cellucid_datasets::synthetic::DatasetSpec;
use crate::writer::Budget;
use std::collections::BTreeMap;
use toml::{Table, Value};

const TOP_KEYS: &[&str] =
    &["name", "description", "seed", "repeats", "warmup", "warmup_max_seconds", "mode", "dataset", "axes", "block", "cell", "budget", "adaptive"];
const AXIS_KEYS: &[&str] = &[
    "cells",
    "genes",
    "density",
    "graph",
    "var_quantization",
    "obs_continuous_quantization",
    "compression",
    "gene_panel",
    "obs_fields",
    "target",
    "writer",
    // The old name of `writer` (values `ours`, `reference`), still read.
    "subject",
    "durability",
    "cold_cache",
];
/// `[dataset]` may set the synthetic-spec fields that no axis controls.
const DATASET_KEYS: &[&str] = &["count_model", "normalisation", "layout", "embedding_dims", "latent_dims", "vector_fields", "seed"];
const BLOCK_KEYS: &[&str] = &["name", "note", "optional", "memory_limit"];

fn unknown(key: &str, place: &str, known: &[&str]) -> PlanError {
    PlanError::UnknownKey { key: key.to_string(), place: place.to_string(), known: known.join(", ") }
}

pub(super) fn check_keys(t: &Table, place: &str, known: &[&[&str]]) -> Result<(), PlanError> {
    for k in t.keys() {
        if !known.iter().any(|list| list.contains(&k.as_str())) {
            let all: Vec<&str> = known.iter().flat_map(|l| l.iter().copied()).collect();
            return Err(unknown(k, place, &all));
        }
    }
    Ok(())
}

fn get_str(t: &Table, key: &str, default: Option<&str>) -> Result<String, PlanError> {
    match t.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(PlanError::invalid(key, Some(v.to_string()), "must be a string")),
        None => default.map(str::to_string).ok_or_else(|| PlanError::invalid(key, None, "is required")),
    }
}

fn get_uint(t: &Table, key: &str, default: u64) -> Result<u64, PlanError> {
    match t.get(key) {
        Some(Value::Integer(i)) => {
            u64::try_from(*i).map_err(|_| PlanError::invalid(key, Some(i.to_string()), "must be a non-negative integer"))
        }
        Some(v) => Err(PlanError::invalid(key, Some(v.to_string()), "must be a non-negative integer")),
        None => Ok(default),
    }
}

fn get_u32(t: &Table, key: &str, default: u32) -> Result<u32, PlanError> {
    let v = get_uint(t, key, u64::from(default))?;
    u32::try_from(v).map_err(|_| PlanError::invalid(key, Some(v.to_string()), "is too large"))
}

pub(super) fn parse(text: &str) -> Result<Plan, PlanError> {
    let top: Table = toml::from_str(text)?;
    check_keys(&top, "the plan", &[TOP_KEYS])?;
    let name = get_str(&top, "name", None)?;
    let description = get_str(&top, "description", Some(""))?;
    let seed = get_uint(&top, "seed", 0)?;
    let repeats = get_u32(&top, "repeats", 3)?;
    let warmup = get_u32(&top, "warmup", 1)?;
    let warmup_max_seconds = match top.get("warmup_max_seconds") {
        None => None,
        Some(v) => match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
            Some(s) if s.is_finite() && s > 0.0 => Some(s),
            _ => return Err(PlanError::invalid("warmup_max_seconds", Some(v.to_string()), "must be a positive number of seconds")),
        },
    };
    let mode = match get_str(&top, "mode", Some("factorial"))?.as_str() {
        "factorial" => Mode::Factorial,
        "list" => Mode::List,
        other => return Err(PlanError::invalid("mode", Some(format!("{other:?}")), "must be \"factorial\" or \"list\"")),
    };

    let dataset = match top.get("dataset") {
        None => DatasetSpec::default(),
        Some(Value::Table(t)) => {
            for k in t.keys() {
                if !DATASET_KEYS.contains(&k.as_str()) {
                    let why = if AXIS_KEYS.contains(&k.as_str()) || k == "clusters" || k.ends_with("_fields") {
                        " (it is set through an axis: cells, genes, density, graph, obs_fields)"
                    } else {
                        ""
                    };
                    return Err(PlanError::UnknownKey {
                        key: format!("dataset.{k}"),
                        place: format!("[dataset]{why}"),
                        known: DATASET_KEYS.join(", "),
                    });
                }
            }
            Value::Table(t.clone())
                .try_into::<DatasetSpec>()
                .map_err(|e| PlanError::invalid("dataset", None, e.to_string().trim().to_string()))?
        }
        Some(v) => return Err(PlanError::invalid("dataset", Some(v.to_string()), "must be a table")),
    };

    let mut defaults = Axes::defaults(&dataset);
    match top.get("axes") {
        None => {}
        Some(Value::Table(t)) => {
            check_keys(t, "[axes]", &[AXIS_KEYS])?;
            apply_axes(&mut defaults, t, "[axes]")?;
        }
        Some(v) => return Err(PlanError::invalid("axes", Some(v.to_string()), "must be a table")),
    }

    let (key, other) = match mode {
        Mode::Factorial => ("block", "cell"),
        Mode::List => ("cell", "block"),
    };
    if top.contains_key(other) {
        return Err(PlanError::invalid(
            other,
            None,
            format!("[[{other}]] tables belong to mode = \"{}\"; this plan has [[{key}]] tables", if other == "cell" { "list" } else { "factorial" }),
        ));
    }
    let tables: Vec<&Table> = match top.get(key) {
        None if mode == Mode::Factorial => Vec::new(),
        None => return Err(PlanError::invalid("cell", None, "a list-mode plan needs at least one [[cell]]")),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_table().ok_or_else(|| PlanError::invalid(key, None, format!("must be [[{key}]] tables"))))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(PlanError::invalid(key, None, format!("must be [[{key}]] tables"))),
    };

    let mut blocks = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let place = format!("[[{key}]] #{}", i + 1);
        check_keys(t, &place, &[BLOCK_KEYS, AXIS_KEYS])?;
        let name = get_str(t, "name", Some(&format!("{key}{}", i + 1)))?;
        let note = match t.get("note") {
            None => None,
            Some(_) => Some(get_str(t, "note", None)?),
        };
        let optional = match t.get("optional") {
            None => false,
            Some(Value::Boolean(b)) => *b,
            Some(v) => return Err(PlanError::invalid("optional", Some(v.to_string()), "must be true or false")),
        };
        let mut axes = defaults.clone();
        apply_axes(&mut axes, t, &format!("[[{key}]] {name:?}"))?;
        let memory_limit = match t.get("memory_limit") {
            None => None,
            Some(Value::String(text)) => Some(super::parse_memory_size(text).map_err(|e| PlanError::invalid("memory_limit", Some(text.clone()), e))?),
            Some(v) => return Err(PlanError::invalid("memory_limit", Some(v.to_string()), "must be a size in quotes, e.g. \"4G\"")),
        };
        blocks.push(Block { name, note, optional, memory_limit, axes });
    }
    if mode == Mode::Factorial && blocks.is_empty() {
        // A plan with only [axes] is one factorial block.
        blocks.push(Block { name: "axes".into(), note: None, optional: false, memory_limit: None, axes: defaults });
    }
    let budgets = parse_budgets(top.get("budget"))?;
    let adaptive = super::adaptive::parse(top.get("adaptive"))?;
    Ok(Plan { name, description, seed, repeats, warmup, warmup_max_seconds, mode, dataset, blocks, budgets, adaptive })
}

/// `[budget.NAME]` tables: `run_seconds` and `sweep_seconds` per writer name.
fn parse_budgets(v: Option<&Value>) -> Result<BTreeMap<String, Budget>, PlanError> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    let t = v.as_table().ok_or_else(|| PlanError::invalid("budget", None, "must be tables [budget.WRITER] with run_seconds and sweep_seconds"))?;
    for (writer, b) in t {
        let place = format!("budget.{writer}");
        check_writer_name(writer).map_err(|r| PlanError::invalid(&place, None, r))?;
        let b = b.as_table().ok_or_else(|| PlanError::invalid(&place, None, "must be a table with run_seconds and/or sweep_seconds"))?;
        check_keys(b, &format!("[{place}]"), &[&["run_seconds", "sweep_seconds"]])?;
        let seconds = |key: &str| -> Result<Option<f64>, PlanError> {
            match b.get(key) {
                None => Ok(None),
                Some(x) => match x.as_float().or_else(|| x.as_integer().map(|i| i as f64)) {
                    Some(s) if s.is_finite() && s > 0.0 => Ok(Some(s)),
                    _ => Err(PlanError::invalid(format!("{place}.{key}"), Some(x.to_string()), "must be a positive number of seconds")),
                },
            }
        };
        let budget = Budget { run_seconds: seconds("run_seconds")?, sweep_seconds: seconds("sweep_seconds")? };
        out.insert(crate::writer::legacy_name(writer).to_string(), budget);
    }
    Ok(out)
}

/// The values of one axis: a scalar is a list of one.
fn values<'a>(axis: &str, v: &'a Value, place: &str) -> Result<Vec<&'a Value>, PlanError> {
    match v {
        Value::Array(a) if a.is_empty() => Err(PlanError::invalid(axis, None, format!("is an empty list (in {place})"))),
        Value::Array(a) => Ok(a.iter().collect()),
        other => Ok(vec![other]),
    }
}

fn each<T>(
    axis: &str,
    v: &Value,
    place: &str,
    f: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, PlanError> {
    values(axis, v, place)?
        .into_iter()
        .map(|x| f(x).map_err(|reason| PlanError::invalid(axis, Some(x.to_string()), format!("{reason} (in {place})"))))
        .collect()
}

fn uint(x: &Value) -> Result<usize, String> {
    x.as_integer().and_then(|i| usize::try_from(i).ok()).ok_or_else(|| "must be a non-negative integer".to_string())
}

fn word<T>(x: &Value, f: impl Fn(&str) -> Option<T>, allowed: &str) -> Result<T, String> {
    x.as_str().and_then(f).ok_or_else(|| format!("must be one of {allowed}"))
}

fn writer_name(x: &Value) -> Result<String, String> {
    let s = x.as_str().ok_or_else(|| "must be a writer name (a string)".to_string())?;
    check_writer_name(s)?;
    Ok(crate::writer::legacy_name(s).to_string())
}

/// The old `subject` axis: `ours` and `reference` only.
fn subject_alias(s: &str) -> Option<String> {
    matches!(s, "ours" | "reference").then(|| crate::writer::legacy_name(s).to_string())
}

fn apply_axes(axes: &mut Axes, t: &Table, place: &str) -> Result<(), PlanError> {
    for (k, v) in t {
        match k.as_str() {
            "cells" => axes.cells = each(k, v, place, uint)?,
            "genes" => axes.genes = each(k, v, place, uint)?,
            "density" => {
                axes.density = each(k, v, place, |x| match x {
                    Value::Float(f) => Ok(*f),
                    Value::Integer(i) => Ok(*i as f64),
                    _ => Err("must be a number".into()),
                })?
            }
            "graph" => axes.graph = each(k, v, place, parse_graph)?,
            "var_quantization" => axes.var_quantization = each(k, v, place, parse_quantization)?,
            "obs_continuous_quantization" => axes.obs_continuous_quantization = each(k, v, place, parse_quantization)?,
            "compression" => axes.compression = each(k, v, place, Codec::parse)?,
            "gene_panel" => axes.gene_panel = each(k, v, place, parse_panel)?,
            // An inline table is one mix, not a list of its values.
            "obs_fields" if v.is_table() => axes.obs_fields = vec![ObsFields::parse(v).map_err(|r| PlanError::invalid(k, Some(v.to_string()), r))?],
            "obs_fields" => axes.obs_fields = each(k, v, place, ObsFields::parse)?,
            "target" => {
                axes.target = each(k, v, place, |x| x.as_str().map(str::to_string).ok_or_else(|| "must be a string".into()))?
            }
            "writer" if t.contains_key("subject") => {
                return Err(PlanError::invalid("writer", None, format!("`writer` and its old name `subject` are both set (in {place}); keep `writer`")))
            }
            "writer" => axes.writer = each(k, v, place, writer_name)?,
            "subject" => axes.writer = each(k, v, place, |x| word(x, subject_alias, "\"ours\", \"reference\" (or use the `writer` axis)"))?,
            "durability" => axes.durability = each(k, v, place, |x| word(x, Durability::parse, "\"buffered\", \"durable\""))?,
            "cold_cache" => axes.cold_cache = each(k, v, place, |x| x.as_bool().ok_or_else(|| "must be true or false".into()))?,
            // Block keys (name, note, optional) were read by the caller.
            _ => {}
        }
    }
    Ok(())
}
