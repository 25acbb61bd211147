//! Response bodies, field for field as Chatwoot's jbuilder views render them.
//!
//! Sources: `views/api/v1/models/_contact`, `_message`, `_inbox`, `_agent`, `_team`,
//! `conversations/partials/_conversation` and the models' `push_event_data`
//! (`../shared/research/chatwoot.md §2`). Most timestamps are epoch integers; canned responses and
//! custom attribute definitions render raw ISO strings (§1).
//!
//! One file per resource; the time formats every view shares are here.

use jiff::Timestamp;

mod accounts;
mod agent_bots;
mod agents;
mod attribute_definitions;
mod canned_responses;
mod contacts;
mod conversations;
mod help_center;
mod inboxes;
mod labels;
mod messages;
mod platform;
mod teams;
mod webhooks;

pub use accounts::account;
pub use agent_bots::agent_bot;
pub use agents::{agent, agents, available_name, user_push};
pub use attribute_definitions::attribute_definition;
pub use canned_responses::canned_response;
pub use contacts::{contact, contact_inbox, contact_push};
pub use conversations::conversation;
pub use help_center::{article, category, portal};
pub use inboxes::{inbox, inbox_record, inbox_slim};
pub use labels::label;
pub use messages::{message, message_push, sender};
pub use platform::{platform_account, platform_account_user, platform_user};
pub use teams::team;
pub use webhooks::{automation_rule, webhook};

/// `time.to_i`.
pub fn epoch(t: Timestamp) -> i64 {
    t.as_second()
}

/// `nil.to_i` is 0.
pub fn epoch_or_zero(t: Option<Timestamp>) -> i64 {
    t.map_or(0, epoch)
}

/// ActiveSupport's JSON time: ISO 8601 with milliseconds.
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
