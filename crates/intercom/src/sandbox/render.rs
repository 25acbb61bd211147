//! Synthetic records rendered as Intercom 2.16 JSON (schemas `admin`, `team`, `tag`,
//! `data_attribute`, `contact`, `company`, `note` in `../shared/specs/intercom/api.intercom.io.2.16.yaml`).

use deskmove_synth::html::INLINE_SCHEME;
use deskmove_synth::{
    Admin, AttrValue, AttributeDef, AttributeType, Company, Contact, Note, Tag, Team, View,
};
use serde_json::{Map, Value, json};

use super::files::Signer;
use super::plaintext::to_plaintext;

/// Everything rendering needs besides the record.
pub(crate) struct Render<'a> {
    pub(crate) v: View<'a>,
    pub(crate) signer: &'a Signer,
    /// Sandbox clock (UNIX s) at which attachment URLs are issued.
    pub(crate) now: i64,
    pub(crate) plaintext: bool,
    /// Rendered authors of this request (a conversation names the same few many times).
    pub(crate) authors:
        std::cell::RefCell<std::collections::HashMap<deskmove_synth::Author, Value>>,
}

/// The sandbox's workspace id (app id).
pub(crate) const WORKSPACE_ID: &str = "sbx4dm";

impl Render<'_> {
    pub(crate) fn admin(&self, a: &Admin) -> Value {
        json!({
            "type": "admin",
            "id": a.id,
            "name": a.name,
            "email": a.email,
            "job_title": a.job_title,
            "away_mode_enabled": a.away,
            "away_mode_reassign": false,
            "has_inbox_seat": true,
            "team_ids": a.team_indexes.iter().map(|t| 5_000 + t).collect::<Vec<_>>(),
            "avatar": null,
        })
    }

    pub(crate) fn team(&self, t: &Team) -> Value {
        json!({
            "type": "team",
            "id": t.id,
            "name": t.name,
            "admin_ids": t.admin_indexes.iter().filter_map(|a| self.v.admin(*a)).filter_map(|a| a.id.parse::<u64>().ok()).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn tag(&self, t: &Tag) -> Value {
        json!({ "type": "tag", "id": t.id, "name": t.name })
    }

    pub(crate) fn data_attribute(&self, d: &AttributeDef) -> Value {
        let model = match d.model {
            deskmove_synth::AttributeModel::Contact => "contact",
            deskmove_synth::AttributeModel::Company => "company",
        };
        // Intercom has no "list" type: a list attribute is a string with `options`.
        let data_type = match d.data_type {
            AttributeType::String | AttributeType::List => "string",
            AttributeType::Integer => "integer",
            AttributeType::Float => "float",
            AttributeType::Boolean => "boolean",
            AttributeType::Date => "date",
        };
        let mut v = json!({
            "type": "data_attribute",
            "id": d.id,
            "model": model,
            "name": d.name,
            "full_name": format!("custom_attributes.{}", d.name),
            "label": d.label,
            "description": format!("{} (synthetic)", d.label),
            "data_type": data_type,
            "api_writable": true,
            "messenger_writable": false,
            "ui_writable": true,
            "custom": true,
            "archived": d.archived,
            "created_at": d.created_at,
            "updated_at": d.created_at,
            "admin_id": "900000",
        });
        if d.data_type == AttributeType::List {
            v["options"] = json!(d.options);
        }
        v
    }

    pub(crate) fn custom_attributes(attrs: &[(String, AttrValue)]) -> Value {
        let mut m = Map::new();
        for (k, v) in attrs {
            m.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
        }
        Value::Object(m)
    }

    pub(crate) fn string_attributes(attrs: &[(String, AttrValue)]) -> Value {
        let mut m = Map::new();
        for (k, v) in attrs {
            let s = match v {
                AttrValue::Str(s) => s.clone(),
                AttrValue::Int(i) => i.to_string(),
                AttrValue::Float(f) => f.to_string(),
                AttrValue::Bool(b) => b.to_string(),
            };
            m.insert(k.clone(), Value::String(s));
        }
        Value::Object(m)
    }

    pub(crate) fn contact(&self, c: &Contact) -> Value {
        let email = c.email.clone().unwrap_or_default();
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.trim().to_string())
            .unwrap_or_default();
        let tag_refs: Vec<Value> = c
            .tags
            .iter()
            .filter_map(|t| self.v.tag(*t))
            .map(|t| json!({"type": "tag", "id": t.id, "url": format!("/tags/{}", t.id)}))
            .collect();
        let company_refs: Vec<Value> = c
            .company
            .and_then(|k| self.v.company(k))
            .map(|co| json!({"type": "company", "id": co.id, "url": format!("/companies/{}", co.id)}))
            .into_iter()
            .collect();
        let note_refs: Vec<Value> = (0..c.notes)
            .map(|k| (c.index + 1) * 8 + k)
            .map(|id| json!({"type": "note", "id": id.to_string(), "url": format!("/notes/{id}")}))
            .collect();
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
            "owner_id": c.owner.and_then(|o| self.v.admin(o)).map(|a| a.id),
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
            "custom_attributes": Self::custom_attributes(&c.custom_attributes),
            "avatar": null,
            "tags": {"type": "list", "data": tag_refs, "url": format!("/contacts/{}/tags", c.id), "total_count": c.tags.len(), "has_more": false},
            "notes": {"type": "list", "data": note_refs, "url": format!("/contacts/{}/notes", c.id), "total_count": c.notes, "has_more": false},
            "companies": {"type": "list", "data": company_refs, "url": format!("/contacts/{}/companies", c.id), "total_count": u64::from(c.company.is_some()), "has_more": false},
            "location": {"type": "location", "country": c.location.1, "region": null, "city": c.location.0},
            "social_profiles": {"type": "list", "data": []},
        })
    }

    pub(crate) fn company(&self, c: &Company) -> Value {
        json!({
            "type": "company",
            "id": c.id,
            "name": c.name,
            "app_id": WORKSPACE_ID,
            "plan": {"type": "plan", "id": format!("plan-{}", c.plan.len()), "name": c.plan},
            "company_id": c.company_id,
            "remote_created_at": c.remote_created_at,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "last_request_at": c.last_request_at,
            "size": c.size,
            "website": c.website,
            "industry": c.industry,
            "monthly_spend": c.monthly_spend,
            "session_count": c.user_count * 3,
            "user_count": c.user_count,
            // The 2.16 spec types company custom attributes as strings (additionalProperties: string).
            "custom_attributes": Self::string_attributes(&c.custom_attributes),
            "tags": {"type": "tag.list", "tags": []},
            "segments": {"type": "segment.list", "segments": []},
        })
    }

    pub(crate) fn note(&self, n: &Note) -> Value {
        let contact = self.v.contact(n.contact);
        json!({
            "type": "note",
            "id": n.id.to_string(),
            "created_at": n.created_at,
            "contact": contact.map(|c| json!({"type": "contact", "id": c.id})),
            "author": self.v.admin(n.admin).map(|a| self.admin(&a)),
            "body": self.body(&n.body),
        })
    }

    /// A body as served: inline images get signed URLs; plaintext on request.
    pub(crate) fn body(&self, html: &str) -> String {
        let html = if html.contains(INLINE_SCHEME) {
            self.sign_inline(html)
        } else {
            html.to_string()
        };
        if self.plaintext {
            to_plaintext(&html)
        } else {
            html
        }
    }

    fn sign_inline(&self, html: &str) -> String {
        let mut out = String::with_capacity(html.len() + 128);
        let mut rest = html;
        while let Some(at) = rest.find(INLINE_SCHEME) {
            out.push_str(&rest[..at]);
            let tail = &rest[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            let id: u64 = tail[..digits].parse().unwrap_or(0);
            let name = self
                .v
                .attachment(id)
                .map_or_else(|| "image.png".to_string(), |a| a.name);
            // Inside an HTML attribute, `&` is written `&amp;`.
            out.push_str(&self.signer.url(id, &name, self.now).replace('&', "&amp;"));
            rest = &tail[digits..];
        }
        out.push_str(rest);
        out
    }
}
