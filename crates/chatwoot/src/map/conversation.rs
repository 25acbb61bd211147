//! Conversations.

use deskmove_core::model::{Conversation, ConversationState, Timestamp};
use serde_json::{Map, Value, json};

use super::attribute::attribute_values;
use super::marker;

/// What the target resolved for a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refs {
    /// The assignee's `users.id`, when the agent is matched.
    pub assignee: Option<i64>,
    /// The team's `teams.id`, when matched.
    pub team: Option<i64>,
}

/// A `conversations` row, without the ids the loader resolves (contact, contact inbox, inbox)
/// and without `display_id`, which Chatwoot's trigger assigns (research/chatwoot.md §0.7).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    /// `status`: open 0, resolved 1, pending 2, snoozed 3.
    pub status: i32,
    /// `priority`: low 0, medium 1, high 2, urgent 3.
    pub priority: Option<i32>,
    /// `assignee_id`.
    pub assignee_id: Option<i64>,
    /// `team_id`.
    pub team_id: Option<i64>,
    /// `snoozed_until`, only when snoozed.
    pub snoozed_until: Option<Timestamp>,
    /// `identifier`: the source marker (indexed with the account; how a crashed batch's rows
    /// are found again).
    pub identifier: String,
    /// `additional_attributes`: source ids, link, original times, subject.
    pub additional_attributes: Value,
    /// `custom_attributes`.
    pub custom_attributes: Value,
    /// `created_at`.
    pub created_at: Timestamp,
    /// `updated_at`.
    pub updated_at: Timestamp,
    /// `last_activity_at` until messages arrive: the source's last change.
    pub last_activity_at: Timestamp,
}

/// Chatwoot's status integer for a canonical state.
pub fn status(state: ConversationState) -> i32 {
    match state {
        ConversationState::Open => 0,
        ConversationState::Closed => 1,
        ConversationState::Pending => 2,
        ConversationState::Snoozed => 3,
    }
}

fn priority(p: &str) -> Option<i32> {
    match p.to_ascii_lowercase().as_str() {
        "low" => Some(0),
        "medium" | "normal" => Some(1),
        "high" | "priority" | "priority_high" => Some(2),
        "urgent" => Some(3),
        _ => None,
    }
}

/// The row for `c`.
pub fn conversation(c: &Conversation, refs: Refs) -> ConversationRow {
    let mut extra = Map::new();
    extra.insert("deskmove_source".into(), json!(marker(&c.key)));
    extra.insert("source_system".into(), json!(c.key.system));
    extra.insert("source_id".into(), json!(c.key.id));
    extra.insert("source_created_at".into(), json!(c.created_at.to_string()));
    if let Some(u) = c.updated_at {
        extra.insert("source_updated_at".into(), json!(u.to_string()));
    }
    if let Some(url) = c.extra.get("url").or_else(|| c.extra.get("link")) {
        extra.insert("source_url".into(), url.clone());
    }
    if let Some(s) = c.subject.as_deref().filter(|s| !s.is_empty()) {
        extra.insert("mail_subject".into(), json!(s));
    }
    if let Some(p) = c.priority.as_deref()
        && priority(p).is_none()
    {
        extra.insert("source_priority".into(), json!(p));
    }
    let updated = c.updated_at.unwrap_or(c.created_at).max(c.created_at);
    ConversationRow {
        status: status(c.state),
        priority: c.priority.as_deref().and_then(priority),
        assignee_id: refs.assignee,
        team_id: refs.team,
        snoozed_until: (c.state == ConversationState::Snoozed)
            .then_some(c.snoozed_until)
            .flatten(),
        identifier: marker(&c.key),
        additional_attributes: Value::Object(extra),
        custom_attributes: attribute_values(&c.attributes),
        created_at: c.created_at,
        updated_at: updated,
        last_activity_at: updated,
    }
}
