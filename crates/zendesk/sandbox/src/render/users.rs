//! Users: agents (every fourth an admin; departed agents deleted, `active:false`), the light
//! agent that authors automated and bot replies, and end users (the world's contacts; a few
//! deleted). Identities: the primary email and the phone (research §3.5).

use deskmove_synth::{AttrValue, AttributeModel};
use serde_json::{Map, Value, json};

use crate::derive;
use crate::ids::{self, IDENTITY_MULT, UserRef};
use crate::index::agent_created_at;
use crate::render::{Render, date, field_key, iso, tag_word};

/// The world's custom values keyed by Zendesk field key, every live field present.
pub(crate) fn custom_values(
    r: &Render<'_>,
    model: AttributeModel,
    values: &[(String, AttrValue)],
) -> Value {
    let mut m = Map::new();
    for def in r.view.attributes_of(model) {
        let v = values.iter().find(|(k, _)| *k == def.name).map(|(_, v)| v);
        let v = match (v, def.data_type) {
            (None, _) => Value::Null,
            (Some(AttrValue::Int(t)), deskmove_synth::AttributeType::Date) => json!(date(*t)),
            (Some(AttrValue::Str(s)), deskmove_synth::AttributeType::List) => {
                json!(field_key(s))
            }
            (Some(v), _) => json!(v),
        };
        m.insert(field_key(&def.name), v);
    }
    Value::Object(m)
}

impl Render<'_> {
    /// Whether an agent is an admin.
    pub(crate) fn is_admin(a: u64) -> bool {
        a.is_multiple_of(4)
    }

    /// A user, or `None` if it does not exist at this epoch.
    pub(crate) fn user(&self, who: UserRef) -> Option<Value> {
        let o = self.origin;
        let base = |id: u64| {
            json!({
                "id": id,
                "url": o.api(&format!("users/{id}")),
                "time_zone": "Europe/Dublin",
                "iana_time_zone": "Europe/Dublin",
                "locale": "en-US",
                "locale_id": 1,
                "photo": null,
                "shared": false,
                "shared_agent": false,
                "shared_phone_number": null,
                "two_factor_auth_enabled": null,
                "moderator": false,
                "only_private_comments": false,
                "restricted_agent": false,
                "suspended": false,
                "report_csv": false,
                "alias": null,
                "details": "",
                "notes": "",
                "signature": null,
                "custom_role_id": null,
                "ticket_restriction": null,
                "default_group_id": null,
            })
        };
        match who {
            UserRef::Agent(a) => {
                let agent = self.view.agent(a)?;
                let mut u = base(ids::agent_user(a));
                let admin = Self::is_admin(a);
                let at = iso(agent_created_at(a));
                let extra = json!({
                    "name": agent.name,
                    "email": agent.email,
                    "phone": null,
                    "role": if admin { "admin" } else { "agent" },
                    "role_type": if admin { json!(4) } else { Value::Null },
                    "verified": true,
                    "active": !agent.departed,
                    "external_id": null,
                    "organization_id": null,
                    "tags": [],
                    "created_at": at,
                    "updated_at": at,
                    "last_login_at": if agent.departed { Value::Null } else { json!(at) },
                    "default_group_id": agent.team_indexes.first().map(|t| ids::group_id(*t)),
                    "user_fields": custom_values(self, AttributeModel::Contact, &[]),
                });
                merge(&mut u, extra);
                Some(u)
            }
            UserRef::Automation => {
                let mut u = base(ids::AUTOMATION_USER);
                let at = iso(deskmove_synth::HISTORY_START);
                merge(
                    &mut u,
                    json!({
                        "name": "Sandbox Automation",
                        "email": "automation@support.example.com",
                        "phone": null,
                        "role": "agent",
                        "role_type": 1,
                        "verified": true,
                        "active": true,
                        "external_id": null,
                        "organization_id": null,
                        "tags": [],
                        "created_at": at,
                        "updated_at": at,
                        "last_login_at": null,
                        "user_fields": custom_values(self, AttributeModel::Contact, &[]),
                    }),
                );
                Some(u)
            }
            UserRef::EndUser(j) => {
                let c = self.view.contact(j)?;
                let mut u = base(ids::end_user(j));
                let name = c
                    .name
                    .clone()
                    .or_else(|| c.email.clone())
                    .unwrap_or_else(|| format!("Visitor {j}"));
                let tags: Vec<String> = c
                    .tags
                    .iter()
                    .filter_map(|t| self.view.tag(*t))
                    .map(|t| tag_word(&t.name))
                    .collect();
                merge(
                    &mut u,
                    json!({
                        "name": name,
                        "email": c.email,
                        "phone": c.phone,
                        "role": "end-user",
                        "role_type": null,
                        "verified": c.role == deskmove_synth::Role::User,
                        "active": !derive::contact_deleted(j),
                        "external_id": c.external_id,
                        "organization_id": c.company.map(ids::org_id),
                        "tags": tags,
                        "created_at": iso(c.created_at),
                        "updated_at": iso(crate::index::contact_updated_at(self.view, &c)),
                        "last_login_at": c.last_seen_at.map(iso),
                        "user_fields": custom_values(self, AttributeModel::Contact, &c.custom_attributes),
                    }),
                );
                Some(u)
            }
        }
    }

    /// A user's identities.
    pub(crate) fn identities(&self, who: UserRef) -> Option<Vec<Value>> {
        let (id, email, phone, at) = match who {
            UserRef::Agent(a) => {
                let agent = self.view.agent(a)?;
                (
                    ids::agent_user(a),
                    Some(agent.email),
                    None,
                    agent_created_at(a),
                )
            }
            UserRef::Automation => (
                ids::AUTOMATION_USER,
                Some("automation@support.example.com".to_string()),
                None,
                deskmove_synth::HISTORY_START,
            ),
            UserRef::EndUser(j) => {
                let c = self.view.contact(j)?;
                (ids::end_user(j), c.email, c.phone, c.created_at)
            }
        };
        let one = |k: u64, kind: &str, value: String, primary: bool| {
            let iid = id * IDENTITY_MULT + k;
            json!({
                "id": iid,
                "url": self.origin.api(&format!("users/{id}/identities/{iid}")),
                "user_id": id,
                "type": kind,
                "value": value,
                "primary": primary,
                "verified": true,
                "verification_method": "none",
                "deliverable_state": "deliverable",
                "undeliverable_count": 0,
                "created_at": iso(at),
                "updated_at": iso(at),
            })
        };
        let mut out = Vec::new();
        if let Some(e) = email {
            out.push(one(0, "email", e, true));
        }
        if let Some(p) = phone {
            let primary = out.is_empty();
            out.push(one(1, "phone_number", p, primary));
        }
        Some(out)
    }
}

/// Adds `extra`'s keys to `target`.
pub(crate) fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        for (k, v) in e {
            t.insert(k, v);
        }
    }
}
