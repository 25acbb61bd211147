//! Invariants of `normalize::phone::PhoneNormalizer` on arbitrary text and a default region.
//!
//! Input: the first line picks the default region (an exact entry of [`REGIONS`], else one of
//! them by the line's byte sum; an empty line means none); the rest is the number. Without a
//! newline the whole input is the number and there is no default region.
//!
//! Always: the original is kept, exactly one of E.164 / issue is set, and an extension only comes
//! with an E.164 value. When E.164 comes back it matches `^\+[1-9]\d{1,14}$` and normalising it
//! again, with the same region or none, gives itself and no extension.

use deskmove_core::normalize::phone::PhoneNormalizer;

use crate::{Violation, ensure};

/// The default regions the target picks from ("" is no region).
pub const REGIONS: &[&str] = &["US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "CH", ""];

/// The check run by the `phone` target.
pub fn check(data: &[u8]) -> Result<(), Violation> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let (region, raw) = match text.split_once('\n') {
        Some((line, rest)) => (pick_region(line), rest),
        None => ("", text),
    };
    let normalizer = PhoneNormalizer::new(Some(region))
        .map_err(|error| Violation(format!("region {region:?} refused: {error}")))?;
    let out = normalizer.normalize(raw);
    ensure!(out.original == raw, "original not kept for {raw:?}");
    ensure!(
        out.e164.is_some() != out.issue.is_some(),
        "e164 and issue both set or both unset for {raw:?} in {region:?}"
    );
    ensure!(
        out.extension.is_none() || out.e164.is_some(),
        "extension without a number for {raw:?}"
    );
    let Some(e164) = out.e164 else {
        return Ok(());
    };
    ensure!(
        is_e164(&e164),
        "{e164:?} (from {raw:?} in {region:?}) is not E.164"
    );
    for again_region in [region, ""] {
        let again = PhoneNormalizer::new(Some(again_region))
            .map_err(|error| Violation(format!("region refused: {error}")))?
            .normalize(&e164);
        ensure!(
            again.e164.as_deref() == Some(e164.as_str()) && again.extension.is_none(),
            "{e164:?} (from {raw:?} in {region:?}) normalises again in {again_region:?} to {:?} ext {:?}",
            again.e164,
            again.extension
        );
    }
    Ok(())
}

fn pick_region(line: &str) -> &'static str {
    if let Some(known) = REGIONS.iter().find(|region| **region == line) {
        return known;
    }
    let sum = line.bytes().map(usize::from).sum::<usize>();
    REGIONS[sum % REGIONS.len()]
}

/// `^\+[1-9]\d{1,14}$`.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_shape() {
        assert!(is_e164("+14155550132"));
        assert!(is_e164("+12"));
        assert!(!is_e164("+1"));
        assert!(!is_e164("+0123"));
        assert!(!is_e164("14155550132"));
        assert!(!is_e164("+1415555013212345"));
        assert!(!is_e164("+1 415"));
    }

    #[test]
    fn typical_values_pass() {
        for input in [
            "US\n(415) 555-0132",
            "DE\n030 1234567",
            "GB\n0049 30 1234567",
            "+1 415-555-0132 ext. 7",
            "\n12345",
            "zz\nnot a number",
        ] {
            check(input.as_bytes()).unwrap();
        }
    }
}
