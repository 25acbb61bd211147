//! The polite client's tests, one binary: failures and retries, rate limits, security
//! (redaction, foreign hosts) and streaming downloads, against loopback servers.

mod failures;
mod rate_limits;
mod security;
mod streaming;
mod support;
