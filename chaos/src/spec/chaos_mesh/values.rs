//! Chaos Mesh's string-typed values read as numbers, for the backends that act on them:
//! percentages (`loss: "25"`) and bandwidth rates (`rate: "1mbps"`), with `tc`'s units.

/// Rate units as `tc` reads them, with their bits per unit: `bit` and `bps` (bytes per
/// second) with SI prefixes. Longest suffixes first so `mbps` is not read as `bps`.
const RATE_UNITS: [(&str, u64); 10] = [
    ("kbit", 1_000),
    ("mbit", 1_000_000),
    ("gbit", 1_000_000_000),
    ("tbit", 1_000_000_000_000),
    ("tbps", 8_000_000_000_000),
    ("gbps", 8_000_000_000),
    ("mbps", 8_000_000),
    ("kbps", 8_000),
    ("bps", 8),
    ("bit", 1),
];

/// The unit names, in the order Chaos Mesh's webhook lists them.
pub fn rate_units() -> impl Iterator<Item = &'static str> {
    RATE_UNITS.iter().map(|(unit, _)| *unit)
}

/// A rate such as `"1mbps"` or `"100kbit"` in bytes per second; `None` when it is not an
/// unsigned integer and a unit.
pub fn rate_bytes_per_second(text: &str) -> Option<f64> {
    let normalized = text.trim().to_lowercase();
    RATE_UNITS.iter().find_map(|(unit, bits)| {
        let number = normalized.strip_suffix(unit)?.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = number.parse::<u64>().ok()?;
        Some(n as f64 * *bits as f64 / 8.0)
    })
}

/// A percentage string (`"25"`, `"0.5"`) as a fraction in 0.0 ..= 1.0; absent or empty
/// is Chaos Mesh's default `"0"`; `None` when it is not a number in 0 ..= 100.
pub fn fraction(text: Option<&str>) -> Option<f64> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Some(0.0),
        Some(text) => text
            .parse::<f32>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p))
            .map(|p| f64::from(p) / 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_with_tc_units() {
        assert_eq!(rate_bytes_per_second("1mbps"), Some(1_000_000.0));
        assert_eq!(rate_bytes_per_second("8kbit"), Some(1_000.0));
        assert_eq!(rate_bytes_per_second(" 100 BPS "), Some(100.0));
        for bad in ["", "mbps", "1.5mbps", "-1mbps", "1 furlong"] {
            assert_eq!(rate_bytes_per_second(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentages_read_as_fractions() {
        assert_eq!(fraction(Some("25")), Some(0.25));
        assert_eq!(fraction(None), Some(0.0));
        assert_eq!(fraction(Some("")), Some(0.0));
        assert_eq!(fraction(Some("101")), None);
        assert_eq!(fraction(Some("x")), None);
    }
}
