//! `identity.vector_fields` (VIEWER.md B.3, and the local-folder rules of B.8).
//!
//! The local folder names each payload `vectors/<i>_<d>d.bin[.gz]`, where `i` is the
//! field's position in the JSON object's key order. `serde_json::Value` (without the
//! `preserve_order` feature) sorts keys, so that order is recovered from the text.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::identity::{dimension_list, files_per_dimension, Advert};
use super::json::{self, key};
use super::Sink;

const BLOCK: &[&str] = &["default_field", "fields"];
const FIELD: &[&str] = &["label", "basis", "available_dimensions", "default_dimension", "files"];

/// The key order of `vector_fields.fields` in the document text, if it is an object.
pub(crate) fn field_order(text: &str) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Top {
        vector_fields: Option<Block>,
    }
    #[derive(Deserialize)]
    struct Block {
        fields: Option<Keys>,
    }
    let top: Top = serde_json::from_str(text).ok()?;
    top.vector_fields?.fields.map(|k| k.0)
}

/// The keys of a JSON object, in document order.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(KeysVisitor)
    }
}

/// Checks the block and returns its payload adverts.
pub(crate) fn check(s: &mut Sink, v: &Value, embedding_dims: Option<&[u32]>, order: Option<&[String]>) -> Vec<Advert> {
    let mut adverts = Vec::new();
    let Some(block) = json::object(s, "vector_fields", v) else {
        return adverts;
    };
    json::exact_keys(s, "vector_fields", block, BLOCK, &[]);
    let Some(fields) = block.get("fields").and_then(|f| json::object(s, "vector_fields.fields", f)) else {
        return adverts;
    };
    if fields.is_empty() {
        s.report("vector_fields.fields", "must not be empty");
    }
    match block.get("default_field") {
        Some(Value::Null) => s.report("vector_fields.default_field", "must name a field for a local folder, found null"),
        Some(Value::String(id)) if !fields.contains_key(id) => {
            s.report("vector_fields.default_field", format!("{id:?} is not a declared field"))
        }
        Some(Value::String(_)) | None => {}
        Some(other) => s.report("vector_fields.default_field", format!("must be null or a field id, found {other}")),
    }

    let order: Vec<&String> = match order {
        Some(keys) => keys.iter().collect(),
        None => fields.keys().collect(),
    };
    for (position, id) in order.into_iter().enumerate() {
        let Some(field) = fields.get(id) else { continue };
        let path = key("vector_fields.fields", id);
        let Some(obj) = json::object(s, &path, field) else { continue };
        json::exact_keys(s, &path, obj, FIELD, &[]);
        if let Some(label) = json::string(s, &path, obj, "label") {
            if label != id {
                s.report(key(&path, "label"), format!("must equal the field id {id:?}, found {label:?}"));
            }
        }
        if let Some(basis) = json::string(s, &path, obj, "basis") {
            if basis != "umap" {
                s.report(key(&path, "basis"), format!("must be \"umap\", found {basis:?}"));
            }
        }
        let dims_path = key(&path, "available_dimensions");
        let Some(dims) = obj.get("available_dimensions").and_then(|d| dimension_list(s, &dims_path, d)) else {
            continue;
        };
        if let Some(embedding_dims) = embedding_dims {
            if let Some(d) = dims.iter().find(|d| !embedding_dims.contains(d)) {
                s.report(
                    &dims_path,
                    format!("dimension {d} has no embedding (embeddings: {embedding_dims:?})"),
                );
            }
        }
        if let Some(default) = obj.get("default_dimension") {
            let largest = dims.last().copied().unwrap_or(0) as u64;
            if default.as_u64() != Some(largest) {
                s.report(
                    key(&path, "default_dimension"),
                    format!("must be the largest available dimension {largest}, found {default}"),
                );
            }
        }
        let files_path = key(&path, "files");
        let Some(files) = obj.get("files").and_then(|f| json::object(s, &files_path, f)) else {
            continue;
        };
        for advert in files_per_dimension(s, &files_path, files, &dims, &format!("vector field {id:?}")) {
            let name = format!("vectors/{position}_{}d.bin", advert.dim);
            if advert.path != name && advert.path != format!("{name}.gz") {
                s.report(
                    &advert.field,
                    format!("path {:?} must be exactly {name:?} (plus .gz when compressed)", advert.path),
                );
            }
            adverts.push(advert);
        }
    }
    adverts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_is_document_order() {
        let text = r#"{"vector_fields": {"default_field": "b", "fields": {"b": 1, "a": {"x": [1]}}}}"#;
        assert_eq!(field_order(text), Some(vec!["b".to_string(), "a".to_string()]));
        assert_eq!(field_order(r#"{"id": 1}"#), None);
    }
}
