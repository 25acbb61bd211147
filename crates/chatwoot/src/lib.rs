//! The Chatwoot connector: it will hold the Chatwoot target (its configuration, client, mapping
//! from canonical records and the API and PostgreSQL load paths).
//!
//! Its tests run against `deskmove-chatwoot-sandbox`, a local Chatwoot with Chatwoot's own rules,
//! which is a separate crate so the oracle stays independent of the code it checks.
#![deny(missing_docs)]
