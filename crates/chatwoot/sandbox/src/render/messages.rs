//! Messages: `_message` and its sender.

use serde_json::{Value, json};

use super::{contact_push, epoch, user_push};
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
    if let Some(e) = &m.echo_id {
        v["echo_id"] = json!(e);
    }
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
