//! The Chatwoot load paths. `postgres`: bulk writes into a self-hosted Chatwoot's own tables
//! (R2.3). The API path (R2.2) sits beside it and shares [`crate::map`].

pub mod postgres;

pub use postgres::{PostgresError, PostgresOptions, PostgresTarget, SUPPORTED_SCHEMA_VERSIONS};
