//! The Intercom source and target against their sandbox: one test binary, modules inside.

mod export;
mod files;
mod filters;
mod support;
mod target_compliance;
mod target_load;
mod target_support;
/// Canonical records built from the synthetic world the way a source would build them (shared
/// with the Chatwoot target's tests).
#[path = "../../chatwoot/tests/postgres/world.rs"]
#[allow(dead_code)]
mod target_world;
