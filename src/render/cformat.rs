//! C's `printf` number formats, as ss prints tcp_info with them: `%g` (RTTs in
//! milliseconds, gains, rates in K/M/G) and `%.0f` (exact rates with `-n`).
//!
//! Rust's float formatting gives the same digits but goes through an exact big-number
//! algorithm whenever it is asked for a fixed number of digits, which made `-i` three times
//! slower than the dump it prints. Here the digits come from one scaled multiplication and an
//! integer, which is exact unless the value lies within rounding error of a tie between two
//! decimal roundings; only then does the exact path run.

use std::fmt::Write as _;

/// C's `%.Pg`: `precision` significant digits, trailing zeros removed, in exponent form when
/// the exponent is below -4 or not below the precision.
pub fn push_g(out: &mut String, value: f64, precision: usize) {
    let precision = precision.clamp(1, 15);
    if value == 0.0 {
        out.push('0');
        return;
    }
    match significant_digits(value, precision) {
        Some((digits, exponent)) => push_g_digits(out, value < 0.0, digits, exponent, precision),
        None => push_g_exact(out, value, precision),
    }
}

/// C's `%.0f` for a rate: the value rounded to an integer, ties to even as printf rounds the
/// exact binary value.
pub fn push_integral(out: &mut String, value: f64) {
    let rounded = value.round_ties_even();
    if rounded.abs() < 9.0e15 {
        out.push_str(itoa::Buffer::new().format(rounded as i64));
    } else {
        let _ = write!(out, "{value:.0}");
    }
}

/// The first `precision` significant digits of `value`, rounded, as an integer, and the
/// decimal exponent of the first one; `None` when the scaled value is too close to a rounding
/// tie for one floating-point product to decide it (or is not finite).
fn significant_digits(value: f64, precision: usize) -> Option<(u64, i32)> {
    let magnitude = value.abs();
    if !magnitude.is_finite() {
        return None;
    }
    let mut exponent = magnitude.log10().floor() as i32;
    // Bring the digits wanted before the decimal point: scaled is in [10^(P-1), 10^P), give
    // or take the error of log10 at an exact power of ten, corrected below.
    let shift = precision as i32 - 1 - exponent;
    let scaled = scale(magnitude, shift)?;
    let (low, high) = (POWERS[precision - 1], POWERS[precision]);
    let (scaled, exponent_fix) = if scaled < low {
        (scale(magnitude, shift + 1)?, -1)
    } else if scaled >= high {
        (scale(magnitude, shift - 1)?, 1)
    } else {
        (scaled, 0)
    };
    exponent += exponent_fix;
    let fraction = scaled - scaled.floor();
    // One multiplication (or division) by an exact power of ten rounds once: the product is
    // within one unit in the last place (scaled * 2^-52) of the true value, far below this
    // margin.
    if (fraction - 0.5).abs() <= scaled * 1e-12 {
        return None;
    }
    let mut digits = scaled.round() as u64;
    if digits >= high as u64 {
        // 9.999995 to six digits is 10.0000: one digit more, one exponent up.
        digits /= 10;
        exponent += 1;
    }
    Some((digits, exponent))
}

/// `magnitude` times 10^shift, with a single rounding: multiplying or dividing by a power of
/// ten that f64 holds exactly (up to 10^22).
fn scale(magnitude: f64, shift: i32) -> Option<f64> {
    let power = *POWERS.get(shift.unsigned_abs() as usize)?;
    Some(if shift >= 0 {
        magnitude * power
    } else {
        magnitude / power
    })
}

const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Writes `digits` (exactly `precision` of them, the first not 0) with the first at decimal
/// `exponent`, as `%g` lays them out.
fn push_g_digits(out: &mut String, negative: bool, digits: u64, exponent: i32, precision: usize) {
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(digits);
    let significant = text.trim_end_matches('0');
    let significant = if significant.is_empty() {
        "0"
    } else {
        significant
    };
    if negative {
        out.push('-');
    }
    if exponent < -4 || exponent >= precision as i32 {
        out.push_str(&significant[..1]);
        if significant.len() > 1 {
            out.push('.');
            out.push_str(&significant[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exponent.unsigned_abs());
    } else if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(significant);
    } else {
        let whole = exponent as usize + 1;
        if significant.len() <= whole {
            out.push_str(significant);
            for _ in significant.len()..whole {
                out.push('0');
            }
        } else {
            out.push_str(&significant[..whole]);
            out.push('.');
            out.push_str(&significant[whole..]);
        }
    }
}

/// `%g` through Rust's exact formatting, for the values the fast path cannot decide.
fn push_g_exact(out: &mut String, value: f64, precision: usize) {
    // Rounding to the significant digits decides the exponent (999999.5 is 1e+06).
    let mut scientific = StackText::default();
    let _ = write!(scientific, "{:.*e}", precision - 1, value);
    let Some((mantissa, exponent)) = scientific.as_str().split_once('e') else {
        out.push_str(scientific.as_str());
        return;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        out.push_str(trim_zeros(mantissa));
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.unsigned_abs()
        );
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        let mut fixed = StackText::default();
        let _ = write!(fixed, "{value:.decimals$}");
        out.push_str(trim_zeros(fixed.as_str()));
    }
}

/// A short text on the stack, so that formatting a number allocates nothing. `%g` of an
/// `f64` needs at most a few dozen bytes; anything longer is cut.
struct StackText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(value: f64, precision: usize) -> String {
        let mut out = String::new();
        push_g(&mut out, value, precision);
        out
    }

    fn g_exact(value: f64, precision: usize) -> String {
        let mut out = String::new();
        push_g_exact(&mut out, value, precision);
        out
    }

    #[test]
    fn percent_g_as_c_prints_it() {
        for (value, precision, expected) in [
            (204.0, 6, "204"),
            (0.003, 6, "0.003"),
            (5.144, 6, "5.144"),
            (2.88671875, 6, "2.88672"),
            (1234567.0, 6, "1.23457e+06"),
            (0.00001, 6, "1e-05"),
            (999999.5, 6, "1e+06"),
            (87.381328120, 3, "87.4"),
            (2.495171132, 3, "2.5"),
            (131.072, 3, "131"),
            (0.0, 6, "0"),
            (100.0, 3, "100"),
            (1000.0, 3, "1e+03"),
            (0.0001, 6, "0.0001"),
            (9.9999996, 6, "10"),
            (-2.5, 6, "-2.5"),
        ] {
            assert_eq!(g(value, precision), expected, "{value} to {precision}");
            assert_eq!(
                g_exact(value, precision),
                expected,
                "{value} to {precision}"
            );
        }
    }

    /// The fast path agrees with the exact one on the values -i prints (microseconds as
    /// milliseconds, rates scaled to K/M/G/T, gains) and on random doubles.
    #[test]
    fn fast_digits_agree_with_exact_formatting() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = Vec::new();
        for usec in (0..20_000u32).chain((0..20_000).map(|_| next() as u32)) {
            values.push(f64::from(usec) / 1000.0);
        }
        for _ in 0..20_000 {
            let bytes_per_second = next() % 10_000_000_000_000;
            for limit in [1e12, 1e9, 1e6, 1e3] {
                values.push(bytes_per_second as f64 * 8.0 / limit);
            }
            values.push(f64::from((next() % 1024) as u32) / 256.0);
            values.push(f64::from_bits(next() >> 2));
        }
        for value in values {
            for precision in [3, 6] {
                assert_eq!(g(value, precision), g_exact(value, precision), "{value:e}");
            }
        }
    }

    #[test]
    fn integral_rates_round_as_printf() {
        let integral = |value: f64| {
            let mut out = String::new();
            push_integral(&mut out, value);
            out
        };
        assert_eq!(integral(54_613_333_333.33), "54613333333");
        assert_eq!(integral(349_242_666_666.67), "349242666667");
        assert_eq!(integral(2.5), "2");
        assert_eq!(integral(3.5), "4");
        assert_eq!(integral(0.0), "0");
        assert_eq!(integral(1e20), "100000000000000000000");
    }
}
