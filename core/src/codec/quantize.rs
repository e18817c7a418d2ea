//! Quantization codec (FORMAT.md §6): float32 values to 8- or 16-bit codes.
//!
//! The arithmetic is the reference's, to the bit: bounds are the exact f32 min and max
//! widened to f64; each code is `floor(clamp((f64(v) - mn) * scale + 1e-8, 0, maxq))`
//! with `scale = maxq / (mx - mn)`, three f64 operations in that order. The `+1e-8`
//! nudge lifts values whose exact product is an integer but lands one ulp below it.

/// Published bounds of a quantized payload (`[mn, mx]` in the manifests).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
}

/// Largest code for `bits` (254 or 65534); the next value up is the missing marker.
pub fn max_code(bits: u32) -> u32 {
    if bits == 16 {
        65534
    } else {
        254
    }
}

/// The missing marker for `bits` (255 or 65535).
pub fn marker(bits: u32) -> u32 {
    max_code(bits) + 1
}

/// Minimum and maximum of finite f32 values (NaN skipped); `None` if there are none.
pub fn finite_min_max(values: &[f32]) -> Option<(f32, f32)> {
    let mut mn = f32::INFINITY;
    let mut mx = f32::NEG_INFINITY;
    let mut any = false;
    for &v in values {
        if !v.is_nan() {
            any = true;
            if v < mn {
                mn = v;
            }
            if v > mx {
                mx = v;
            }
        }
    }
    any.then_some((mn, mx))
}

/// The codec for one vector, once its bounds are known: `code(v)` is the reference's
/// formula, exactly; a constant vector (equal bounds) codes everything as 0.
#[derive(Clone, Copy, Debug)]
pub struct Quantizer {
    mn: f64,
    scale: f64,
    maxq: f64,
    constant: bool,
    marker: u32,
}

impl Quantizer {
    /// A quantizer for f32 bounds `mn <= mx` at `bits` (8 or 16).
    pub fn new(bits: u32, mn: f32, mx: f32) -> Self {
        let maxq = max_code(bits);
        let (mn, mx) = (mn as f64, mx as f64);
        let constant = mn == mx;
        let scale = if constant { 0.0 } else { maxq as f64 / (mx - mn) };
        Quantizer { mn, scale, maxq: maxq as f64, constant, marker: marker(bits) }
    }

    /// The code of `v` (the marker for NaN).
    #[inline(always)]
    pub fn code(&self, v: f32) -> u32 {
        if v.is_nan() {
            self.marker
        } else if self.constant {
            0
        } else {
            let t = ((v as f64 - self.mn) * self.scale) + 1e-8;
            t.clamp(0.0, self.maxq) as u32
        }
    }
}

/// Quantize `values` (all finite) into little-endian codes appended to `out`.
///
/// Returns the published bounds. A constant vector gives equal bounds and all codes 0.
/// `values` must not be empty unless the caller accepts bounds of `(+inf, -inf)`; the
/// exporter never quantizes zero cells.
pub fn quantize(values: &[f32], bits: u32, out: &mut Vec<u8>) -> Bounds {
    let (mn, mx) = finite_min_max(values).unwrap_or((0.0, 0.0));
    quantize_with_bounds(values, bits, mn, mx, out);
    Bounds { min: mn as f64, max: mx as f64 }
}

/// Quantize with NaN as the missing marker (outlier quantiles). `None` if every value is NaN,
/// in which case nothing is written.
pub fn quantize_with_missing(values: &[f32], bits: u32, out: &mut Vec<u8>) -> Option<Bounds> {
    let (mn, mx) = finite_min_max(values)?;
    quantize_with_bounds(values, bits, mn, mx, out);
    Some(Bounds { min: mn as f64, max: mx as f64 })
}

/// Quantize against given f32 bounds; NaN becomes the marker.
pub fn quantize_with_bounds(values: &[f32], bits: u32, mn: f32, mx: f32, out: &mut Vec<u8>) {
    let q = Quantizer::new(bits, mn, mx);
    if bits == 16 {
        out.reserve(values.len() * 2);
        for &v in values {
            out.extend_from_slice(&(q.code(v) as u16).to_le_bytes());
        }
    } else {
        let start = out.len();
        out.resize(start + values.len(), 0);
        for (d, &v) in out[start..].iter_mut().zip(values) {
            *d = q.code(v) as u8;
        }
    }
}

/// The viewer's decoding (VIEWER.md B.11): `min + q * ((max - min) / maxq)` into f32,
/// NaN for the marker, `min` for a constant field.
pub fn dequantize(code: u32, bounds: Bounds, bits: u32) -> f32 {
    if code == marker(bits) {
        return f32::NAN;
    }
    if bounds.min == bounds.max {
        return bounds.min as f32;
    }
    (bounds.min + code as f64 * ((bounds.max - bounds.min) / max_code(bits) as f64)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes8(v: &[f32]) -> (Vec<u8>, Bounds) {
        let mut out = Vec::new();
        let b = quantize(v, 8, &mut out);
        (out, b)
    }

    #[test]
    fn nudge_reaches_exact_integers() {
        // Integer data 0..=376 at 8 bits: k = 188 and 376 give 127 and 254 only with the nudge.
        let v: Vec<f32> = (0..=376).map(|k| k as f32).collect();
        let (c, b) = codes8(&v);
        assert_eq!((b.min, b.max), (0.0, 376.0));
        assert_eq!(c[188], 127);
        assert_eq!(c[376], 254);
        assert_eq!(c[0], 0);
    }

    #[test]
    fn constant_field_is_all_zero_codes() {
        let (c, b) = codes8(&[7.0; 5]);
        assert_eq!(c, vec![0; 5]);
        assert_eq!((b.min, b.max), (7.0, 7.0));
    }

    #[test]
    fn missing_becomes_marker() {
        let mut out = Vec::new();
        let b = quantize_with_missing(&[f32::NAN, 0.5, 1.0], 16, &mut out).unwrap();
        assert_eq!(b, Bounds { min: 0.5, max: 1.0 });
        assert_eq!(out, vec![0xff, 0xff, 0, 0, 0xfe, 0xff]);
        assert!(quantize_with_missing(&[f32::NAN; 3], 8, &mut Vec::new()).is_none());
    }

    #[test]
    fn floor_quantization_can_err_by_more_than_half_a_step() {
        // The reference floors (with the +1e-8 nudge), so the viewer's decoding can be
        // up to one step below the value, never above: 0.99 steps here.
        let v = [0.0f32, 0.99, 254.0];
        let (c, b) = codes8(&v);
        assert_eq!(c, vec![0, 0, 254]);
        let back = dequantize(c[1] as u32, b, 8);
        assert_eq!(back, 0.0);
        assert!((0.99 - back as f64) > 0.5);
    }

    proptest! {
        /// The viewer's decoding of our codes never overshoots the value and stays within
        /// one quantization step of it (the reference floors; it does not round), up to
        /// the float32 rounding of the decoded value and the +1e-8 nudge.
        #[test]
        fn decoded_value_is_within_one_step_below(
            v in prop::collection::vec(-1.0e6f32..1.0e6, 2..200),
            bits in prop::sample::select(vec![8u32, 16]),
        ) {
            let mut out = Vec::new();
            let b = quantize(&v, bits, &mut out);
            let step = (b.max - b.min) / max_code(bits) as f64;
            for (i, &x) in v.iter().enumerate() {
                let c = if bits == 16 { u16::from_le_bytes([out[2*i], out[2*i+1]]) as u32 } else { out[i] as u32 };
                prop_assert!(c <= max_code(bits));
                let back = dequantize(c, b, bits) as f64;
                let eps = (x.abs() as f64).max(b.max.abs()).max(b.min.abs()) * 2f64.powi(-23) + 1e-8 * step;
                let err = x as f64 - back;
                prop_assert!(err >= -eps, "decoded {back} above {x}");
                prop_assert!(err < step + eps, "x={x} back={back} step={step}");
            }
        }
    }
}
