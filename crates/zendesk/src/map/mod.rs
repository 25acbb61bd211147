//! Zendesk records to canonical ones (pure functions).

pub mod to_canonical;
