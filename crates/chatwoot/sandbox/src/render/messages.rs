//! Messages: `_message` and its sender.

use serde_json::{Value, json};

use super::{contact_push, epoch, iso, user_push};
use crate::state::{Database, Message};

/// `User#push_event_data` / `AgentBot#push_event_data` / `Contact#push_event_data`.
pub fn sender(s: &Database, m: &Message) -> Option<Value> {
    let id = m.sender_id?;
    match m.sender_type? {
        "User" => s.users.get(&id).map(|u| user_push(s, m.account_id, u)),
        "AgentBot" => s
            .agent_bots
            .get(&id)
            .map(|b| json!({"id": b.id, "name": b.name, "avatar_url": "", "type": "agent_bot"})),
        _ => s.contacts.get(&id).map(contact_push),
    }
}

/// `_message.json.jbuilder`.
pub fn message(s: &Database, m: &Message) -> Value {
    let display_id = s
        .conversations
        .get(&m.conversation_id)
        .map_or(0, |c| c.display_id);
    let mut v = json!({
        "id": m.id,
        "content": m.content,
        "inbox_id": m.inbox_id,
        "conversation_id": display_id,
        "message_type": m.message_type as u8,
        "content_type": m.content_type,
        "status": m.status,
        "content_attributes": m.content_attributes,
        "created_at": epoch(m.created_at),
        "private": m.private,
        "source_id": m.source_id,
    });
    if let Some(snd) = sender(s, m) {
        v["sender"] = snd;
    }
    if !m.attachments.is_empty() {
        let atts: Vec<Value> = m
            .attachments
            .iter()
            .map(|a| {
                json!({"id": a.id, "message_id": m.id, "file_type": a.file_type, "account_id": m.account_id,
                       "extension": null, "data_url": format!("/rails/active_storage/blobs/{}/{}", a.id, a.file_name),
                       "thumb_url": "", "file_size": a.byte_size, "width": null, "height": null})
            })
            .collect();
        v["attachments"] = json!(atts);
    }
    v
}

/// `Message#push_event_data`, which the conversation partial embeds (`messages`,
/// `last_non_activity_message`): every column — `updated_at` as an ISO string, `created_at` as
/// epoch seconds, `message_type` as its integer — plus a conversation summary and the sender.
pub fn message_push(s: &Database, m: &Message) -> Value {
    let c = s.conversations.get(&m.conversation_id);
    let mut v = json!({
        "id": m.id,
        "content": m.content,
        "account_id": m.account_id,
        "inbox_id": m.inbox_id,
        "conversation_id": c.map_or(0, |c| c.display_id),
        "message_type": m.message_type as u8,
        "created_at": epoch(m.created_at),
        "updated_at": iso(m.updated_at),
        "private": m.private,
        "status": m.status,
        "source_id": m.source_id,
        "content_type": m.content_type,
        "content_attributes": m.content_attributes,
        "sender_type": m.sender_type,
        "sender_id": m.sender_id,
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": m.processed_message_content,
        "sentiment": {},
        "conversation": c.map(|c| json!({
            "assignee_id": c.assignee_id,
            "unread_count": super::conversations::unread_count(s, c),
            "last_activity_at": epoch(c.last_activity_at),
            "contact_inbox": {"source_id": s.contact_inboxes.get(&c.contact_inbox_id).map(|ci| ci.source_id.clone())},
        })),
    });
    if !m.attachments.is_empty() {
        v["attachments"] = message(s, m)["attachments"].clone();
    }
    if let Some(snd) = sender(s, m) {
        v["sender"] = snd;
    }
    v
}
