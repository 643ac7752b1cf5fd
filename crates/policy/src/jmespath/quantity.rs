//! Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource`), as far as
//! Kyverno uses them: parsing with `ParseQuantity`'s exact grammar, comparison, the
//! arithmetic of Kyverno's `add`/`subtract`/`multiply`/`divide`/`modulo` functions and
//! the canonical `String()` form of results (`1536Mi`, `1100m`, `1500`).
//!
//! Values are held exactly as a count of nano-units in an `i128` (Kubernetes rounds
//! every quantity up to nano precision, so this loses nothing); the rare quantity beyond
//! that range (`1e40`) is kept as an approximate float, good for comparison only.

use std::cmp::Ordering;

use super::quantity_grammar::{interpret_suffix, split_quantity, BIN_SUFFIXES, DEC_SUFFIXES};

/// The suffix family a quantity was written in; results keep the first operand's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Amount {
    Nanos(i128),
    Approx(f64),
}

/// A parsed quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantity {
    amount: Amount,
    pub(crate) format: Format,
    /// Decimal places of Kubernetes' internal `inf.Dec` form (`1.5` → 1, `2k` → -3);
    /// `divide` by a scalar rounds to the larger of its operands' scales.
    pub(crate) scale: i32,
}

const NANO: i128 = 1_000_000_000;
/// `10^e` as i128, if representable.
fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    /// `resource.ParseQuantity`: `None` where Kubernetes returns an error.
    pub(crate) fn parse(s: &str) -> Option<Quantity> {
        if s.is_empty() {
            return None;
        }
        let (positive, num, denom, suffix) = split_quantity(s)?;
        let (base, exponent, format) = interpret_suffix(suffix)?;
        // i64: an exponent near the i32 limits must not overflow.
        let e10 = i64::from(if base == 10 { exponent } else { 0 }) - denom.len() as i64;
        let bin = if base == 2 { exponent as u32 } else { 0 };
        let digits = format!("{num}{denom}");
        let fast = match format {
            Format::BinarySI => {
                denom.is_empty()
                    && 15 - num.len() as i32 - (exponent as f32 * 3.0 / 10.0) as i32 > 0
            }
            _ => digits.len() <= 18 && e10 >= -9,
        };
        let scale = match (fast, format) {
            (true, Format::BinarySI) => 0,
            (true, _) => (-e10).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            (false, _) => 9,
        };
        let exact = exact_nanos(&digits, e10, bin);
        let mut amount = match exact {
            Some(n) => Amount::Nanos(if positive { n } else { -n }),
            None => {
                let approx: f64 = digits.parse::<f64>().unwrap_or(f64::INFINITY)
                    * 10f64.powi(e10.clamp(-400, 400) as i32)
                    * 2f64.powi(bin as i32);
                Amount::Approx(if positive { approx } else { -approx })
            }
        };
        // Kubernetes caps binary-SI quantities at the largest int64.
        let cap = i128::from(i64::MAX) * NANO;
        if format == Format::BinarySI {
            amount = match amount {
                Amount::Nanos(n) if n.abs() > cap => Amount::Nanos(cap * n.signum()),
                Amount::Approx(f) => Amount::Nanos(cap * (f.signum() as i128)),
                other => other,
            };
        }
        Some(Quantity {
            amount,
            format,
            scale,
        })
    }

    fn nanos(&self) -> Option<i128> {
        match self.amount {
            Amount::Nanos(n) => Some(n),
            Amount::Approx(_) => None,
        }
    }

    /// `AsApproximateFloat64`.
    pub(crate) fn to_f64(self) -> f64 {
        match self.amount {
            Amount::Nanos(n) => n as f64 / 1e9,
            Amount::Approx(f) => f,
        }
    }

    /// `Quantity.Cmp`.
    pub(crate) fn compare(&self, other: &Quantity) -> Ordering {
        match (self.nanos(), other.nanos()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }

    fn with_nanos(self, nanos: Option<i128>) -> Option<Quantity> {
        Some(Quantity {
            amount: Amount::Nanos(nanos?),
            ..self
        })
    }

    pub(crate) fn add(self, other: Quantity) -> Option<Quantity> {
        self.with_nanos(self.nanos()?.checked_add(other.nanos()?))
    }

    pub(crate) fn sub(self, other: Quantity) -> Option<Quantity> {
        self.with_nanos(self.nanos()?.checked_sub(other.nanos()?))
    }

    /// Product with a scalar written as a quantity; sub-nano digits round away from zero.
    pub(crate) fn mul(self, factor: Quantity) -> Option<Quantity> {
        let p = self.nanos()?.checked_mul(factor.nanos()?)?;
        self.with_nanos(Some(div_away(p, NANO)))
    }

    /// `inf.Dec.QuoRound(q, divisor, max(scales), RoundDown)`.
    pub(crate) fn div(self, divisor: Quantity) -> Option<Quantity> {
        let scale = self.scale.max(divisor.scale).min(9);
        let (n, d) = (self.nanos()?, divisor.nanos()?);
        if d == 0 {
            return None;
        }
        let truncated = if scale >= 0 {
            n.checked_mul(pow10(scale as u32)?)? / d
        } else {
            n / d.checked_mul(pow10(scale.unsigned_abs())?)?
        };
        let nanos = if scale >= 0 {
            truncated.checked_mul(pow10((9 - scale) as u32)?)?
        } else {
            truncated.checked_mul(pow10(9 + scale.unsigned_abs())?)?
        };
        self.with_nanos(Some(nanos))
    }

    /// A whole-unit quantity in the given format (`resource.NewQuantity`).
    pub(crate) fn from_units(units: i64, format: Format) -> Quantity {
        Quantity {
            amount: Amount::Nanos(i128::from(units) * NANO),
            format,
            scale: 0,
        }
    }

    /// The canonical `Quantity.String()`.
    pub(crate) fn canonical(&self) -> String {
        let Some(n) = self.nanos() else {
            return format!("{}", self.to_f64());
        };
        if n == 0 {
            return "0".to_owned();
        }
        let small = n.abs() < 1024 * NANO;
        if self.format == Format::BinarySI && !small && n % NANO == 0 {
            let (mut m, mut times) = (n / NANO, 0usize);
            while m.abs() >= 1024 && m % 1024 == 0 && times < 6 {
                m /= 1024;
                times += 1;
            }
            return format!("{m}{}", BIN_SUFFIXES[times].0);
        }
        let (mut m, mut exp) = (n, -9i32);
        while m.abs() >= 10 && m % 10 == 0 {
            m /= 10;
            exp += 1;
        }
        match exp.rem_euclid(3) {
            1 => (m, exp) = (m * 10, exp - 1),
            2 => (m, exp) = (m * 100, exp - 2),
            _ => {}
        }
        let suffix = match self.format {
            Format::DecimalExponent if exp == 0 => String::new(),
            Format::DecimalExponent => format!("e{exp}"),
            _ => DEC_SUFFIXES
                .iter()
                .find(|(_, e)| *e == exp)
                .map_or_else(|| format!("e{exp}"), |(s, _)| (*s).to_owned()),
        };
        format!("{m}{suffix}")
    }
}

/// Integer division rounding away from zero.
fn div_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d == 0 {
        q
    } else {
        q + n.signum()
    }
}

/// `digits × 10^e10 × 2^bin` in nano-units, rounded up (away from zero) to a whole nano.
fn exact_nanos(digits: &str, e10: i64, bin: u32) -> Option<i128> {
    let mut v: i128 = 0;
    for c in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    if v == 0 {
        return Some(0);
    }
    v = v.checked_mul(1i128.checked_shl(bin)?)?;
    let shift = e10 + 9;
    if shift >= 0 {
        v.checked_mul(pow10(u32::try_from(shift).ok()?)?)
    } else {
        // Beyond 38 digits any non-zero value rounds up to one nano-unit.
        match u32::try_from(-shift).ok().and_then(pow10) {
            Some(d) => Some(div_away(v, d)),
            None => Some(i128::from(v != 0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn parses_like_kubernetes() {
        let same = [
            ("1Gi", "1024Mi"),
            ("1k", "1000"),
            ("500m", "0.5"),
            ("1e3", "1k"),
            ("1E", "1000P"),
            ("+1", "1"),
        ];
        for (a, b) in same {
            assert_eq!(q(a).compare(&q(b)), Ordering::Equal, "{a} = {b}");
        }
        // Kubernetes quirks: a bare suffix or a lone point is zero.
        for zero in ["0", "m", "Ki", ".", "-0", "000"] {
            assert_eq!(q(zero).compare(&q("0")), Ordering::Equal, "{zero}");
        }
        assert_eq!(q("-1Ki").compare(&q("0")), Ordering::Less);
        assert_eq!(q("0.0000000001").compare(&q("0")), Ordering::Greater);
        assert_eq!(q("1e40").compare(&q("1E")), Ordering::Greater);
        // Extreme exponents neither overflow nor lose the sign of tiny values.
        assert_eq!(q("1.5e-2147483648").compare(&q("0")), Ordering::Greater);
        assert_eq!(q("-1e-99").compare(&q("0")), Ordering::Less);
        assert_eq!(q("1e2147483647").compare(&q("1e40")), Ordering::Greater);
        assert_eq!(q("0e999").compare(&q("0")), Ordering::Equal);
        assert_eq!(q("1.5Gi").format, Format::BinarySI);
        assert_eq!(q("1e3").format, Format::DecimalExponent);
        for bad in ["", "abc", "1.5.2", "1 Gi", "1h", "1e", "1ki", "--1", "1Gi2"] {
            assert_eq!(Quantity::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_forms() {
        let sum = |a: &str, b: &str| q(a).add(q(b)).map(|r| r.canonical());
        assert_eq!(sum("1Gi", "512Mi").as_deref(), Some("1536Mi"));
        assert_eq!(sum("100m", "1").as_deref(), Some("1100m"));
        assert_eq!(sum("1k", "500").as_deref(), Some("1500"));
        assert_eq!(sum("1k", "1k").as_deref(), Some("2k"));
        assert_eq!(sum("512", "512").as_deref(), Some("1024"));
        assert_eq!(sum("1Ki", "0.5").as_deref(), Some("1024500m"));
        assert_eq!(sum("1e3", "1e3").as_deref(), Some("2e3"));
        assert_eq!(
            q("1Mi").sub(q("2Mi")).map(|r| r.canonical()).as_deref(),
            Some("-1Mi")
        );
        assert_eq!(Quantity::from_units(0, Format::BinarySI).canonical(), "0");
    }
}
