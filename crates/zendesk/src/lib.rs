//! The Zendesk connector: it will hold the Zendesk Support source (configuration, client, wire
//! types, mapping to canonical records and extraction through the incremental exports). Today it
//! is an empty shell.
//!
//! Its tests run against `deskmove-zendesk-sandbox`, a local Zendesk serving the synthetic
//! company, which is a separate crate so the oracle stays independent of the code it checks.
#![deny(missing_docs)]

/// The connector's name in `deskmove.toml`, on the command line and in source keys.
pub const NAME: &str = "zendesk";
