//! Advertised paths: the viewer's safe-relative-path rule, `{index}` patterns, `.gz` suffixes.
//!
//! A safe path (VIEWER.md B.3, B.4) is relative POSIX: no leading `/`, no empty, `.` or
//! `..` segment, and every segment equal to `encodeURIComponent` of itself. Because `%`
//! is refused, that leaves exactly the characters `encodeURIComponent` keeps:
//! `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, which also rules out `\`, `?`, `#`, `:` (so drive
//! letters and URL schemes), spaces and control characters.

use super::Sink;

/// Characters `encodeURIComponent` leaves unescaped.
fn uri_component_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')')
}

/// Why `path` is not a safe relative path, or `None`.
pub(crate) fn unsafe_reason(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("is empty".into());
    }
    if path.starts_with('/') {
        return Some("must be relative (it starts with '/')".into());
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return Some("has an empty segment".into());
        }
        if segment == "." || segment == ".." {
            return Some(format!("has a '{segment}' segment"));
        }
        if let Some(c) = segment.chars().find(|c| !uri_component_safe(*c)) {
            return Some(format!("segment {segment:?} is not URI-canonical (character {c:?})"));
        }
    }
    None
}

/// Reports `path` at `field` unless it is a safe relative path.
pub(crate) fn check_safe(s: &mut Sink, field: &str, path: &str) -> bool {
    match unsafe_reason(path) {
        Some(reason) => {
            s.report(field, format!("path {path:?} {reason}"));
            false
        }
        None => true,
    }
}

/// Reports a path whose `.gz` suffix disagrees with the compression of record.
/// `compressed` is `None` when the compression is itself unknown (already reported).
pub(crate) fn check_gz(s: &mut Sink, field: &str, path: &str, compressed: Option<bool>) {
    match compressed {
        Some(true) if !path.ends_with(".gz") => s.report(field, format!("path {path:?} must end in .gz because compression is set")),
        Some(false) if path.ends_with(".gz") => s.report(field, format!("path {path:?} must not end in .gz because compression is null")),
        _ => {}
    }
}

/// Checks a payload path pattern (B.4, B.5): `{index}` exactly once, `{ext}` exactly once
/// when `with_ext`, no other placeholder, the given ending plus `.gz` iff compressed, and a
/// safe path once expanded. Returns whether the pattern can be expanded.
pub(crate) fn check_pattern(s: &mut Sink, field: &str, pattern: &str, with_ext: bool, ending: &str, compressed: Option<bool>) -> bool {
    let mut ok = true;
    let n_index = pattern.matches("{index}").count();
    if n_index != 1 {
        s.report(
            field,
            format!("pattern {pattern:?} must contain {{index}} exactly once (found {n_index})"),
        );
        ok = false;
    }
    let n_ext = pattern.matches("{ext}").count();
    if with_ext && n_ext != 1 {
        s.report(
            field,
            format!("pattern {pattern:?} must contain {{ext}} exactly once (found {n_ext})"),
        );
        ok = false;
    }
    let rest = pattern.replace("{index}", "").replace("{ext}", if with_ext { "" } else { "{ext}" });
    if rest.contains('{') || rest.contains('}') {
        s.report(
            field,
            format!(
                "pattern {pattern:?} uses a placeholder other than {{index}}{}",
                if with_ext { " and {ext}" } else { "" }
            ),
        );
        ok = false;
    }
    let body = pattern.strip_suffix(".gz").unwrap_or(pattern);
    if !body.ends_with(ending) {
        s.report(
            field,
            format!("pattern {pattern:?} must end with {ending:?} (plus .gz when compressed)"),
        );
        ok = false;
    }
    check_gz(s, field, pattern, compressed);
    if ok {
        ok = check_safe(s, field, &expand(pattern, 0, "u8"));
    }
    ok
}

/// The payload path for one field: `{index}` → decimal index, `{ext}` → `ext`.
pub(crate) fn expand(pattern: &str, index: u64, ext: &str) -> String {
    pattern.replace("{index}", &index.to_string()).replace("{ext}", ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert_eq!(unsafe_reason("obs/0.values.f32.gz"), None);
        assert_eq!(unsafe_reason("points_2d.bin"), None);
        for bad in [
            "/abs", "a//b", "./a", "a/../b", "a b", "a%20b", "C:/x", "a\\b", "a?b", "a#b", "http://x", "a\u{1}b", "",
        ] {
            assert!(unsafe_reason(bad).is_some(), "{bad:?} should be refused");
        }
    }

    fn pattern_problems(pattern: &str, with_ext: bool, ending: &str, compressed: Option<bool>) -> Vec<String> {
        let mut problems = Vec::new();
        let mut s = Sink::new("m.json", &mut problems);
        check_pattern(&mut s, "p", pattern, with_ext, ending, compressed);
        problems.into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn patterns() {
        assert!(pattern_problems("obs/{index}.values.f32", false, "{index}.values.f32", Some(false)).is_empty());
        assert!(pattern_problems("obs/{index}.codes.{ext}.gz", true, "{index}.codes.{ext}", Some(true)).is_empty());
        assert_eq!(
            pattern_problems("obs/{key}.values.f32", false, "{index}.values.f32", Some(false)).len(),
            3
        );
        assert_eq!(
            pattern_problems("obs/{index}.values.f32", false, "{index}.values.f32", Some(true)).len(),
            1
        );
        assert_eq!(
            pattern_problems("obs/{index}{index}.values.f32", false, "{index}.values.f32", Some(false)).len(),
            1
        );
        assert_eq!(expand("obs/{index}.codes.{ext}.gz", 12, "u16"), "obs/12.codes.u16.gz");
    }
}
