//! Tickets as Intercom 2.16 JSON (`ticket`, `ticket_part`).

use deskmove_synth::{Author, Ticket};
use serde_json::{Value, json};

use crate::render::{Render, WORKSPACE_ID, admin_id};

impl Render<'_> {
    /// A ticket with its parts (tickets have no part cap).
    pub(crate) fn ticket(&self, t: &Ticket) -> Value {
        let contact = self.view.contact(t.contact);
        let parts: Vec<Value> = t
            .parts
            .iter()
            .enumerate()
            .map(|(k, (author, at, body))| {
                let a = match author {
                    Author::Contact(_) => json!({"type": "user", "id": contact.as_ref().map(|c| c.id.clone()), "name": contact.as_ref().and_then(|c| c.name.clone()), "email": contact.as_ref().and_then(|c| c.email.clone()).unwrap_or_default()}),
                    other => {
                        // Ticket parts name their author without the AI flags.
                        let mut x = serde_json::to_value(self.author_out(*other)).unwrap_or(Value::Null);
                        if let Some(o) = x.as_object_mut() {
                            o.remove("from_ai_agent");
                            o.remove("is_ai_answer");
                        }
                        x
                    }
                };
                json!({
                    "type": "ticket_part",
                    "id": format!("{}{:02}", t.id, k),
                    "part_type": "comment",
                    "body": self.body(body),
                    "created_at": at,
                    "updated_at": at,
                    "author": a,
                    "attachments": [],
                    "redacted": false,
                })
            })
            .collect();
        json!({
            "type": "ticket",
            "id": t.id,
            "ticket_id": t.ticket_number.to_string(),
            "category": t.category,
            "ticket_attributes": {"_default_title_": t.title, "_default_description_": self.body(&t.description)},
            "ticket_state": {"type": "ticket_state", "id": format!("{}", t.state.len()), "category": t.state, "internal_label": t.state.replace('_', " "), "external_label": t.state.replace('_', " ")},
            "ticket_type": {"type": "ticket_type", "id": "1", "category": t.category, "name": "Bug report", "description": "Something is broken", "icon": "🐞", "workspace_id": WORKSPACE_ID, "archived": false, "created_at": t.created_at, "updated_at": t.created_at},
            "contacts": {"type": "contact.list", "contacts": contact.map(|x| vec![json!({"type": "contact", "id": x.id, "external_id": x.external_id})]).unwrap_or_default()},
            "admin_assignee_id": t.agent_assignee.map_or(0, admin_id),
            "team_assignee_id": 0,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "open": t.state != "resolved",
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ticket_parts": {"type": "ticket_part.list", "ticket_parts": parts, "total_count": t.parts.len()},
            "is_shared": true,
        })
    }
}
