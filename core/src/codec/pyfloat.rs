//! Python `repr(float)` for f64 (FORMAT.md §5 "Floats").
//!
//! Every float in the reference's JSON goes through `float.__repr__`, so byte
//! compatibility needs the exact same text. Python prints the *shortest* decimal digit
//! string that round-trips, as does Rust's `{:e}`. Two things differ: the tie rule when two
//! shortest strings are equally near (Python picks the even digit, Rust may not; fixed by
//! re-rounding with Rust's exact mode, see `write_repr`), and the layout. This module
//! takes the digits and exponent from `{:e}` and re-lays them out the Python way:
//!
//! - decimal exponent `e` (value = d₁.d₂… × 10^e) with −4 ≤ e < 16: positional,
//!   `.0` appended to integral values, leading zeros for values below 1;
//! - otherwise scientific: `d₁[.d₂…]e±XX` with at least two exponent digits.
//!
//! Non-finite values never reach the writer's output (all inputs are validated
//! finite); for completeness they render as Python does: `inf`, `-inf`, `nan`.

use std::fmt::Write as _;

/// A fixed stack buffer for the `{:e}` text, so formatting allocates nothing.
/// The longest `{:e}` of an f64 is 24 bytes (`-2.2250738585072014e-308`).
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Append Python's `repr(x)` of a finite f64 to `out`.
pub fn write_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    let ax = x.abs();
    let mut digits = [0u8; 24];
    let Some((n, exp)) = decimal_digits(ax, None, &mut digits) else {
        // Unreachable (40 bytes hold any f64's `{:e}`); print a valid number, don't panic.
        let _ = write!(out, "{ax:?}");
        return;
    };
    // Tie rule. Both Python and Rust find the shortest length `n` that round-trips,
    // but when two `n`-digit strings are equally close to `x` (the exact value ends in
    // a 5 just past digit `n`, e.g. 2^-25 = 2.98023223876953125e-08), Python's dtoa
    // picks the even last digit while Rust's shortest mode may pick the odd one. The
    // nearest `n`-digit string, ties to even, is what Rust's *exact* mode gives for
    // precision `n - 1`. A tie resolved the wrong way always leaves an odd last digit,
    // so only then is it worth re-checking. The nearest string must still round-trip:
    // at a power of two the round-trip interval is narrower below `x` than above, and
    // there Rust's shortest pick stands.
    if digits[n - 1] & 1 == 1 {
        let mut nearest = [0u8; 24];
        if let Some((m, e2)) = decimal_digits(ax, Some(n - 1), &mut nearest) {
            let differs = (m, e2) != (n, exp) || nearest[..m] != digits[..n];
            if differs && parse_digits(&nearest[..m], e2) == Some(ax) {
                layout(out, &nearest[..m], e2);
                return;
            }
        }
    }
    layout(out, &digits[..n], exp);
}

/// Format `ax` (finite, non-negative) with `{:e}` (shortest round-trip) or `{:.p$e}`
/// (exactly rounded, ties to even) and extract its significant digits into `digits`.
/// Returns the digit count (at least 1) and the decimal exponent of the first digit.
fn decimal_digits(ax: f64, precision: Option<usize>, digits: &mut [u8; 24]) -> Option<(usize, i32)> {
    let mut sb = StackBuf { buf: [0; 40], len: 0 };
    let written = match precision {
        None => write!(sb, "{ax:e}"),
        Some(p) => write!(sb, "{ax:.p$e}"),
    };
    written.ok()?;
    let text = &sb.buf[..sb.len];
    // `{:e}` of a non-negative finite f64 is `D[.DDD]e[-]N`.
    let e_pos = text.iter().position(|&b| b == b'e')?;
    let exp = parse_exp(&text[e_pos + 1..]);
    let mut n = 0usize;
    for &b in &text[..e_pos] {
        if b.is_ascii_digit() && n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    (n > 0).then_some((n, exp))
}

/// The f64 nearest to `d₁.d₂… × 10^exp`, parsed from a stack buffer.
fn parse_digits(digits: &[u8], exp: i32) -> Option<f64> {
    let mut sb = StackBuf { buf: [0; 40], len: 0 };
    let body = std::str::from_utf8(digits).ok()?;
    write!(sb, "{body}e{}", exp - (digits.len() as i32 - 1)).ok()?;
    std::str::from_utf8(&sb.buf[..sb.len]).ok()?.parse().ok()
}

/// Parse the exponent of `{:e}` output (`-5`, `16`, `0`).
fn parse_exp(s: &[u8]) -> i32 {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let mut v: i32 = 0;
    for &b in body {
        v = v * 10 + i32::from(b - b'0');
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Lay out `digits` (ASCII, first digit non-zero unless the value is 0) × 10^exp,
/// exponent of the first digit, the way CPython's `format_float_short` does for `'r'`.
fn layout(out: &mut String, digits: &[u8], exp: i32) {
    // The `as char` conversions are exact: every byte is an ASCII digit.
    let push_digits = |out: &mut String, d: &[u8]| {
        for &b in d {
            out.push(b as char);
        }
    };
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        // Position of the decimal point counted from the first digit.
        let decpt = exp + 1;
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..-decpt {
                out.push('0');
            }
            push_digits(out, digits);
        } else if decpt < n {
            let (int_part, frac) = digits.split_at(decpt as usize);
            push_digits(out, int_part);
            out.push('.');
            push_digits(out, frac);
        } else {
            push_digits(out, digits);
            for _ in 0..decpt - n {
                out.push('0');
            }
            out.push_str(".0");
        }
    } else {
        out.push(digits[0] as char);
        if n > 1 {
            out.push('.');
            push_digits(out, &digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        let _ = write!(out, "{a}");
    }
}

/// Python's `repr(x)` of a finite f64.
pub fn repr(x: f64) -> String {
    let mut s = String::new();
    write_repr(&mut s, x);
    s
}

#[cfg(test)]
mod tests {
    use super::repr;

    #[test]
    fn named_edge_cases() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (98.0, "98.0"),
            (3.25, "3.25"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-4, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e15, "1000000000000000.0"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.10000000149011612, "0.10000000149011612"),
            (0.1f32 as f64, "0.10000000149011612"),
            (0.02500000037252903, "0.02500000037252903"),
            (123.456, "123.456"),
            // Shortest-digit ties: Rust's `{:e}` says ...313e-8 and ...428.3.
            (2f64.powi(-25), "2.9802322387695312e-08"),
            (f64::from_bits(0x4301_45c6_e133_4322), "607724386019428.2"), // exactly …428.25
            // Power of two: the nearest 16 digits (…044) would not round-trip.
            (f64::from_bits(0x0060_0000_0000_0000), "7.120236347223045e-307"),
            (-7.5e-7, "-7.5e-07"),
        ];
        for &(x, want) in cases {
            assert_eq!(repr(x), want, "bits {:016x}", x.to_bits());
        }
    }

    #[test]
    fn non_finite_as_python() {
        assert_eq!(repr(f64::INFINITY), "inf");
        assert_eq!(repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(repr(f64::NAN), "nan");
    }

    #[test]
    fn appends_without_clearing() {
        let mut s = String::from("[");
        super::write_repr(&mut s, 0.5);
        assert_eq!(s, "[0.5");
    }
}
