//! Conversations: the `_conversation` partial and its unread count.

use serde_json::{Value, json};

use super::{agent, contact, epoch, epoch_or_zero, iso, message_push, team};
use crate::state::{Conversation, Database, MessageType};

/// The number of incoming messages newer than `agent_last_seen_at`, capped at 10
/// (`Conversation#unread_incoming_messages`).
pub fn unread_count(s: &Database, c: &Conversation) -> usize {
    s.conversation_messages.get(&c.id).map_or(0, |ids| {
        ids.iter()
            .filter_map(|id| s.messages.get(id))
            .filter(|m| m.message_type == MessageType::Incoming)
            .filter(|m| c.agent_last_seen_at.is_none_or(|seen| m.created_at > seen))
            .count()
            .min(10)
    })
}

/// `conversations/partials/_conversation.json.jbuilder`.
pub fn conversation(s: &Database, c: &Conversation) -> Value {
    let ids = s.conversation_messages.get(&c.id);
    let last = ids
        .and_then(|ids| ids.last())
        .and_then(|id| s.messages.get(id));
    let last_non_activity = ids.and_then(|ids| {
        ids.iter()
            .rev()
            .filter_map(|id| s.messages.get(id))
            .find(|m| m.message_type != MessageType::Activity)
    });
    let mut meta = json!({
        "sender": s.contacts.get(&c.contact_id).map(|ct| contact(s, ct, false)),
        "channel": s.inboxes.get(&c.inbox_id).map(|i| i.channel_type.clone()),
        "hmac_verified": s.contact_inboxes.get(&c.contact_inbox_id).map(|ci| ci.hmac_verified),
    });
    if let Some(u) = c.assignee_id.and_then(|id| s.users.get(&id)) {
        meta["assignee"] = agent(s, c.account_id, u);
        meta["assignee_type"] = json!("User");
    }
    if let Some(t) = c.team_id.and_then(|id| s.teams.get(&id)) {
        meta["team"] = team(t, None);
    }
    json!({
        "meta": meta,
        "id": c.display_id,
        "messages": last.map(|m| vec![message_push(s, m)]).unwrap_or_default(),
        "account_id": c.account_id,
        "uuid": c.uuid,
        "additional_attributes": c.additional_attributes,
        "agent_last_seen_at": epoch_or_zero(c.agent_last_seen_at),
        "assignee_last_seen_at": epoch_or_zero(c.assignee_last_seen_at),
        "can_reply": true,
        "contact_last_seen_at": epoch_or_zero(c.contact_last_seen_at),
        "custom_attributes": c.custom_attributes,
        "inbox_id": c.inbox_id,
        "labels": c.labels,
        "muted": false,
        // `json.snoozed_until conversation.snoozed_until`: the raw datetime, an ISO string.
        "snoozed_until": c.snoozed_until.map(iso),
        "status": c.status,
        "created_at": epoch(c.created_at),
        "updated_at": c.updated_at.as_millisecond() as f64 / 1000.0,
        "timestamp": epoch(c.last_activity_at),
        "first_reply_created_at": epoch_or_zero(c.first_reply_created_at),
        "unread_count": unread_count(s, c),
        "last_non_activity_message": last_non_activity.map(|m| message_push(s, m)),
        "last_activity_at": epoch(c.last_activity_at),
        "priority": c.priority,
        "waiting_since": epoch_or_zero(c.waiting_since),
        "sla_policy_id": null,
    })
}
