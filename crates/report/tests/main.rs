//! The report's tests, one binary with a module per area (they share `support`'s fixture).

mod chromium;
mod report;
mod support;
