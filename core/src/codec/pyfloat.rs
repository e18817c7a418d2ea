//! Python `repr(float)` for f64 (FORMAT.md §5). INTERFACE STUB: implemented by the codec work.

/// Append Python's `repr(x)` of a finite f64 to `out`.
pub fn write_repr(out: &mut String, x: f64) {
    let _ = (out, x);
    todo!("pyfloat::write_repr")
}

/// Python's `repr(x)` of a finite f64.
pub fn repr(x: f64) -> String {
    let mut s = String::new();
    write_repr(&mut s, x);
    s
}
