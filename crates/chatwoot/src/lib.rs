//! The Chatwoot connector: the Chatwoot target — its registration, call limits and `[target]`
//! settings, the mapping from canonical records (`map`, `mapping.toml` in [`mapping`]) and the
//! two load paths behind [`ChatwootTarget`]: the Application API (`load::api`) and bulk writes
//! into a self-hosted database (`load::postgres`).
//!
//! Its tests run against `deskmove-chatwoot-sandbox`, a local Chatwoot with Chatwoot's own rules,
//! which is a separate crate so the oracle stays independent of the code it checks.
//!
//! Chatwoot facts the shared normalisers rely on without naming Chatwoot
//! (../shared/research/chatwoot.md): bodies are rendered as CommonMark with GFM tables and raw
//! HTML is dropped (§2.11), the Markdown dialect `deskmove_core::normalize::html` writes; emails
//! are stored lower-cased and must match Devise's `[^@\s]+@[^@\s]+` (§0.6), so quoted local parts
//! are refused; phone numbers must match `\+[1-9]\d{1,14}\z` (§0.6), at most the 15 digits of
//! E.164; "pending" is a conversation state of its own.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod load;
pub mod map;
pub mod mapping;
pub mod predict;
pub mod propose;
pub mod target;

pub use config::{LoadPath, PostgresSettings, TargetConfig};
use deskmove_core::Registration;
use deskmove_http::HostPolicy;
pub use target::{ChatwootError, ChatwootTarget};

/// The connector's name in `deskmove.toml`, on the command line and in the ledger.
pub const NAME: &str = "chatwoot";

/// What deskmove knows about this connector.
pub fn registration() -> Registration {
    Registration {
        name: NAME,
        display_name: "Chatwoot",
        source_template: None,
        target_template: Some(config::TARGET_TEMPLATE),
        load_paths: LoadPath::AVAILABLE_NAMES,
        sandbox: true,
        token_help: "Profile settings > Access token (an administrator's)",
        mapping_docs: &["intercom-to-chatwoot.md"],
    }
}

/// Chatwoot's documented default (self-hosted rack-attack).
///
/// ../shared/research/chatwoot.md §3: 3,000 requests per minute per IP in fixed windows
/// (`epoch / period`); a throttled call gets a bare 429 "Retry later" with no Retry-After.
/// We budget 2,700/min plus a burst of 50, under 3,000 per 60-second window.
pub fn host_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 2_700,
        burst: 50,
        fixed_window_secs: Some(60),
        ..HostPolicy::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stays_under_the_window_limit() {
        // At most burst + rate × 60 s in any minute window, under 3,000.
        let policy = host_policy();
        assert!(policy.burst + policy.calls_per_minute < 3_000);
        assert_eq!(policy.fixed_window_secs, Some(60));
        policy.validate().unwrap();
    }

    #[test]
    fn the_registration_is_a_target_with_a_sandbox_and_its_default_path_first() {
        let registration = registration();
        assert_eq!(registration.name, NAME);
        assert!(registration.is_target() && !registration.is_source());
        assert_eq!(registration.load_paths.first(), Some(&"api"));
        assert!(registration.sandbox);
    }
}
