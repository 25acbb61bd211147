//! Tickets, their types and states as Intercom 2.16 JSON (`ticket`, `ticket_part`,
//! `ticket_type`, `ticket_state`).

use deskmove_synth::{Author, Ticket};
use serde_json::{Value, json};

use crate::derived::{self, TicketState, TicketType};
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
            // The same type and state objects `GET /ticket_types` and `/ticket_states` list.
            "ticket_state": derived::ticket_state_for(self.view.seed(), t.state).map(|st| self.ticket_state(&st)),
            "ticket_type": derived::ticket_type_for(self.view.seed(), t.category).map(|ty| self.ticket_type(&ty)),
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

impl Render<'_> {
    /// A ticket type (as embedded in a ticket).
    pub(crate) fn ticket_type(&self, t: &TicketType) -> Value {
        json!({
            "type": "ticket_type",
            "id": t.id,
            "category": t.category,
            "name": t.name,
            "description": t.description,
            "icon": t.icon,
            "workspace_id": WORKSPACE_ID,
            "archived": false,
            "created_at": t.created_at,
            "updated_at": t.created_at,
        })
    }

    /// A ticket type as `GET /ticket_types` lists it: with its default attributes and states.
    pub(crate) fn ticket_type_listed(&self, t: &TicketType) -> Value {
        let mut v = self.ticket_type(t);
        let attribute = |n: u64, name: &str, description: &str| {
            json!({
                "type": "ticket_type_attribute",
                "id": format!("{}{n}", t.id),
                "workspace_id": WORKSPACE_ID,
                "name": name,
                "description": description,
                "data_type": "string",
                "input_options": {"multiline": n == 2},
                "order": n - 1,
                "required_to_create": n == 1,
                "required_to_create_for_contacts": false,
                "visible_on_create": true,
                "visible_to_contacts": true,
                "default": true,
                "ticket_type_id": t.id.parse::<i64>().unwrap_or(0),
                "archived": false,
                "created_at": t.created_at,
                "updated_at": t.created_at,
            })
        };
        v["ticket_type_attributes"] = json!({"type": "list", "data": [
            attribute(1, "_default_title_", "Title"),
            attribute(2, "_default_description_", "Description"),
        ]});
        v["is_internal"] = json!(t.category == "Tracker");
        v["ticket_states"] = json!({"type": "list", "data": derived::ticket_states(self.view.seed())
            .iter()
            .map(|st| self.ticket_state(st))
            .collect::<Vec<_>>()});
        v
    }

    /// A ticket state (as embedded in a ticket or a ticket type).
    pub(crate) fn ticket_state(&self, st: &TicketState) -> Value {
        json!({
            "type": "ticket_state",
            "id": st.id,
            "category": st.category,
            "internal_label": st.internal_label,
            "external_label": st.external_label,
        })
    }

    /// A ticket state as `GET /ticket_states` lists it: with the ticket types that use it.
    pub(crate) fn ticket_state_listed(&self, st: &TicketState) -> Value {
        let mut v = self.ticket_state(st);
        v["archived"] = json!(false);
        v["ticket_types"] = json!({"type": "list", "data": derived::ticket_types(self.view.seed())
            .iter()
            .map(|t| json!({"type": "ticket_type", "id": t.id, "name": t.name, "description": t.description, "icon": t.icon, "archived": false, "is_internal": t.category == "Tracker", "category": t.category}))
            .collect::<Vec<_>>()});
        v
    }
}
