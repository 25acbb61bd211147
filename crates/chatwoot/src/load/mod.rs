//! The Chatwoot load paths. `api`: Chatwoot's Application API, for Cloud and self-hosted
//! installs (R2.2). `postgres`: bulk writes into a self-hosted Chatwoot's own tables (R2.3).
//! Both share [`crate::map`].

pub mod api;
pub mod postgres;

pub use api::{ApiError, ApiOptions, ApiTarget};

pub use postgres::{PostgresError, PostgresOptions, PostgresTarget, SUPPORTED_SCHEMA_VERSIONS};
