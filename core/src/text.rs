//! Text rules of the reference (FORMAT.md §1.1): display text, portable ids, timestamps,
//! and Python's `repr()` of a string, which its error messages quote.

/// Characters that may not start or end display text.
const EDGE_SPACES: &[(char, &str)] = &[
    ('\u{0020}', "SPACE"),
    ('\u{00A0}', "NO-BREAK SPACE"),
    ('\u{1680}', "OGHAM SPACE MARK"),
    ('\u{2000}', "EN QUAD"),
    ('\u{2001}', "EM QUAD"),
    ('\u{2002}', "EN SPACE"),
    ('\u{2003}', "EM SPACE"),
    ('\u{2004}', "THREE-PER-EM SPACE"),
    ('\u{2005}', "FOUR-PER-EM SPACE"),
    ('\u{2006}', "SIX-PER-EM SPACE"),
    ('\u{2007}', "FIGURE SPACE"),
    ('\u{2008}', "PUNCTUATION SPACE"),
    ('\u{2009}', "THIN SPACE"),
    ('\u{200A}', "HAIR SPACE"),
    ('\u{2028}', "LINE SEPARATOR"),
    ('\u{2029}', "PARAGRAPH SEPARATOR"),
    ('\u{202F}', "NARROW NO-BREAK SPACE"),
    ('\u{205F}', "MEDIUM MATHEMATICAL SPACE"),
    ('\u{3000}', "IDEOGRAPHIC SPACE"),
];

/// Invisible characters refused anywhere in display text.
const INVISIBLE: &[(char, &str)] = &[
    ('\u{200B}', "ZERO WIDTH SPACE"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE"),
];

fn is_control(c: char) -> bool {
    matches!(c as u32, 0x00..=0x1F | 0x7F..=0x9F)
}

/// Whether `c` belongs to the whitespace set the viewer collapses and refuses at the edges.
pub fn is_edge_space(c: char) -> bool {
    EDGE_SPACES.iter().any(|(s, _)| *s == c)
}

/// The first defect of display text, phrased as the reference does, or `None` if it is fine.
///
/// Examples: `contains U+000A (control character)`, `starts with U+0020 SPACE`.
pub fn display_text_defect(s: &str) -> Option<String> {
    for c in s.chars() {
        if is_control(c) {
            return Some(format!("contains U+{:04X} (control character)", c as u32));
        }
        if let Some((_, name)) = INVISIBLE.iter().find(|(x, _)| *x == c) {
            return Some(format!("contains U+{:04X} {name}", c as u32));
        }
    }
    if let Some(c) = s.chars().next() {
        if let Some((_, name)) = EDGE_SPACES.iter().find(|(x, _)| *x == c) {
            return Some(format!("starts with U+{:04X} {name}", c as u32));
        }
    }
    if let Some(c) = s.chars().next_back() {
        if let Some((_, name)) = EDGE_SPACES.iter().find(|(x, _)| *x == c) {
            return Some(format!("ends with U+{:04X} {name}", c as u32));
        }
    }
    None
}

/// The reference's message for display text with a defect.
pub fn display_text_message(label: &str, value: &str, defect: &str) -> String {
    format!(
        "{label} is displayed verbatim, so it must not carry characters that have no glyph: {} {defect}. \
         Cellucid does not remove them for you, because that would change text you did not ask to change. \
         Pass the exact text you want shown.",
        py_repr(value)
    )
}

/// Collapse every run of the edge-space set to one ASCII space (how the viewer draws labels).
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_run = false;
    for c in s.chars() {
        if is_edge_space(c) {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// Why `id` is not a portable dataset id, as the reference's message, or `None`.
pub fn portable_id_error(id: &str) -> Option<String> {
    let bytes = id.as_bytes();
    let ok_shape = !bytes.is_empty()
        && bytes.len() <= 180
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok_shape {
        return Some(format!(
            "dataset_id {} must be 1-180 ASCII bytes, start with an ASCII letter or digit, and otherwise contain only ASCII letters, digits, '.', '_', or '-'.",
            py_repr(id)
        ));
    }
    if id.ends_with('.') {
        return Some(format!("dataset_id {} must not end with '.'.", py_repr(id)));
    }
    let stem = id.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && matches!(stem.as_bytes()[3], b'1'..=b'9'));
    if reserved {
        return Some(format!("dataset_id {} is a reserved Windows filename.", py_repr(id)));
    }
    None
}

/// Checks `YYYY-MM-DDTHH:MM:SSZ`; `Err` carries the reference's message.
pub fn check_created_at(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.clone().all(|i| b[i].is_ascii_digit());
    let shape = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if !shape {
        return Err("created_at must use exact 'YYYY-MM-DDTHH:MM:SSZ' UTC format.".into());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
    let (y, mo, d, h, mi, se) = (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if y == 0 || d == 0 || d > days || h > 23 || mi > 59 || se > 59 {
        return Err("created_at must be a valid UTC calendar timestamp in 'YYYY-MM-DDTHH:MM:SSZ' format.".into());
    }
    Ok(())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn py_printable(c: char) -> bool {
    let u = c as u32;
    !(is_control(c)
        || (c != ' ' && is_edge_space(c))
        || INVISIBLE.iter().any(|(x, _)| *x == c)
        || matches!(u, 0x00AD | 0x200C..=0x200F | 0x202A..=0x202E | 0x2061..=0x206F | 0xE000..=0xF8FF | 0xFFF9..=0xFFFB)
        || (0xD800..=0xDFFF).contains(&u))
}

/// Python's `repr()` of a `str`: quotes chosen as Python does, non-printables escaped.
/// Safe code over `chars()` only (no byte indexing), so it is total on every `&str`; the
/// crash seen once came from a `&str` built unchecked from non-UTF-8 input, which the
/// `.h5ad` reader no longer produces (`datasets/src/h5ad/strings.rs`).
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if py_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a list of strings: `['a', 'b']`.
pub fn py_repr_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| py_repr(s.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defects_are_named_like_the_reference() {
        assert_eq!(display_text_defect(" padded").unwrap(), "starts with U+0020 SPACE");
        assert_eq!(display_text_defect("a\u{200b}b").unwrap(), "contains U+200B ZERO WIDTH SPACE");
        assert_eq!(display_text_defect("line1\nline2").unwrap(), "contains U+000A (control character)");
        assert_eq!(display_text_defect("x\u{a0}").unwrap(), "ends with U+00A0 NO-BREAK SPACE");
        assert_eq!(display_text_defect("CD4/CD8 ratio 🧬 細胞"), None);
    }

    #[test]
    fn repr_matches_python() {
        assert_eq!(py_repr("a\u{200b}b"), "'a\\u200bb'");
        assert_eq!(py_repr("line1\nline2"), "'line1\\nline2'");
        assert_eq!(py_repr("g\t2"), "'g\\t2'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("é🧬"), "'é🧬'");
        assert_eq!(py_repr("\u{a0}x"), "'\\xa0x'");
    }

    #[test]
    fn portable_ids() {
        assert!(portable_id_error("golden092-case01").is_none());
        assert!(portable_id_error("my dataset").unwrap().contains("1-180 ASCII"));
        assert!(portable_id_error("abc.").unwrap().contains("must not end"));
        assert!(portable_id_error("con.v1").unwrap().contains("reserved"));
        assert!(portable_id_error("COM1").is_some());
        assert!(portable_id_error("COM10").is_none());
        assert!(portable_id_error(&"a".repeat(181)).is_some());
    }

    #[test]
    fn timestamps() {
        assert!(check_created_at("2024-02-29T00:00:00Z").is_ok());
        assert!(check_created_at("2026-02-30T00:00:00Z").unwrap_err().contains("valid UTC calendar"));
        assert!(check_created_at("2026-01-01T00:00:60Z").is_err());
        assert!(check_created_at("2026-01-01T24:00:00Z").is_err());
        assert!(check_created_at("2026-01-01 00:00:00").unwrap_err().contains("exact"));
        assert!(check_created_at(&utc_now()).is_ok());
    }

    #[test]
    fn collapse() {
        assert_eq!(collapse_whitespace("T  cell"), "T cell");
        assert_eq!(collapse_whitespace("T\u{3000} cell"), "T cell");
    }

    #[test]
    fn every_scalar_value_goes_through_every_text_rule() {
        // Totality: no input string makes these panic (they index bytes only behind
        // length checks); each character beside ASCII and a 4-byte character, and at
        // the end of a timestamp-length string, so byte offsets shift across widths.
        let mut all = String::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            all.push(c);
            for s in [format!("a{c}🧬{c}"), format!("2026-01-01T00:00:0{c}")] {
                let r = py_repr(&s);
                assert!(r.len() >= 2 && r.is_char_boundary(1), "{r}");
                let _ = display_text_defect(&s);
                let _ = collapse_whitespace(&s);
                let _ = portable_id_error(&s);
                let _ = check_created_at(&s);
            }
        }
        assert!(py_repr(&all).chars().count() > all.chars().count());
    }
}
