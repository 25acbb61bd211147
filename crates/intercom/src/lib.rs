//! The Intercom connector: it will hold the Intercom source (its configuration, client, wire
//! types, mapping to canonical records and extraction) and, later, the Intercom target.
//!
//! Its tests run against `deskmove-intercom-sandbox`, a local Intercom serving the synthetic
//! company, which is a separate crate so the oracle stays independent of the code it checks.
#![deny(missing_docs)]
