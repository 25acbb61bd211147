//! Tickets, macros, articles and collections as Intercom 2.16 JSON (`ticket`, `macro`,
//! `article_list_item`, `collection`). Conversations, the hot path, are typed: see `wire`.

use deskmove_synth::{Article, Author, Collection, Macro, Ticket};
use serde_json::{Value, json};

use super::render::{Render, WORKSPACE_ID};

use super::wire::{BOT_ID, OPERATOR_ID};

impl Render<'_> {
    fn author(&self, a: Author) -> Value {
        if let Some(v) = self.authors.borrow().get(&a) {
            return v.clone();
        }
        let v = self.author_uncached(a);
        self.authors.borrow_mut().insert(a, v.clone());
        v
    }

    fn author_uncached(&self, a: Author) -> Value {
        match a {
            Author::Contact(j) => match self.v.contact(j) {
                Some(c) => {
                    json!({"type": c.role.as_str(), "id": c.id, "name": c.name, "email": c.email.unwrap_or_default(), "from_ai_agent": false, "is_ai_answer": false})
                }
                None => json!({"type": "user", "id": null, "name": null, "email": ""}),
            },
            Author::Admin(i) => match self.v.admin(i) {
                Some(ad) => {
                    json!({"type": "admin", "id": ad.id, "name": ad.name, "email": ad.email, "from_ai_agent": false, "is_ai_answer": false})
                }
                None => json!({"type": "admin", "id": null, "name": null, "email": ""}),
            },
            Author::Operator(_) => {
                json!({"type": "admin", "id": OPERATOR_ID, "name": "Fin", "email": "operator+sbx4dm@intercom.io", "from_ai_agent": true, "is_ai_answer": true})
            }
            Author::Bot(_) => {
                json!({"type": "bot", "id": BOT_ID, "name": "Workflow bot", "email": "bot+sbx4dm@intercom.io", "from_ai_agent": false, "is_ai_answer": false})
            }
            Author::Team(t) => {
                let name = self.v.team(t).map(|x| x.name);
                json!({"type": "team", "id": (5_000 + t).to_string(), "name": name, "email": "", "from_ai_agent": false, "is_ai_answer": false})
            }
        }
    }

    pub(crate) fn ticket(&self, t: &Ticket) -> Value {
        let contact = self.v.contact(t.contact);
        let parts: Vec<Value> = t
            .parts
            .iter()
            .enumerate()
            .map(|(k, (author, at, body))| {
                let a = match author {
                    Author::Contact(_) => json!({"type": "user", "id": contact.as_ref().map(|c| c.id.clone()), "name": contact.as_ref().and_then(|c| c.name.clone()), "email": contact.as_ref().and_then(|c| c.email.clone()).unwrap_or_default()}),
                    other => {
                        let mut x = self.author(*other);
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
            "admin_assignee_id": t.admin_assignee.map_or(0, |a| 900_000 + a),
            "team_assignee_id": 0,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "open": t.state != "resolved",
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ticket_parts": {"type": "ticket_part.list", "ticket_parts": parts, "total_count": t.parts.len()},
            "is_shared": true,
        })
    }

    pub(crate) fn macro_(&self, m: &Macro) -> Value {
        let body = placeholders_to_attributes(&m.body_template);
        json!({
            "type": "macro",
            "id": m.id,
            "name": m.name,
            "body": body,
            "body_text": super::plaintext::to_plaintext(&body),
            // Macros are the one place Intercom uses ISO-8601 timestamps (§2).
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
            "visible_to": if m.team_indexes.is_empty() { "everyone" } else { "specific_teams" },
            "visible_to_team_ids": m.team_indexes.iter().map(|t| (5_000 + t).to_string()).collect::<Vec<_>>(),
            "available_on": ["inbox", "messenger"],
        })
    }

    pub(crate) fn article(&self, a: &Article) -> Value {
        let parent = self
            .v
            .collection(a.collection)
            .and_then(|c| c.id.parse::<u64>().ok());
        json!({
            "type": "article",
            "id": a.id,
            "workspace_id": WORKSPACE_ID,
            "title": a.title,
            "description": a.description,
            "body": self.body(&a.body),
            "author_id": 900_000 + a.author,
            "state": if a.published { "published" } else { "draft" },
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            "url": a.published.then(|| format!("https://help.example.com/en/articles/{}", a.id)),
            "parent_id": parent,
            "parent_ids": parent.into_iter().collect::<Vec<_>>(),
            "parent_type": "collection",
            "default_locale": "en",
        })
    }

    pub(crate) fn collection(&self, c: &Collection) -> Value {
        json!({
            "type": "collection",
            "id": c.id,
            "workspace_id": WORKSPACE_ID,
            "name": c.name,
            "description": c.description,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "url": format!("https://help.example.com/en/collections/{}", c.id),
            "icon": null,
            "order": c.index + 1,
            "default_locale": "en",
            "parent_id": c.parent.and_then(|p| self.v.collection(p)).map(|p| p.id),
            "help_center_id": 1,
        })
    }
}

/// `{{user.name | fallback: 'there'}}` → `<attribute key="user.name" default="there"/>` (§2, macros).
pub(crate) fn placeholders_to_attributes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let inner = rest[open + 2..open + close].trim();
        let (key, fallback) = match inner.split_once('|') {
            Some((k, f)) => {
                let f = f
                    .trim()
                    .trim_start_matches("fallback:")
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"');
                (k.trim(), Some(f))
            }
            None => (inner, None),
        };
        match fallback {
            Some(f) => out.push_str(&format!("<attribute key=\"{key}\" default=\"{f}\"/>")),
            None => out.push_str(&format!("<attribute key=\"{key}\"/>")),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}
