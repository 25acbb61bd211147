//! The Intercom connector: it holds the Intercom source (its configuration, client, wire types,
//! mapping to canonical records and extraction) and, later, the Intercom target. Today it has
//! its registration, its call limits and its `[source]` settings.
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
pub mod map;
pub mod scan;
pub mod wire;

pub use config::{Filters, SourceConfig};
use deskmove_core::Registration;
use deskmove_http::HostPolicy;
pub use extract::{IntercomError, IntercomSource, SourceOptions};

/// The connector's name in `deskmove.toml`, on the command line and in source keys.
pub const NAME: &str = "intercom";

/// What deskmove knows about this connector.
pub fn registration() -> Registration {
    Registration {
        name: NAME,
        display_name: "Intercom",
        source_template: Some(config::SOURCE_TEMPLATE),
        target_template: None,
        load_paths: &[],
        sandbox: true,
        token_help: "Settings > Developers > your app > Authentication",
        mapping_docs: &[],
    }
}

/// Intercom's documented default for private apps.
///
/// ../shared/research/intercom-api.md §3: 10,000 calls per minute per app, "evenly distributed
/// into 10 second windows" (so about 1,666 per window); the reset header counts in those windows.
/// We budget 9,000/min (1,500 per 10 s) plus a burst of 100, which stays under 1,666 per window.
pub fn host_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 9_000,
        burst: 100,
        fixed_window_secs: Some(10),
        ..HostPolicy::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stays_under_the_window_limit() {
        // At most burst + rate × 10 s calls in any 10-second window, under 1,666.
        let policy = host_policy();
        assert!(policy.burst + policy.calls_per_minute / 6 < 10_000 / 6);
        assert_eq!(policy.fixed_window_secs, Some(10));
        policy.validate().unwrap();
    }

    #[test]
    fn the_registration_is_a_source_with_a_sandbox() {
        let registration = registration();
        assert_eq!(registration.name, NAME);
        assert!(registration.is_source() && !registration.is_target());
        assert!(registration.sandbox);
    }
}
