//! The invariants the fuzz targets assert, kept in a library so that they are unit-tested and
//! replayed over the committed seed corpus by plain `cargo test`, without libFuzzer or nightly
//! flags. Each `fuzz_targets/<name>.rs` is a thin wrapper that panics on a [`Violation`].
//!
//! Every check takes the raw fuzzer bytes, decodes them the way its target documents, runs one
//! normaliser of `deskmove-core` and returns the first broken invariant, if any.

pub mod email;
pub mod html;
pub mod markdown;
pub mod phone;
pub mod time;

use std::fmt;

/// A broken invariant: what was expected, on which value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// Returns a [`Violation`] built from `format!` arguments unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::Violation(format!($($arg)+)));
        }
    };
}

/// Runs `check` and panics with the violation, which is how a fuzz target reports a finding.
pub fn run(check: fn(&[u8]) -> Result<(), Violation>, data: &[u8]) {
    if let Err(violation) = check(data) {
        panic!("invariant broken: {violation}");
    }
}
