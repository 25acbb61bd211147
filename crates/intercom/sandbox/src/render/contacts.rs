//! Contacts and their notes as Intercom 2.16 JSON (`contact`, `note`).

use deskmove_synth::{AttrValue, Contact, Note};
use serde_json::{Map, Value, json};

use crate::render::{Render, WORKSPACE_ID};

impl Render<'_> {
    /// A contact (user or lead) with its tag, note and company references.
    pub(crate) fn contact(&self, c: &Contact) -> Value {
        let email = c.email.clone().unwrap_or_default();
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.trim().to_string())
            .unwrap_or_default();
        // The embedded lists show at most ten items, then `has_more` and the `url` to follow
        // (schemas `contact_tags`, `contact_companies`, `contact_notes`; research §2).
        let tag_refs: Vec<Value> = c
            .tags
            .iter()
            .take(EMBEDDED_MAX)
            .filter_map(|t| self.view.tag(*t))
            .map(|t| json!({"type": "tag", "id": t.id, "url": format!("/tags/{}", t.id)}))
            .collect();
        let companies = contact_companies(c);
        let company_refs: Vec<Value> = companies
            .iter()
            .take(EMBEDDED_MAX)
            .filter_map(|k| self.view.company(*k))
            .map(|co| json!({"type": "company", "id": co.id, "url": format!("/companies/{}", co.id)}))
            .collect();
        let note_refs: Vec<Value> = (0..c.notes.min(EMBEDDED_MAX as u64))
            .map(|k| self.view.note_id(c.index, k))
            .map(|id| json!({"type": "note", "id": id.to_string(), "url": format!("/notes/{id}")}))
            .collect();
        let more = |total: usize| total > EMBEDDED_MAX;
        json!({
            "type": "contact",
            "id": c.id,
            "workspace_id": WORKSPACE_ID,
            "external_id": c.external_id,
            "role": c.role.as_str(),
            "email": email,
            "email_domain": domain,
            "phone": c.phone,
            "name": c.name,
            "owner_id": c.owner.and_then(|o| self.view.agent(o)).map(|a| a.id),
            "has_hard_bounced": false,
            "marked_email_as_spam": false,
            "unsubscribed_from_emails": false,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "signed_up_at": c.signed_up_at,
            "last_seen_at": c.last_seen_at,
            "last_replied_at": null,
            "last_contacted_at": null,
            "last_email_opened_at": null,
            "last_email_clicked_at": null,
            "language_override": null,
            "browser": "chrome",
            "browser_version": "120.0",
            "browser_language": "en",
            "os": "Mac OS X",
            "custom_attributes": custom_attributes(&c.custom_attributes),
            "avatar": null,
            "tags": {"type": "list", "data": tag_refs, "url": format!("/contacts/{}/tags", c.id), "total_count": c.tags.len(), "has_more": more(c.tags.len())},
            "notes": {"type": "list", "data": note_refs, "url": format!("/contacts/{}/notes", c.id), "total_count": c.notes, "has_more": more(c.notes as usize)},
            "companies": {"type": "list", "data": company_refs, "url": format!("/contacts/{}/companies", c.id), "total_count": companies.len(), "has_more": more(companies.len())},
            "location": {"type": "location", "country": c.location.1, "region": null, "city": c.location.0},
            "social_profiles": {"type": "list", "data": []},
        })
    }

    /// A note an agent left on a contact.
    pub(crate) fn note(&self, n: &Note) -> Value {
        let contact = self.view.contact(n.contact);
        json!({
            "type": "note",
            "id": n.id.to_string(),
            "created_at": n.created_at,
            "contact": contact.map(|c| json!({"type": "contact", "id": c.id})),
            "author": self.view.agent(n.author).map(|a| self.admin(&a)),
            "body": self.body(&n.body),
        })
    }
}

/// Items an embedded sub-list of a contact shows before `has_more`.
pub(crate) const EMBEDDED_MAX: usize = 10;

/// Every company of a contact (indexes): its own first, then the others.
pub(crate) fn contact_companies(c: &Contact) -> Vec<u64> {
    c.company.iter().chain(&c.more_companies).copied().collect()
}

/// Custom attributes as typed JSON values.
fn custom_attributes(attrs: &[(String, AttrValue)]) -> Value {
    let mut m = Map::new();
    for (k, v) in attrs {
        m.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
    Value::Object(m)
}
