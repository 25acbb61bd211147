//! Invariants of `normalize::email::normalize` on arbitrary UTF-8 text.
//!
//! Always: the original is kept byte for byte, and exactly one of value / issue is set. When a
//! value comes back it is lower-case, has exactly one `@`, a non-empty ASCII (IDNA) domain, and
//! normalising it again gives itself (a canonical value is a fixed point, or contacts would be
//! matched differently on a second run).

use deskmove_core::normalize::email::normalize;

use crate::{Violation, ensure};

/// The check run by the `email` target.
pub fn check(data: &[u8]) -> Result<(), Violation> {
    let Ok(raw) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let out = normalize(raw);
    ensure!(out.original == raw, "original not kept for {raw:?}");
    ensure!(
        out.value.is_some() != out.issue.is_some(),
        "value and issue both {} for {raw:?}",
        if out.value.is_some() { "set" } else { "unset" }
    );
    let Some(value) = out.value else {
        return Ok(());
    };
    ensure!(
        value.to_lowercase() == value,
        "{value:?} (from {raw:?}) is not lower-case"
    );
    ensure!(
        value.matches('@').count() == 1,
        "{value:?} (from {raw:?}) does not have exactly one '@'"
    );
    let domain = value.rsplit_once('@').map_or("", |(_, domain)| domain);
    ensure!(
        !domain.is_empty() && domain.is_ascii(),
        "domain {domain:?} of {value:?} (from {raw:?}) is not ASCII"
    );
    let again = normalize(&value);
    ensure!(
        again.value.as_deref() == Some(value.as_str()),
        "{value:?} (from {raw:?}) normalises again to {:?}",
        again.value
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_values_pass() {
        for input in [
            " Jane.Doe+Tag@Example.COM ",
            "user@bücher.example",
            "not an address",
            "",
            "a@b",
        ] {
            check(input.as_bytes()).unwrap();
        }
    }
}
