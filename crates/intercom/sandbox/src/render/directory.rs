//! Admins, teams, tags, data attributes, segments and activity logs as Intercom 2.16 JSON
//! (`admin`, `team`, `tag`, `data_attribute`, `segment`, `activity_log`).

use deskmove_synth::{Agent, AttributeDef, AttributeModel, AttributeType, Tag, Team};
use serde_json::{Value, json};

use crate::derived::{ActivityLog, Segment};
use crate::render::{Render, admin_id, team_id};

impl Render<'_> {
    /// An agent as Intercom's `admin`.
    pub(crate) fn admin(&self, a: &Agent) -> Value {
        json!({
            "type": "admin",
            "id": a.id,
            "name": a.name,
            "email": a.email,
            "job_title": a.job_title,
            "away_mode_enabled": a.away,
            "away_mode_reassign": false,
            "has_inbox_seat": true,
            "team_ids": a.team_indexes.iter().map(|t| team_id(*t)).collect::<Vec<_>>(),
            "avatar": null,
        })
    }

    pub(crate) fn team(&self, t: &Team) -> Value {
        json!({
            "type": "team",
            "id": t.id,
            "name": t.name,
            "admin_ids": t.agent_indexes.iter().map(|a| admin_id(*a)).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn tag(&self, t: &Tag) -> Value {
        json!({ "type": "tag", "id": t.id, "name": t.name })
    }

    /// An attribute definition as Intercom's `data_attribute`.
    pub(crate) fn data_attribute(&self, d: &AttributeDef) -> Value {
        let model = match d.model {
            AttributeModel::Contact => "contact",
            AttributeModel::Company => "company",
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
}

impl Render<'_> {
    /// A segment; `count` only when the request asked for `include_count=true`.
    pub(crate) fn segment(&self, s: &Segment, count: Option<u64>) -> Value {
        let mut v = json!({
            "type": "segment",
            "id": s.id,
            "name": s.name,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
            "person_type": s.person_type,
        });
        if let Some(n) = count {
            v["count"] = json!(n);
        }
        v
    }

    /// An activity-log entry, performed by an admin.
    pub(crate) fn activity_log(&self, l: &ActivityLog) -> Value {
        let by = self.view.agent(l.agent);
        let metadata = match l.activity_type {
            "admin_login_success" => json!({"sign_in_method": "email_password"}),
            "admin_away_mode_change" => {
                json!({"away_mode": l.away, "reassign_conversations": false})
            }
            _ => Value::Null,
        };
        json!({
            "id": l.id,
            "performed_by": {
                "type": "admin",
                "id": by.as_ref().map(|a| a.id.clone()),
                "email": by.map(|a| a.email),
                "ip": "127.0.0.1",
            },
            "metadata": metadata,
            "created_at": l.created_at,
            "activity_type": l.activity_type,
            "activity_description": l.description,
        })
    }
}
