//! JSON helpers for the validator: loading a document, exact key sets, typed accessors.
//!
//! Accessors are silent when a key is absent (the exact-key-set check already reported
//! it) and report a wrong type or range once, so one mistake gives one problem. They
//! return `None` for "unknown", which later checks treat as "skip", not as a value.

use std::path::Path;

use serde_json::{Map, Value};

use super::{problem, Problem, Sink, MAX_JSON_BYTES};

/// Largest integer JavaScript represents exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A parsed JSON document and its text (the text keeps object key order).
pub(crate) struct Doc {
    pub value: Value,
    pub text: String,
}

/// Reads and parses `name`; reports a missing required file, a file over 64 MiB,
/// and text that is not JSON. Returns `None` whenever the document is unusable.
pub(crate) fn load(dir: &Path, name: &str, required: bool, problems: &mut Vec<Problem>, files_checked: &mut usize) -> Option<Doc> {
    let path = dir.join(name);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(_) => {
            if required {
                problems.push(problem(name, "exists", format!("Missing required {name}")));
            }
            return None;
        }
    };
    *files_checked += 1;
    if !meta.is_file() {
        problems.push(problem(name, "exists", "is not a regular file"));
        return None;
    }
    if meta.len() > MAX_JSON_BYTES {
        problems.push(problem(
            name,
            "length",
            format!("is {} bytes; JSON files may not exceed 64 MiB", meta.len()),
        ));
        return None;
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(problem(name, "read", format!("cannot be read as UTF-8 text: {e}")));
            return None;
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => Some(Doc { value, text }),
        Err(e) => {
            problems.push(problem(name, "json", format!("is not valid JSON: {e}")));
            None
        }
    }
}

/// `path.key`, or `key` at the top level.
pub(crate) fn key(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

/// `path[i]`.
pub(crate) fn idx(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The value as an object, or a problem.
pub(crate) fn object<'v>(s: &mut Sink, path: &str, v: &'v Value) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(map) => Some(map),
        other => {
            s.report(field_name(path), format!("must be an object, found {}", kind(other)));
            None
        }
    }
}

/// The value as an array, or a problem.
pub(crate) fn array<'v>(s: &mut Sink, path: &str, v: &'v Value) -> Option<&'v Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        other => {
            s.report(field_name(path), format!("must be an array, found {}", kind(other)));
            None
        }
    }
}

/// Reports every missing required key and every key outside `required ∪ optional`.
pub(crate) fn exact_keys(s: &mut Sink, path: &str, obj: &Map<String, Value>, required: &[&str], optional: &[&str]) {
    for name in required {
        if !obj.contains_key(*name) {
            s.report(key(path, name), "missing required key");
        }
    }
    for name in obj.keys() {
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            s.report(key(path, name), "unsupported key");
        }
    }
}

/// A non-negative safe integer (`Number.isSafeInteger`, so `3.0` counts as 3).
pub(crate) fn safe_count(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return (n <= MAX_SAFE_INTEGER).then_some(n);
    }
    let f = v.as_f64()?;
    (v.is_f64() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_SAFE_INTEGER as f64).then_some(f as u64)
}

/// `obj[k]` as a non-negative safe integer; reports anything else.
pub(crate) fn count(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str) -> Option<u64> {
    let v = obj.get(k)?;
    let n = safe_count(v);
    if n.is_none() {
        s.report(key(path, k), format!("must be a non-negative safe integer, found {v}"));
    }
    n
}

/// `obj[k]` as a positive safe integer.
pub(crate) fn positive_count(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str) -> Option<u64> {
    let n = count(s, path, obj, k)?;
    if n == 0 {
        s.report(key(path, k), "must be a positive integer, found 0");
        return None;
    }
    Some(n)
}

/// `obj[k]` as a string.
pub(crate) fn string<'v>(s: &mut Sink, path: &str, obj: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
    let v = obj.get(k)?;
    let text = v.as_str();
    if text.is_none() {
        s.report(key(path, k), format!("must be a string, found {}", kind(v)));
    }
    text
}

/// `obj[k]` as a non-empty string.
pub(crate) fn nonempty_string<'v>(s: &mut Sink, path: &str, obj: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
    let text = string(s, path, obj, k)?;
    if text.is_empty() {
        s.report(key(path, k), "must be a non-empty string");
        return None;
    }
    Some(text)
}

/// `obj[k]` equal to the string `expected`.
pub(crate) fn expect_str(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str, expected: &str) {
    if let Some(v) = obj.get(k) {
        if v.as_str() != Some(expected) {
            s.report(key(path, k), format!("must be \"{expected}\", found {v}"));
        }
    }
}

/// `obj[k]` as a boolean.
pub(crate) fn boolean(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str) -> Option<bool> {
    let v = obj.get(k)?;
    let b = v.as_bool();
    if b.is_none() {
        s.report(key(path, k), format!("must be a boolean, found {v}"));
    }
    b
}

/// `obj[k]` as `null` or a gzip level 1–9. Outer `None`: absent or invalid.
pub(crate) fn compression(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str) -> Option<Option<u32>> {
    let v = obj.get(k)?;
    if v.is_null() {
        return Some(None);
    }
    match v.as_u64() {
        Some(level @ 1..=9) => Some(Some(level as u32)),
        _ => {
            s.report(key(path, k), format!("must be null or an integer 1-9, found {v}"));
            None
        }
    }
}

/// `obj[k]` as `null`, 8 or 16. Outer `None`: absent or invalid.
pub(crate) fn bits_or_null(s: &mut Sink, path: &str, obj: &Map<String, Value>, k: &str) -> Option<Option<u32>> {
    let v = obj.get(k)?;
    if v.is_null() {
        return Some(None);
    }
    match v.as_u64() {
        Some(bits @ (8 | 16)) => Some(Some(bits as u32)),
        _ => {
            s.report(key(path, k), format!("must be null, 8 or 16, found {v}"));
            None
        }
    }
}

/// A finite JSON number.
pub(crate) fn finite(s: &mut Sink, path: &str, v: &Value) -> Option<f64> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Some(x),
        _ => {
            s.report(field_name(path), format!("must be a finite number, found {v}"));
            None
        }
    }
}

/// A short name for a JSON value's type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The field name for the document root is `(root)`, not an empty string.
fn field_name(path: &str) -> String {
    if path.is_empty() {
        "(root)".to_string()
    } else {
        path.to_string()
    }
}

/// Identity of a JSON scalar for uniqueness and membership (numbers compare as doubles,
/// as in JavaScript, so `1` and `1.0` are the same label).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scalar {
    Str(String),
    Bool(bool),
    Num(u64),
}

/// The label a category value denotes: a string, a boolean or a finite number.
pub(crate) fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::String(text) => Some(Scalar::Str(text.clone())),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) => {
            let x = n.as_f64()?;
            // -0.0 and 0.0 are one label (SameValueZero), so normalise before taking bits.
            x.is_finite().then_some(Scalar::Num(if x == 0.0 { 0 } else { x.to_bits() }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn safe_count_follows_javascript() {
        assert_eq!(safe_count(&json!(3)), Some(3));
        assert_eq!(safe_count(&json!(3.0)), Some(3));
        assert_eq!(safe_count(&json!(3.5)), None);
        assert_eq!(safe_count(&json!(-1)), None);
        assert_eq!(safe_count(&json!(1u64 << 53)), None);
        assert_eq!(safe_count(&json!("3")), None);
    }

    #[test]
    fn exact_keys_reports_missing_and_extra() {
        let mut problems = Vec::new();
        let obj = json!({"a": 1, "z": 2});
        let mut s = Sink::new("f.json", &mut problems);
        exact_keys(&mut s, "stats", obj.as_object().unwrap(), &["a", "b"], &["c"]);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["stats.b", "stats.z"]);
    }

    #[test]
    fn scalars_compare_like_javascript() {
        assert_eq!(scalar(&json!(1)), scalar(&json!(1.0)));
        assert_ne!(scalar(&json!("1")), scalar(&json!(1)));
        assert_eq!(scalar(&json!(null)), None);
    }
}
