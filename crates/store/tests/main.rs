//! The store's tests, one binary with a module per area (they share `common`'s fixtures). The blob
//! store's tests are their own binary (`blob.rs`).

mod common;
mod crash;
mod idempotence;
mod migration;
mod sqlite_file;
mod suite;
