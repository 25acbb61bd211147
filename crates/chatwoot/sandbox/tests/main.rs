//! The Chatwoot sandbox over real HTTP, one module per area. Expected values are Chatwoot's, cited
//! from `../shared/research/chatwoot.md`.

/// The running sandbox and the client the tests speak through.
mod common;
/// Every route the swagger documents, validated against its schemas (needs the specs).
mod conformance;
/// A frozen clock makes runs byte-identical; advancing it moves every window.
mod determinism;
/// rack-attack's throttles and injected faults.
mod rate_limits;
/// One test per Chatwoot rule.
mod rules;
/// What Chatwoot does behind the caller's back, and the inspection endpoints.
mod side_effects;
