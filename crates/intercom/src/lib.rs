//! The Intercom connector: the Intercom source (its configuration, client, wire types, mapping
//! to canonical records and extraction) and the Intercom target (`load/`, its `[target]`
//! settings in `target_config.rs`), with its registration and its call limits.
//!
//! Its tests run against `deskmove-intercom-sandbox`, a local Intercom serving the synthetic
//! company, which is a separate crate so the oracle stays independent of the code it checks.
//!
//! Intercom facts the shared crates rely on without naming Intercom
//! (../shared/research/intercom-api.md): time comes as epoch seconds; `GET /conversations/{id}`
//! returns only the 500 most recent parts (§2), which `Conversation::source_message_count`
//! reports; attachments and inline images sit behind signed URLs that expire (§5), so bodies
//! hand their image sources back for re-hosting; mentions are `<span>` elements, unwrapped to
//! their `@Name` text; `external_id` and `company_id` are the customer's own ids.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod extract;
pub mod files;
pub mod filter;
pub mod load;
pub mod map;
pub mod scan;
pub mod target_config;
pub mod wire;

pub use config::{Filters, SourceConfig};
use deskmove_core::Registration;
use deskmove_http::HostPolicy;
pub use extract::{IntercomError, IntercomSource, SourceOptions};
pub use load::{IntercomTarget, Mode, TargetError, TargetOptions};
pub use target_config::TargetConfig;

/// The connector's name in `deskmove.toml`, on the command line and in source keys.
pub const NAME: &str = "intercom";

/// What deskmove knows about this connector.
pub fn registration() -> Registration {
    Registration {
        name: NAME,
        display_name: "Intercom",
        source_template: Some(config::SOURCE_TEMPLATE),
        target_template: Some(target_config::TARGET_TEMPLATE),
        load_paths: &["api"],
        sandbox: true,
        token_help: "Settings > Developers > your app > Authentication",
        mapping_docs: &["zendesk-to-intercom.md"],
    }
}

/// Intercom's documented default for private apps, kept within what its answers say is left.
///
/// ../shared/research/intercom-api.md §3: 10,000 calls per minute per app, "evenly distributed
/// into 10 second windows" (1,666 per window), and every authenticated answer states the
/// current window in `X-RateLimit-Limit/Remaining/Reset`. The budget is the whole documented
/// limit: the client takes each call from what the server says is left and waits for the reset
/// when nothing is, so the real window (a workspace's own limit, other apps' calls included) is
/// never overrun. The burst lets a worker catch up after a pause (a page commit) within the
/// window instead of losing those calls.
pub fn host_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: API_CALLS_PER_MINUTE,
        burst: 250,
        fixed_window_secs: Some(10),
        rate_headers: deskmove_http::RateHeaders {
            limit: "x-ratelimit-limit".into(),
            remaining: "x-ratelimit-remaining".into(),
            reset: "x-ratelimit-reset".into(),
        },
        ..HostPolicy::default()
    }
}

/// The budget for Intercom's file hosts. Intercom documents no limit for them (signed CDN URLs,
/// §5), and a file must be fetched before its URL expires, so this budget must never hold a
/// download back; callers bound the downloads in flight instead.
pub fn file_host_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 60_000,
        burst: 200,
        ..HostPolicy::default()
    }
}

/// Intercom's documented default limit of a private app, per minute (§3).
pub const API_CALLS_PER_MINUTE: u32 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_the_documented_limit_kept_within_the_servers_window() {
        let policy = host_policy();
        assert_eq!(policy.calls_per_minute, 10_000);
        assert_eq!(policy.fixed_window_secs, Some(10));
        // The server's own count, not the budget, keeps each window under its limit.
        assert_eq!(policy.rate_headers.remaining, "x-ratelimit-remaining");
        assert_eq!(policy.rate_headers.reset, "x-ratelimit-reset");
        // A burst is a fraction of one window's 1,666 calls.
        assert!(policy.burst < 10_000 / 6 / 4);
        policy.validate().unwrap();
    }

    #[test]
    fn the_registration_is_a_source_with_a_sandbox() {
        let registration = registration();
        assert_eq!(registration.name, NAME);
        assert!(registration.is_source() && registration.is_target());
        assert!(registration.sandbox);
    }
}
