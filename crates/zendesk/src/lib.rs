//! The Zendesk connector: the Zendesk Support source — its registration, call limits, `[source]`
//! settings, client, wire types, mapping to canonical records and extraction through the
//! incremental exports (`extract`).
//!
//! Its tests run against `deskmove-zendesk-sandbox`, a local Zendesk serving the synthetic
//! company, which is a separate crate so the oracle stays independent of the code it checks.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod extract;
pub mod map;
pub mod wire;

pub use config::SourceConfig;
use deskmove_core::Registration;
use deskmove_http::{HostPolicy, RateHeaders};
pub use extract::{SourceOptions, ZendeskError, ZendeskSource};

/// The connector's name in `deskmove.toml`, on the command line and in source keys.
pub const NAME: &str = "zendesk";

/// What deskmove knows about this connector.
pub fn registration() -> Registration {
    Registration {
        name: NAME,
        display_name: "Zendesk",
        source_template: Some(config::SOURCE_TEMPLATE),
        target_template: None,
        load_paths: &[],
        sandbox: true,
        token_help: "Admin Center > Apps and integrations > APIs > Zendesk API (an admin's token)",
        mapping_docs: &[],
    }
}

/// The account-wide limit of Zendesk's smallest plan, in calls per minute.
///
/// ../shared/research/zendesk-freshdesk-helpscout.md §1.4: Team 200, Growth 400, Professional
/// 400, Enterprise 700, High Volume API add-on 2,500 per minute, account-wide.
pub const LOWEST_PLAN_CALLS_PER_MINUTE: u32 = 200;

/// The incremental exports' own limit, in calls per minute (§1.4: "up to 10 requests per
/// minute to these endpoints", apart from the account bucket).
pub const INCREMENTAL_CALLS_PER_MINUTE: u32 = 10;

/// Zendesk's account bucket, sized for any plan.
///
/// deskmove cannot see the plan, so it budgets under the smallest one (Team, 200/min, §1.4):
/// 180/min plus a burst of 10 keeps any minute at 190, leaving room for the account's other
/// integrations; Enterprise users may raise `calls_per_minute` to about 630 in `[source.http]`.
/// Zendesk counts per minute (`ratelimit-reset` is seconds to the minute's end) and some 429s
/// carry no `Retry-After` (§1.4), so a bare 429 waits for the next minute.
///
/// Every answer states the account's window (§1.4: `X-Rate-Limit: 700`,
/// `X-Rate-Limit-Remaining: 699` on all, `ratelimit-reset: 41` on list endpoints): the client
/// keeps within what is left, so a budget raised to the plan's full limit draws no 429.
pub fn host_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 180,
        burst: 10,
        fixed_window_secs: Some(60),
        rate_headers: rate_headers(),
        ..HostPolicy::default()
    }
}

/// The headers Zendesk states the account's window in (§1.4). Where `ratelimit-reset` is
/// missing (endpoints other than lists), the window ends at the minute's end.
pub fn rate_headers() -> RateHeaders {
    RateHeaders {
        limit: "x-rate-limit".into(),
        remaining: "x-rate-limit-remaining".into(),
        reset: "ratelimit-reset".into(),
    }
}

/// The incremental exports' budget, for a client of their own: 5/min after a burst of 4 keeps
/// any minute at 9, under their separate 10/min (§1.4). The burst lets the user, organization
/// and ticket exports all start at once, so ticket comments (most of an export's calls) start
/// at once too; an export page holds 1,000 items, so 5 pages a minute is never what a run waits
/// on. Those calls count against the account bucket too.
pub fn incremental_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 5,
        burst: 4,
        ..host_policy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stays_under_the_smallest_plan() {
        // At most burst + rate × 60 s calls in any minute, under Team's 200.
        let policy = host_policy();
        assert!(policy.burst + policy.calls_per_minute < LOWEST_PLAN_CALLS_PER_MINUTE);
        assert_eq!(policy.fixed_window_secs, Some(60));
        policy.validate().unwrap();

        let incremental = incremental_policy();
        assert!(incremental.burst + incremental.calls_per_minute < INCREMENTAL_CALLS_PER_MINUTE);
        incremental.validate().unwrap();
    }

    #[test]
    fn the_registration_is_a_source_with_a_sandbox() {
        let registration = registration();
        assert_eq!(registration.name, NAME);
        assert!(registration.is_source() && !registration.is_target());
        assert!(registration.sandbox);
    }
}
