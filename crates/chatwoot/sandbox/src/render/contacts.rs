//! Contacts: `_contact`, `_contact_inbox` and `Contact#push_event_data`.

use serde_json::{Value, json};

use super::{epoch, inbox_slim};
use crate::state::{Contact, ContactInbox, Database};

/// `_contact.json.jbuilder`; `with_inboxes` adds `contact_inboxes` as the `/contacts` routes do.
pub fn contact(s: &Database, c: &Contact, with_inboxes: bool) -> Value {
    let mut v = json!({
        "additional_attributes": c.additional_attributes,
        "availability_status": "offline",
        "email": c.email,
        "id": c.id,
        "name": c.name,
        "phone_number": c.phone_number,
        "blocked": c.blocked,
        "identifier": c.identifier,
        "thumbnail": "",
        "custom_attributes": c.custom_attributes,
    });
    if let Some(t) = c.last_activity_at {
        v["last_activity_at"] = json!(epoch(t));
    }
    v["created_at"] = json!(epoch(c.created_at));
    if with_inboxes {
        let inboxes: Vec<Value> = s
            .contact_inboxes
            .values()
            .filter(|ci| ci.contact_id == c.id)
            .map(|ci| contact_inbox(s, ci))
            .collect();
        v["contact_inboxes"] = json!(inboxes);
    }
    v
}

/// `_contact_inbox.json.jbuilder`: `{source_id, inbox: <slim inbox>}`.
pub fn contact_inbox(s: &Database, ci: &ContactInbox) -> Value {
    json!({
        "source_id": ci.source_id,
        "inbox": s.inboxes.get(&ci.inbox_id).map(inbox_slim),
    })
}

/// `Contact#push_event_data`.
pub fn contact_push(c: &Contact) -> Value {
    json!({"additional_attributes": c.additional_attributes, "custom_attributes": c.custom_attributes,
           "email": c.email, "id": c.id, "identifier": c.identifier, "name": c.name,
           "phone_number": c.phone_number, "thumbnail": "", "blocked": c.blocked, "type": "contact"})
}
