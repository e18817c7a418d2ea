//! Cross-file checks: the load sequence (VIEWER.md B.2, B.13) and the local-folder
//! agreements of B.14 (compression of record, `export_settings` against every manifest).
//!
//! When several files disagree, the problem names the file most likely at fault: the
//! identity when every manifest agrees with the others, otherwise the odd manifest.

use super::connectivity::Connectivity;
use super::identity::{Identity, Kind};
use super::obs::Obs;
use super::var::Var;
use super::{problem, Problem, CONNECTIVITY_MANIFEST, IDENTITY, OBS_MANIFEST, VAR_MANIFEST};

/// The checked documents that were present and parsed.
pub(crate) struct Parts<'a> {
    pub identity: Option<&'a Identity>,
    pub obs: Option<&'a Obs>,
    pub var: Option<&'a Var>,
    pub conn: Option<&'a Connectivity>,
}

pub(crate) fn check(parts: &Parts, problems: &mut Vec<Problem>) {
    if let Some(identity) = parts.identity {
        presence(identity, parts, problems);
        cell_counts(identity, parts, problems);
        if let (Some(obs), Some(entries)) = (parts.obs, &identity.obs_fields) {
            obs_fields(entries, obs, problems);
        }
        if let (Some(n_genes), Some(n_fields)) = (identity.n_genes, parts.var.and_then(|v| v.n_fields)) {
            if n_genes != n_fields {
                problems.push(problem(
                    IDENTITY,
                    "stats.n_genes",
                    format!("is {n_genes}, but {VAR_MANIFEST} lists {n_fields} fields"),
                ));
            }
        }
        if let (Some(conn), Some(Some(stat))) = (parts.conn, identity.n_edges) {
            if let Some(n_edges) = conn.n_edges {
                if n_edges != stat {
                    problems.push(problem(
                        IDENTITY,
                        "stats.n_edges",
                        format!("is {stat}, but {CONNECTIVITY_MANIFEST} has n_edges {n_edges}"),
                    ));
                }
            }
        }
    }
    compression_of_record(parts, problems);
    if let (Some(settings), Some(obs)) = (parts.identity.and_then(|i| i.settings.as_ref()), parts.obs) {
        export_settings(settings, obs, parts.var, problems);
    }
}

/// B.2/B.13: var when `n_genes > 0`, connectivity exactly when `has_connectivity`.
fn presence(identity: &Identity, parts: &Parts, problems: &mut Vec<Problem>) {
    if parts.var.is_none() && identity.n_genes.is_some_and(|n| n > 0) {
        problems.push(problem(
            VAR_MANIFEST,
            "exists",
            format!("Missing required {VAR_MANIFEST}: stats.n_genes is greater than 0"),
        ));
    }
    match (identity.has_connectivity, parts.conn.is_some()) {
        (Some(true), false) => problems.push(problem(
            CONNECTIVITY_MANIFEST,
            "exists",
            format!("Missing required {CONNECTIVITY_MANIFEST}: stats.has_connectivity is true"),
        )),
        (Some(false), true) => problems.push(problem(
            CONNECTIVITY_MANIFEST,
            "exists",
            "present while stats.has_connectivity is false",
        )),
        _ => {}
    }
}

/// obs `n_points`, var `n_points` and connectivity `n_cells` must equal `stats.n_cells`.
fn cell_counts(identity: &Identity, parts: &Parts, problems: &mut Vec<Problem>) {
    let Some(n_cells) = identity.n_cells else { return };
    let manifests: Vec<(&str, &str, u64)> = [
        parts.obs.and_then(|o| o.n_points).map(|n| (OBS_MANIFEST, "n_points", n)),
        parts.var.and_then(|v| v.n_points).map(|n| (VAR_MANIFEST, "n_points", n)),
        parts.conn.and_then(|c| c.n_cells).map(|n| (CONNECTIVITY_MANIFEST, "n_cells", n)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let disagreeing: Vec<_> = manifests.iter().filter(|(_, _, n)| *n != n_cells).collect();
    if disagreeing.is_empty() {
        return;
    }
    let consensus = manifests.windows(2).all(|w| w[0].2 == w[1].2);
    if consensus {
        let (_, _, n) = manifests[0];
        let names: Vec<&str> = manifests.iter().map(|(f, _, _)| *f).collect();
        problems.push(problem(
            IDENTITY,
            "stats.n_cells",
            format!("is {n_cells}, but {} say {n}", names.join(", ")),
        ));
    } else {
        for (file, field, n) in disagreeing {
            problems.push(problem(file, *field, format!("is {n}, but {IDENTITY} stats.n_cells is {n_cells}")));
        }
    }
}

/// `identity.obs_fields` must list every continuous field, then every categorical one,
/// in manifest order, with matching kinds and category counts.
fn obs_fields(entries: &[super::identity::ObsFieldEntry], obs: &Obs, problems: &mut Vec<Problem>) {
    let expected: Vec<(Option<&str>, Kind, Option<u64>)> = obs
        .continuous
        .iter()
        .map(|f| (f.key.as_deref(), Kind::Continuous, None))
        .chain(obs.categorical.iter().map(|f| (f.key.as_deref(), Kind::Category, f.n_categories)))
        .collect();
    if entries.len() != expected.len() {
        problems.push(problem(
            IDENTITY,
            "obs_fields",
            format!("lists {} fields, but {OBS_MANIFEST} has {}", entries.len(), expected.len()),
        ));
    }
    for (i, (entry, (key, kind, n_cat))) in entries.iter().zip(&expected).enumerate() {
        let field = format!("obs_fields[{i}]");
        if let (Some(got), Some(want)) = (entry.key.as_deref(), key) {
            if got != *want {
                problems.push(problem(
                    IDENTITY,
                    format!("{field}.key"),
                    format!("is {got:?}, but position {i} of the manifest order (continuous, then categorical) is {want:?}"),
                ));
                continue;
            }
        }
        if let Some(got) = entry.kind {
            if got != *kind {
                problems.push(problem(
                    IDENTITY,
                    format!("{field}.kind"),
                    format!("is {got:?}, but the manifest lists this field as {kind:?}"),
                ));
                continue;
            }
        }
        if let (Some(got), Some(want)) = (entry.n_categories, n_cat) {
            if got != *want {
                problems.push(problem(
                    IDENTITY,
                    format!("{field}.n_categories"),
                    format!("is {got}, but the manifest lists {want} categories"),
                ));
            }
        }
    }
}

/// B.14: the obs manifest's compression is the one of record; every path's `.gz` suffix
/// and the var and connectivity `compression` must agree with it.
fn compression_of_record(parts: &Parts, problems: &mut Vec<Problem>) {
    let Some(Some(record)) = parts.obs.map(|o| o.compression) else {
        return;
    };
    let show = |c: Option<u32>| c.map_or("null".to_string(), |l| l.to_string());
    if let Some(Some(c)) = parts.var.map(|v| v.compression) {
        if c != record {
            problems.push(problem(
                VAR_MANIFEST,
                "compression",
                format!("is {}, but {OBS_MANIFEST} compression is {}", show(c), show(record)),
            ));
        }
    }
    if let Some(Some(c)) = parts.conn.map(|v| v.compression) {
        if c != record {
            problems.push(problem(
                CONNECTIVITY_MANIFEST,
                "compression",
                format!("is {}, but {OBS_MANIFEST} compression is {}", show(c), show(record)),
            ));
        }
    }
    if let Some(identity) = parts.identity {
        for advert in identity.points.iter().chain(&identity.vectors) {
            if advert.path.ends_with(".gz") != record.is_some() {
                let rule = if record.is_some() {
                    "must end in .gz"
                } else {
                    "must not end in .gz"
                };
                problems.push(problem(
                    IDENTITY,
                    &advert.field,
                    format!("path {:?} {rule}: {OBS_MANIFEST} compression is {}", advert.path, show(record)),
                ));
            }
        }
    }
}

/// B.14: `export_settings` must agree with every manifest.
fn export_settings(settings: &super::identity::Settings, obs: &Obs, var: Option<&Var>, problems: &mut Vec<Problem>) {
    let show = |c: Option<u32>| c.map_or("null".to_string(), |l| l.to_string());
    if let (Some(s), Some(m)) = (settings.compression, obs.compression) {
        if s != m {
            problems.push(problem(
                IDENTITY,
                "export_settings.compression",
                format!("is {}, but {OBS_MANIFEST} compression is {}", show(s), show(m)),
            ));
        }
    }
    if let Some(q) = settings.obs_continuous_quantization {
        if let Some(bits) = obs.continuous_bits {
            if bits != q {
                problems.push(problem(
                    OBS_MANIFEST,
                    "_obsSchemas.continuous",
                    format!(
                        "stores {}, but export_settings.obs_continuous_quantization is {}",
                        show(bits),
                        show(q)
                    ),
                ));
            }
        }
        if let Some(bits) = obs.outlier_bits {
            if bits != q {
                problems.push(problem(
                    OBS_MANIFEST,
                    "_obsSchemas.categorical",
                    format!(
                        "outliers store {}, but export_settings.obs_continuous_quantization is {}",
                        show(bits),
                        show(q)
                    ),
                ));
            }
        }
    }
    if let Some(dtype_bits) = settings.obs_categorical_bits {
        for (i, field) in obs.categorical.iter().enumerate() {
            if let Some(bits) = field.codes_bits {
                if bits != dtype_bits {
                    problems.push(problem(
                        OBS_MANIFEST,
                        format!("_categoricalFields[{i}][3]"),
                        format!("codesDtype is uint{bits}, but export_settings.obs_categorical_dtype is uint{dtype_bits}"),
                    ));
                }
            }
        }
    }
    if let (Some(q), Some(Some(m))) = (settings.var_quantization, var.map(|v| v.quantization)) {
        if q != m {
            problems.push(problem(
                VAR_MANIFEST,
                "quantization",
                format!("is {}, but export_settings.var_quantization is {}", show(m), show(q)),
            ));
        }
    }
}
