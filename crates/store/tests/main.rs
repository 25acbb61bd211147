//! The store's tests, one binary with a module per area (they share `common`'s fixtures).

mod archive;
mod blob;
mod common;
mod crash;
mod idempotence;
mod migration;
mod sqlite_file;
mod suite;
