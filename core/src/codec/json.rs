//! Python `json.dumps` output (FORMAT.md §5). INTERFACE STUB: implemented by the codec work.

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
    /// `json.dumps(v)`: one line, `", "` and `": "`, ensure_ascii.
    pub fn to_compact(&self) -> String {
        todo!("json::to_compact")
    }
    /// `json.dumps(v, indent=2)`.
    pub fn to_pretty(&self) -> String {
        todo!("json::to_pretty")
    }
}
