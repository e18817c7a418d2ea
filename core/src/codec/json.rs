//! Python `json.dumps` output (FORMAT.md §5), and an order-preserving reader.
//!
//! The reference writes `dataset_identity.json` with `json.dumps(v, indent=2)` and the
//! three manifests with `json.dumps(v)`; both with the defaults `ensure_ascii=True` and
//! `allow_nan=True`. [`Json`] reproduces those bytes: keys in insertion order (never
//! sorted), floats as Python `repr` (see [`super::pyfloat`]), integers in plain decimal,
//! strings escaped the way `ensure_ascii` does.
//!
//! [`Json::parse`] reads JSON back preserving key order and the int/float distinction
//! (`1` is `Int`, `1.0` is `Float`), refusing `NaN`/`Infinity` (they are not JSON). The
//! writer's self-checks and the tests use it to compare a file to what was meant.

use std::fmt;

use super::pyfloat;

/// A JSON value with ordered object keys and Python-`repr` floats.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs, in the given order.
    pub fn obj<K, V, I>(pairs: I) -> Json
    where
        K: Into<String>,
        V: Into<Json>,
        I: IntoIterator<Item = (K, V)>,
    {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// An array from anything convertible to `Json`.
    pub fn arr<V, I>(items: I) -> Json
    where
        V: Into<Json>,
        I: IntoIterator<Item = V>,
    {
        Json::Array(items.into_iter().map(Into::into).collect())
    }

    /// The value under `key` if `self` is an object holding it (first match).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `json.dumps(v)`: one line, `", "` and `": "`, ensure_ascii.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    /// Append `json.dumps(v)` to `out`.
    pub fn write_compact(&self, out: &mut String) {
        match self {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            Json::Object(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(out, k);
                    out.push_str(": ");
                    v.write_compact(out);
                }
                out.push('}');
            }
            scalar => write_scalar(out, scalar),
        }
    }

    /// `json.dumps(v, indent=2)`.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out);
        out
    }

    /// Append `json.dumps(v, indent=2)` to `out` (no trailing newline, like Python).
    pub fn write_pretty(&self, out: &mut String) {
        self.write_pretty_at(out, 0);
    }

    /// Python's `_iterencode` with `indent=2`: a non-empty container opens, puts each
    /// item on its own line one level deeper with `","` at line end, and closes on a
    /// line at the container's own level; empty containers stay `[]` / `{}`.
    fn write_pretty_at(&self, out: &mut String, level: usize) {
        match self {
            Json::Array(items) if !items.is_empty() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline_indent(out, level + 1);
                    item.write_pretty_at(out, level + 1);
                }
                newline_indent(out, level);
                out.push(']');
            }
            Json::Object(pairs) if !pairs.is_empty() => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline_indent(out, level + 1);
                    write_str(out, k);
                    out.push_str(": ");
                    v.write_pretty_at(out, level + 1);
                }
                newline_indent(out, level);
                out.push('}');
            }
            Json::Array(_) => out.push_str("[]"),
            Json::Object(_) => out.push_str("{}"),
            scalar => write_scalar(out, scalar),
        }
    }

    /// Parse JSON text keeping key order, `Int` vs `Float`, and refusing non-finite
    /// numbers. Integers beyond i64 (Python could write them; the exporter never does)
    /// are an error rather than a silently rounded float.
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn newline_indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_scalar(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Int(i) => {
            use fmt::Write as _;
            let _ = write!(out, "{i}");
        }
        // `allow_nan=True` spellings; never produced by the exporter (inputs are
        // validated finite) but this keeps the `json.dumps` equivalence total.
        Json::Float(x) if x.is_nan() => out.push_str("NaN"),
        Json::Float(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Json::Float(x) => pyfloat::write_repr(out, *x),
        Json::Str(s) => write_str(out, s),
        Json::Array(_) | Json::Object(_) => {}
    }
}

/// A JSON string literal as `ensure_ascii=True` writes it: short escapes for `"`, `\`,
/// `\n \r \t \b \f`; `\u00XX`-style lowercase hex for everything else outside
/// 0x20–0x7E (so DEL is escaped too); UTF-16 surrogate pairs above U+FFFF; `/` as is.
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let push_u = |out: &mut String, u: u16| {
        out.push_str("\\u");
        for shift in [12u32, 8, 4, 0] {
            out.push(HEX[usize::from((u >> shift) & 0xf)] as char);
        }
    };
    out.push('"');
    // Copy runs of plain printable ASCII in one go; they are the common case.
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let plain = (' '..='~').contains(&c) && c != '"' && c != '\\';
        if plain {
            continue;
        }
        out.push_str(&s[run_start..i]);
        run_start = i + c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            _ => {
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    push_u(out, u);
                }
            }
        }
    }
    out.push_str(&s[run_start..bytes.len()]);
    out.push('"');
}

impl From<bool> for Json {
    fn from(v: bool) -> Self {
        Json::Bool(v)
    }
}
impl From<i64> for Json {
    fn from(v: i64) -> Self {
        Json::Int(v)
    }
}
impl From<i32> for Json {
    fn from(v: i32) -> Self {
        Json::Int(i64::from(v))
    }
}
impl From<u32> for Json {
    fn from(v: u32) -> Self {
        Json::Int(i64::from(v))
    }
}
impl From<u8> for Json {
    fn from(v: u8) -> Self {
        Json::Int(i64::from(v))
    }
}
impl From<u16> for Json {
    fn from(v: u16) -> Self {
        Json::Int(i64::from(v))
    }
}
/// For lengths and counts. Panics only above `i64::MAX`, which no in-memory length
/// reaches (Rust bounds allocations by `isize::MAX`).
impl From<usize> for Json {
    fn from(v: usize) -> Self {
        #[allow(clippy::expect_used)]
        Json::Int(i64::try_from(v).expect("count fits in i64"))
    }
}
impl From<f64> for Json {
    fn from(v: f64) -> Self {
        Json::Float(v)
    }
}
/// Widened exactly; prints like Python's `float(np.float32(v))` (`0.10000000149011612`).
impl From<f32> for Json {
    fn from(v: f32) -> Self {
        Json::Float(f64::from(v))
    }
}
impl From<&str> for Json {
    fn from(v: &str) -> Self {
        Json::Str(v.to_owned())
    }
}
impl From<String> for Json {
    fn from(v: String) -> Self {
        Json::Str(v)
    }
}
impl From<&String> for Json {
    fn from(v: &String) -> Self {
        Json::Str(v.clone())
    }
}
/// `None` is `null`.
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}
impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Self {
        Json::Array(v.into_iter().map(Into::into).collect())
    }
}

/// `json.dumps(v)`, so `format!("{v}")` gives the manifest text.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_compact())
    }
}

/// Order-preserving deserialization: serde hands map entries to the visitor in file
/// order, so no `preserve_order` map type is needed.
impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Json, E> {
        i64::try_from(v)
            .map(Json::Int)
            .map_err(|_| E::custom(format!("integer {v} is outside the i64 range")))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        if v.is_finite() {
            Ok(Json::Float(v))
        } else {
            Err(E::custom("non-finite number"))
        }
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            pairs.push((k, v));
        }
        Ok(Json::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    /// Expected strings were produced by CPython 3.11 `json.dumps` on the same values.
    fn sample() -> Json {
        Json::obj([
            ("name", Json::from("Golden ✓ \"q\" \\ / tab\t nl\n 🧬")),
            ("n", Json::from(3i64)),
            ("x", Json::from(0.1f32)),
            ("small", Json::from(1e-5)),
            ("big", Json::from(1e16)),
            ("neg0", Json::from(-0.0)),
            ("whole", Json::from(98.0)),
            ("flags", Json::arr([true, false])),
            ("none", Json::Null),
            ("empty_list", Json::Array(vec![])),
            ("empty_obj", Json::Object(vec![])),
            (
                "nested",
                Json::obj([
                    ("a", Json::arr([Json::from(1i64), Json::arr([2i64]), Json::obj([("b", "c")])])),
                    ("ctl", Json::from("\u{0}\u{1f}\u{7f}\u{80}\u{8}\u{c}\r\u{2028}")),
                ]),
            ),
        ])
    }

    #[test]
    fn compact_matches_python() {
        let want = r#"{"name": "Golden \u2713 \"q\" \\ / tab\t nl\n \ud83e\uddec", "n": 3, "x": 0.10000000149011612, "small": 1e-05, "big": 1e+16, "neg0": -0.0, "whole": 98.0, "flags": [true, false], "none": null, "empty_list": [], "empty_obj": {}, "nested": {"a": [1, [2], {"b": "c"}], "ctl": "\u0000\u001f\u007f\u0080\b\f\r\u2028"}}"#;
        assert_eq!(sample().to_compact(), want);
        assert_eq!(format!("{}", sample()), want);
    }

    #[test]
    fn pretty_matches_python() {
        let want = r#"{
  "name": "Golden \u2713 \"q\" \\ / tab\t nl\n \ud83e\uddec",
  "n": 3,
  "x": 0.10000000149011612,
  "small": 1e-05,
  "big": 1e+16,
  "neg0": -0.0,
  "whole": 98.0,
  "flags": [
    true,
    false
  ],
  "none": null,
  "empty_list": [],
  "empty_obj": {},
  "nested": {
    "a": [
      1,
      [
        2
      ],
      {
        "b": "c"
      }
    ],
    "ctl": "\u0000\u001f\u007f\u0080\b\f\r\u2028"
  }
}"#;
        assert_eq!(sample().to_pretty(), want);
    }

    #[test]
    fn top_level_scalars_and_empties() {
        assert_eq!(Json::Array(vec![]).to_pretty(), "[]");
        assert_eq!(Json::Object(vec![]).to_compact(), "{}");
        assert_eq!(Json::from("").to_pretty(), "\"\"");
        assert_eq!(Json::from(i64::MIN).to_compact(), "-9223372036854775808");
        assert_eq!(Json::from(f64::NAN).to_compact(), "NaN");
        assert_eq!(Json::from(f64::NEG_INFINITY).to_compact(), "-Infinity");
        assert_eq!(Json::from(None::<i64>).to_compact(), "null");
    }

    #[test]
    fn parse_keeps_order_and_int_float() {
        let v = Json::parse(r#"{"z": 1, "a": 1.0, "m": [1e-05, "\ud83e\uddec"]}"#).unwrap();
        assert_eq!(
            v,
            Json::obj([
                ("z", Json::Int(1)),
                ("a", Json::Float(1.0)),
                ("m", Json::arr([Json::Float(1e-5), Json::from("🧬")])),
            ])
        );
        assert_eq!(v.get("a"), Some(&Json::Float(1.0)));
        assert!(Json::parse("NaN").is_err());
        assert!(Json::parse("[Infinity]").is_err());
        assert!(Json::parse("18446744073709551615").is_err());
    }
}
