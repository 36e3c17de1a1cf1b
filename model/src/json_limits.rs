//! What a stored document must fit besides JSON's grammar: every number an `f64` (serde_json,
//! built with `float_roundtrip`, refuses the rest) and PostgreSQL's `numeric` (what `jsonb`
//! stores numbers as), and every `\u` escape a whole character (serde_json and `jsonb` both
//! refuse a lone surrogate). The fast paths skip fields without reading them, so they check these
//! limits here on the raw text, and so does the general path for the limits serde_json does not
//! know (`1e-20000` is an `f64` 0.0, but `numeric` refuses it): both then refuse the same
//! documents, at parse time, as `invalid_json`.
//!
//! `numeric`'s limits, as PostgreSQL 16 applies them to input text (measured with `'…'::jsonb`):
//! at most 16 383 digits after the decimal point once the exponent is applied (`dscale`:
//! `1e-16383` and `1.5e-16382` pass, `1e-16384`, `0.0e-16383` and `0e-16384` do not, trailing
//! zeros count), and an exponent of at most 1 073 741 823 in magnitude (`0e200000` passes,
//! `0e2147483648` does not). Its bound on the digits before the point (131 072) is far above
//! an `f64`'s 309, so the `f64` bound covers it.

/// `numeric`'s largest display scale (`NUMERIC_DSCALE_MAX`).
const MAX_DSCALE: i64 = 16_383;
/// `numeric`'s input refuses a larger exponent as a syntax error (`PG_INT32_MAX / 2`).
const MAX_EXPONENT: i64 = i32::MAX as i64 / 2;

/// Why a well-formed JSON document cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unstorable {
    #[error("number out of range (an f64 or PostgreSQL's numeric cannot hold it): {0}")]
    Number(String),
    #[error("lone surrogate in a \\u escape (not a character; PostgreSQL's jsonb refuses it)")]
    LoneSurrogate,
}

/// Whether a JSON number literal (already well-formed) fits an `f64` and PostgreSQL's `numeric`.
pub fn number_fits(lit: &[u8]) -> bool {
    let (mantissa, exponent) = match lit.iter().position(|c| matches!(c, b'e' | b'E')) {
        Some(at) => (&lit[..at], Some(&lit[at + 1..])),
        None => (lit, None),
    };
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(at) => (&mantissa[..at], mantissa.len() - at - 1),
        None => (mantissa, 0),
    };
    let Some(exponent) = exponent else {
        // Without an exponent only a long integer part can overflow an f64 (309 digits can);
        // the usual short numbers need no parse.
        let digits = int.len() - usize::from(int.first() == Some(&b'-'));
        return frac as i64 <= MAX_DSCALE && (digits < 300 || finite(lit));
    };
    let exp = exponent_value(exponent);
    exp.unsigned_abs() <= MAX_EXPONENT as u64 && frac as i64 - exp <= MAX_DSCALE && finite(lit)
}

/// The exponent, saturated far beyond any limit (its digits may be many).
fn exponent_value(e: &[u8]) -> i64 {
    let (negative, digits) = match e.first() {
        Some(b'-') => (true, &e[1..]),
        Some(b'+') => (false, &e[1..]),
        _ => (false, e),
    };
    let magnitude = digits
        .iter()
        .fold(0i64, |acc, d| acc.saturating_mul(10).saturating_add(i64::from(d.wrapping_sub(b'0'))))
        .min(i64::MAX / 2);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Whether the number rounds to a finite `f64`, as serde_json's `float_roundtrip` reads it (a
/// correctly rounded parse, as Rust's own).
fn finite(lit: &[u8]) -> bool {
    std::str::from_utf8(lit).ok().and_then(|s| s.parse::<f64>().ok()).is_some_and(f64::is_finite)
}

/// Checks every number and every `\u` escape of a well-formed JSON document (run it after the
/// grammar was checked: it reads tokens, not structure).
pub fn check(json: &[u8]) -> Result<(), Unstorable> {
    let mut i = 0;
    while let Some(&c) = json.get(i) {
        i = match c {
            b'"' => string_end(json, i + 1)?,
            b'-' | b'0'..=b'9' => {
                let end = i + json[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                if !number_fits(&json[i..end]) {
                    let shown: String = String::from_utf8_lossy(&json[i..end]).chars().take(40).collect();
                    return Err(Unstorable::Number(shown));
                }
                end
            }
            _ => i + 1,
        };
    }
    Ok(())
}

/// The position after the string whose contents start at `i`; refuses a lone surrogate. Most
/// of a message is string bytes: they are skipped a machine word at a time.
fn string_end(json: &[u8], mut i: usize) -> Result<usize, Unstorable> {
    loop {
        let Some(at) = json.get(i..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) else {
            return Ok(json.len());
        };
        i += at;
        match (json[i], json.get(i + 1)) {
            (b'"', _) => return Ok(i + 1),
            (_, Some(b'u')) => {
                i = match hex4(json, i + 2) {
                    Some(0xD800..=0xDBFF) => match (json.get(i + 6..i + 8), hex4(json, i + 8)) {
                        (Some(b"\\u"), Some(0xDC00..=0xDFFF)) => i + 12,
                        _ => return Err(Unstorable::LoneSurrogate),
                    },
                    Some(0xDC00..=0xDFFF) => return Err(Unstorable::LoneSurrogate),
                    _ => i + 6,
                }
            }
            _ => i += 2,
        }
    }
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let hex = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_postgresql_and_f64_hold() {
        // Each measured against PostgreSQL 16's jsonb and serde_json.
        for fits in [
            "0",
            "-1",
            "1.5",
            "1e308",
            "-1.7976931348623157e308",
            "1e-16383",
            "1.5e-16382",
            "0e200000",
            "5e-324",
            "1e-400",
            "123456789012345678901234567890",
        ] {
            assert!(number_fits(fits.as_bytes()), "{fits}");
        }
        for refused in [
            "1e400",
            "-1e400",
            "1e309",
            "1e-20000",
            "1e1000000",
            "1e-16384",
            "0.0e-16383",
            "0e-16384",
            "0e2147483648",
            "1E-16384",
            "-1e-16384",
        ] {
            assert!(!number_fits(refused.as_bytes()), "{refused}");
        }
        let long = format!("1{}", "0".repeat(400));
        assert!(!number_fits(long.as_bytes()));
        let fraction = format!("0.{}1", "0".repeat(16_383));
        assert!(!number_fits(fraction.as_bytes()));
    }

    #[test]
    fn documents_are_checked_in_every_field_and_key() {
        assert_eq!(check(br#"{"a":[1,2.5e3,{"b":"1e400"}],"c":"\ud83c\udfb5 \\ud800"}"#), Ok(()));
        assert!(matches!(check(br#"{"a":{"x":[1e400]}}"#), Err(Unstorable::Number(_))));
        assert!(matches!(check(br#"{"junk":1e-20000}"#), Err(Unstorable::Number(_))));
        assert_eq!(check(br#"{"x":"\ud800"}"#), Err(Unstorable::LoneSurrogate));
        assert_eq!(check(br#"{"\udc00":1}"#), Err(Unstorable::LoneSurrogate));
        assert_eq!(check(br#"{"x":"\ud800\u0041"}"#), Err(Unstorable::LoneSurrogate));
        assert_eq!(check(br#"{"x":"\\\ud800"}"#), Err(Unstorable::LoneSurrogate));
        assert_eq!(check(br#"{"x":"\u0000"}"#), Ok(()), "NUL is the consumer's own class");
    }

    #[test]
    fn serde_json_refuses_what_is_out_of_f64_range_and_lone_surrogates() {
        for refused in [r#"{"y":1e400}"#, r#"{"x":"\ud800"}"#, r#"{"\udc00":1}"#, r#"[1e309]"#] {
            assert!(serde_json::from_str::<serde_json::Value>(refused).is_err(), "{refused}");
        }
    }
}
