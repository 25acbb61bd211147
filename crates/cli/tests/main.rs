//! End-to-end tests of the `deskmove` binary, each in its own temporary directory: one test
//! binary, a module per area.

mod commands;
mod registry;
mod util;
