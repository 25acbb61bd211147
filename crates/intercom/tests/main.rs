//! The Intercom source against its sandbox: one test binary, modules inside.

mod export;
mod files;
mod filters;
mod support;
