//! The Zendesk source against its sandbox: one test binary, modules inside.

mod authors;
mod export;
mod oracle;
mod pacing;
mod support;
