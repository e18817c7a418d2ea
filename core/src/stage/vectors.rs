//! `vectors/` (FORMAT.md §11): vector fields keyed `<field>_umap_<d>d`, ordered by code
//! point of the field id, scaled by the embedding's f64 scale (not centred), rounded once.

use super::dense::to_dense;
use super::diagnosis::{diagnose, diagnose_slice, shape_repr};
use super::embeddings::Normalized;
use super::output::{f32_bytes, Output, Written};
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::options::{check_display_as, ExportOptions};
use crate::text::{py_repr, py_repr_list};

const F: &str = "vector_fields";

/// One vector field: its id and, per dimension (ascending), the scaled f32 values.
pub struct VectorField {
    pub id: String,
    pub dims: Vec<(usize, Vec<f32>)>,
}

/// All vector fields, sorted by id, and the default field.
pub struct Vectors {
    pub fields: Vec<VectorField>,
    pub default_field: String,
}

/// Split `<field>_umap_<d>d` into `("<field>_umap", d)`.
fn parse_key(key: &str) -> Option<(&str, usize)> {
    let rest = key.strip_suffix('d')?;
    let (id, d) = rest.rsplit_once('_')?;
    let d = match d {
        "1" => 1,
        "2" => 2,
        "3" => 3,
        _ => return None,
    };
    (id.ends_with("_umap") && id.len() > "_umap".len()).then_some((id, d))
}

/// D.8: keys, shapes, values, ids, default, scaling.
pub fn prepare(ds: &Dataset, options: &ExportOptions, n_cells: usize, norms: &[Normalized]) -> Result<Option<Vectors>> {
    let given = ds.vector_fields.as_deref().unwrap_or(&[]);
    if given.is_empty() {
        if options.vector_field_default.is_some() {
            return Err(ExportError::value("vector_field_default", "vector_field_default was provided but no vector fields exist."));
        }
        return Ok(None);
    }
    let mut parsed: Vec<(String, usize, Vec<f64>)> = Vec::new();
    for (key, m) in given {
        if key.is_empty() {
            return Err(ExportError::type_(F, "vector field key must be a native non-empty string."));
        }
        let Some((id, d)) = parse_key(key) else {
            return Err(ExportError::value(F, format!("vector field key {} must exactly match '<field>_umap_<1|2|3>d'.", py_repr(key))));
        };
        let k = py_repr(key);
        if !norms.iter().any(|e| e.dim == d) {
            return Err(ExportError::value(F, format!("Vector field {k} requires a matching {d}D embedding.")));
        }
        if !m.dtype().is_real_numeric() {
            return Err(ExportError::type_(F, format!("Vector field {k} must contain real numeric values.")));
        }
        let dense = to_dense(m);
        let shape = dense.shape.clone();
        let shape2 = if d == 1 && shape.len() == 1 { vec![shape[0], 1] } else { shape.clone() };
        if shape2.len() != 2 {
            return Err(ExportError::value(F, format!("Vector field {k} must be a 2D array, got shape {}.", shape_repr(&shape))));
        }
        if shape2[0] != n_cells {
            return Err(ExportError::value(F, format!("Vector field {k} must have exactly {n_cells} rows, got {}.", shape2[0])));
        }
        if shape2[1] != d {
            return Err(ExportError::value(F, format!("Vector field {k} must have exactly {d} columns, got {}.", shape2[1])));
        }
        let diag = diagnose(&dense.values);
        if !diag.is_clean() {
            let subject = format!("Vector field {k}");
            return Err(ExportError::value(F, diag.array_message(&subject, Some(d))));
        }
        parsed.push((id.to_string(), d, dense.values.to_f64_vec()));
    }
    let mut ids: Vec<String> = parsed.iter().map(|p| p.0.clone()).collect();
    ids.sort();
    ids.dedup();
    for (i, id) in ids.iter().enumerate() {
        check_display_as(F, &format!("Vector field identifier at position {i}"), id)?;
    }
    let default_field = match &options.vector_field_default {
        Some(v) if ids.contains(v) => v.clone(),
        Some(v) => {
            return Err(ExportError::value(
                "vector_field_default",
                format!("vector_field_default {} does not match an available field: {}.", py_repr(v), py_repr_list(&ids)),
            ))
        }
        None if ids.len() >= 2 => {
            return Err(ExportError::value(
                "vector_field_default",
                "vector_field_default is required when more than one vector field is declared.",
            ))
        }
        None => ids[0].clone(),
    };
    let mut fields = Vec::with_capacity(ids.len());
    for id in &ids {
        let mut dims = Vec::new();
        for d in 1..=3 {
            let Some((_, _, values)) = parsed.iter().find(|p| &p.0 == id && p.1 == d) else { continue };
            let Some(scale) = norms.iter().find(|e| e.dim == d).map(|e| e.scale) else { continue };
            let scaled: Vec<f32> = values.iter().map(|&v| (v * scale) as f32).collect();
            let diag = diagnose_slice(&scaled);
            if !diag.is_clean() {
                let subject = format!("Vector field {} {d}D scaling", py_repr(id));
                return Err(ExportError::value(
                    F,
                    format!(
                        "Vector field {} {d}D scaling produced values outside the finite float32 range. {}",
                        py_repr(id),
                        diag.array_sentence(&subject, Some(d))
                    ),
                ));
            }
            dims.push((d, scaled));
        }
        fields.push(VectorField { id: id.clone(), dims });
    }
    Ok(Some(Vectors { fields, default_field }))
}

/// The payload path of field position `v`, dimension `d`.
pub fn vector_path(v: usize, d: usize, output: &Output) -> String {
    format!("vectors/{v}_{d}d.bin{}", output.suffix())
}

/// Write `vectors/<v>_<d>d.bin[.gz]`.
pub fn write(vectors: &Vectors, output: &Output) -> Result<Written> {
    output.mkdir("vectors")?;
    let mut total = Written::default();
    let mut buf = Vec::new();
    for (v, field) in vectors.fields.iter().enumerate() {
        for (d, values) in &field.dims {
            f32_bytes(values, &mut buf);
            total += output.write(&vector_path(v, *d, output), &buf)?;
        }
    }
    Ok(total)
}
